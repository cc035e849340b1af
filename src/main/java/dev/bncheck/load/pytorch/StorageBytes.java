package dev.bncheck.load.pytorch;

import java.nio.ByteBuffer;

/** The raw bytes of one storage, read only where a tensor bncheck needs lies. */
interface StorageBytes {

  /** The bytes the storage holds. */
  long length();

  /**
   * Reads {@code count} bytes from {@code from}, which the caller has checked against
   * {@link #length()}.
   *
   * @throws dev.bncheck.load.InvalidInputException when the file ends early or cannot be read
   */
  ByteBuffer read(long from, int count);
}
