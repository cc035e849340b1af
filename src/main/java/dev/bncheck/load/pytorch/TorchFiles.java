package dev.bncheck.load.pytorch;

import dev.bncheck.load.InvalidInputException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/** Recognises PyTorch's files by name or by their first bytes, without reading them. */
final class TorchFiles {

  /** What recalibrate's refusal of a PyTorch checkpoint or safetensors file points to instead. */
  static final String RECALIBRATE_INSTEAD = "from a PyTorch checkpoint write a dump with scripts/bn_dump_pytorch.py"
      + " (docs/exporters.md) and recalibrate that";

  /**
   * How torch.save began a file before PyTorch 1.6: a pickled magic number, the long
   * 0x1950a86a20f9469cfc6c ({@code \x80\x02\x8a\x0a} and its ten bytes, little-endian).
   */
  private static final byte[] LEGACY_MAGIC = {(byte) 0x80, 0x02, (byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc, (byte) 0x9c,
      0x46, (byte) 0xf9, 0x20, 0x6a, (byte) 0xa8, 0x50, 0x19};

  private static final int HEAD = 30 + 256;

  private TorchFiles() {}

  /** A {@code .pt}/{@code .pth} file, or one whose first bytes are a torch.save archive's or a legacy file's. */
  static boolean looksLikeTorchSave(Path input) {
    if (!Files.isRegularFile(input)) {
      return false;
    }
    String name = input.getFileName().toString().toLowerCase(Locale.ROOT);
    byte[] head = head(input);
    if (name.endsWith(".pt") || name.endsWith(".pth")) {
      return !isSafetensors(head);
    }
    return isLegacy(head) || firstZipEntry(head).matches("[^/]+/data\\.pkl");
  }

  /** A .safetensors file, or one whose content is safetensors whatever its name (weights saved as .pth). */
  static boolean looksLikeSafetensors(Path input) {
    return Files.isRegularFile(input) && (input.getFileName().toString().toLowerCase(Locale.ROOT)
        .endsWith(".safetensors") || isSafetensors(head(input)));
  }

  /**
   * A safetensors header: an 8-byte little-endian length, then a JSON object. Neither a zip
   * archive (PK) nor a pickle (0x80) starts so: their first bytes as a length are far beyond any
   * header.
   */
  private static boolean isSafetensors(byte[] head) {
    if (head.length < 9) {
      return false;
    }
    long length = java.nio.ByteBuffer.wrap(head, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
    return length > 1 && length <= TorchLimits.MAX_SAFETENSORS_HEADER_BYTES && head[8] == '{';
  }

  /**
   * Refuses what is not a zip archive: a torch.save file from before PyTorch 1.6 (its own format of
   * pickles and raw storages) or any other pickle.
   */
  static void requireZip(Path input) {
    byte[] head = head(input);
    if (head.length >= 4 && head[0] == 'P' && head[1] == 'K') {
      return;
    }
    if (isLegacy(head)) {
      throw new InvalidInputException(input.toString(), "", "a torch.save file in the format before PyTorch 1.6,"
          + " which bncheck does not read: load it and save it again with a current PyTorch"
          + " (torch.save(torch.load(path, map_location=\"cpu\", weights_only=True), new_path))");
    }
    if (head.length > 0 && (head[0] & 0xff) == 0x80) {
      throw new InvalidInputException(input.toString(), "", "a bare pickle, not a torch.save archive; bncheck reads"
          + " the zip files torch.save writes (PyTorch 1.6 and later)");
    }
    throw new InvalidInputException(input.toString(), "", "not a torch.save file: it is not a zip archive");
  }

  private static boolean isLegacy(byte[] head) {
    return head.length >= LEGACY_MAGIC.length
        && Arrays.equals(Arrays.copyOf(head, LEGACY_MAGIC.length), LEGACY_MAGIC);
  }

  /** The name in the zip's first local header, or empty. */
  private static String firstZipEntry(byte[] head) {
    if (head.length < 30 || head[0] != 'P' || head[1] != 'K' || head[2] != 3 || head[3] != 4) {
      return "";
    }
    int length = (head[26] & 0xff) | (head[27] & 0xff) << 8;
    return 30 + length <= head.length ? new String(head, 30, length, StandardCharsets.UTF_8) : "";
  }

  private static byte[] head(Path input) {
    try (InputStream in = Files.newInputStream(input)) {
      return in.readNBytes(HEAD);
    } catch (IOException e) {
      return new byte[0];
    }
  }
}
