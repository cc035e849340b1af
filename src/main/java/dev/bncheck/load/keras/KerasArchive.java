package dev.bncheck.load.keras;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.JavaHeap;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The members of a Keras 3 archive ({@code .keras}, a ZIP file) that bncheck reads, read into
 * memory: nothing is extracted to disk. An entry whose name could escape a folder it were
 * extracted to is refused, although bncheck extracts nothing, because no tool writes one and
 * Keras itself would write it out; each member's size is bounded by its limit, by the archive's
 * size and by deflate's greatest ratio before it is read, and again while it is read.
 *
 * @param metadata metadata.json, or null when the archive has none
 */
record KerasArchive(byte[] config, byte[] metadata, byte[] weights) {

  static final String CONFIG = "config.json";
  static final String METADATA = "metadata.json";
  static final String WEIGHTS = "model.weights.h5";

  static KerasArchive read(Path input) {
    String file = input.toString();
    try (ZipFile zip = open(input)) {
      Map<String, ZipEntry> entries = entries(zip, file);
      long archiveSize = Files.size(input);
      ZipEntry config = entries.get(CONFIG);
      ZipEntry weights = entries.get(WEIGHTS);
      if (config == null || weights == null) {
        throw new InvalidInputException(file, config == null ? CONFIG : WEIGHTS, "missing from the archive;"
            + " a Keras 3 .keras file holds config.json and model.weights.h5 (model.save(\"model.keras\"))");
      }
      ZipEntry metadata = entries.get(METADATA);
      return new KerasArchive(
          member(zip, config, KerasLimits.MAX_CONFIG_BYTES, archiveSize, file),
          metadata == null ? null : member(zip, metadata, KerasLimits.MAX_METADATA_BYTES, archiveSize, file),
          member(zip, weights, KerasLimits.MAX_WEIGHTS_BYTES, archiveSize, file));
    } catch (IOException e) {
      throw new InvalidInputException(file, "", "cannot read the archive: " + e.getMessage(), e);
    }
  }

  private static ZipFile open(Path input) {
    try {
      return new ZipFile(input.toFile());
    } catch (IOException | RuntimeException e) {
      throw new InvalidInputException(input.toString(), "", "not a valid .keras file (a ZIP archive): "
          + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
    }
  }

  private static Map<String, ZipEntry> entries(ZipFile zip, String file) {
    Map<String, ZipEntry> entries = new HashMap<>();
    try {
      Enumeration<? extends ZipEntry> all = zip.entries();
      while (all.hasMoreElements()) {
        ZipEntry entry = all.nextElement();
        String name = entry.getName();
        if (escapes(name)) {
          throw new InvalidInputException(file, "entry " + printable(name), "a path that leaves the archive's"
              + " folder (absolute, or with ..); refused");
        }
        if (entries.put(name, entry) != null) {
          throw new InvalidInputException(file, "entry " + printable(name), "appears twice in the archive");
        }
        if (entries.size() > KerasLimits.MAX_ARCHIVE_ENTRIES) {
          throw new InvalidInputException(file, "", "more than " + KerasLimits.MAX_ARCHIVE_ENTRIES
              + " entries; a Keras archive holds a few");
        }
      }
    } catch (IllegalArgumentException e) {
      // ZipFile reports a malformed central directory (such as an undecodable name) this way
      throw new InvalidInputException(file, "", "corrupt ZIP archive: " + e.getMessage());
    }
    return entries;
  }

  static boolean escapes(String name) {
    String n = name.replace('\\', '/');
    if (n.startsWith("/") || n.indexOf('\0') >= 0 || (n.length() > 1 && n.charAt(1) == ':')) {
      return true;
    }
    for (String part : n.split("/")) {
      if (part.equals("..")) {
        return true;
      }
    }
    return false;
  }

  private static byte[] member(ZipFile zip, ZipEntry entry, long limit, long archiveSize, String file)
      throws IOException {
    String where = printable(entry.getName());
    long size = entry.getSize();
    long compressed = entry.getCompressedSize();
    if (size < 0 || compressed < 0) {
      throw new InvalidInputException(file, where, "corrupt ZIP archive: the member's size is not recorded");
    }
    boolean stored = entry.getMethod() == ZipEntry.STORED;
    if (compressed > archiveSize || (stored ? size != compressed : size > compressed * KerasLimits.MAX_DEFLATE_RATIO)) {
      throw new InvalidInputException(file, where, "corrupt ZIP archive: declares " + size + " bytes from "
          + compressed + " compressed bytes in an archive of " + archiveSize);
    }
    if (size > limit) {
      throw new InvalidInputException(file, where, "declares " + size + " bytes; bncheck reads at most " + limit);
    }
    if (!JavaHeap.fits(2 * size)) {
      throw new InvalidInputException(file, where, "a member of " + size + " bytes " + JavaHeap.tooLarge(2 * size));
    }
    byte[] bytes = new byte[(int) size];
    try (InputStream in = zip.getInputStream(entry)) {
      int read = in.readNBytes(bytes, 0, bytes.length);
      if (read != size || in.read() != -1) {
        throw new InvalidInputException(file, where, "corrupt ZIP archive: the member's data does not match"
            + " its declared size of " + size + " bytes");
      }
    } catch (java.util.zip.ZipException e) {
      throw new InvalidInputException(file, where, "corrupt ZIP archive: " + e.getMessage());
    }
    // Keras stores its members uncompressed, and Java checks no checksum of a stored member: a
    // changed byte in a weight would otherwise pass as the model's value.
    CRC32 crc = new CRC32();
    crc.update(bytes);
    if (entry.getCrc() != -1 && crc.getValue() != entry.getCrc()) {
      throw new InvalidInputException(file, where, "corrupt ZIP archive: the member's CRC-32 does not match its data");
    }
    return bytes;
  }

  /** An entry name as messages show it: a hostile name may carry any character. */
  private static String printable(String name) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < name.length() && out.length() < 120; i++) {
      char c = name.charAt(i);
      out.append(c < 0x20 || c == 0x7f ? '?' : c);
    }
    return name.length() > 120 ? out + "..." : out.toString();
  }
}
