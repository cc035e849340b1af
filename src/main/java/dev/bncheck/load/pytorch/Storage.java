package dev.bncheck.load.pytorch;

/**
 * A storage a tensor views: its element type, the length its reference declares, and its bytes.
 *
 * @param file the checkpoint, for messages
 * @param where the storage in the file, for messages ({@code data/4}, or a safetensors name)
 */
record Storage(String file, TorchDtype dtype, long elements, StorageBytes bytes, String where) {}
