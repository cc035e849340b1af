package dev.bncheck.load.array;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.model.Tensor;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Reads a NumPy .npz file: a ZIP archive of .npy members, stored ({@code np.savez}) or deflated
 * ({@code np.savez_compressed}). Each array is named after its member without {@code .npy}.
 * Members are read as {@link NpyReader} reads files, their sizes bounded first by the archive's
 * own (a member's compressed bytes lie within it, and deflate expands them at most 1032-fold);
 * errors name the member ({@code data.npz: images.npy: ...}).
 */
public final class NpzReader {

  private static final String SUFFIX = ".npy";

  /** Deflate cannot expand data more than 1032-fold; a larger claim is a corrupt or forged size. */
  private static final long MAX_DEFLATE_RATIO = 1032;

  private static final long MAX_MEMBER_BYTES =
      12 + NpyHeader.MAX_HEADER_LENGTH + Tensor.MAX_ELEMENTS * 8;

  private NpzReader() {}

  /**
   * Reads every array, in the order of the archive.
   *
   * @return the arrays by name, in archive order (unmodifiable)
   * @throws InvalidInputException when the file is missing, not a ZIP archive, corrupt, holds a
   *     member that is not a readable .npy array, or holds two members of the same name
   */
  public static Map<String, Tensor> read(Path file) {
    Map<String, Tensor> arrays = new LinkedHashMap<>();
    read(file, false).forEach((name, array) -> arrays.put(name, ((InputArray.Numbers) array).tensor()));
    return Collections.unmodifiableMap(arrays);
  }

  /**
   * Reads every array, numbers or strings, in the order of the archive.
   *
   * @return the arrays by name, in archive order (unmodifiable)
   * @throws InvalidInputException as {@link #read} does, strings apart
   */
  public static Map<String, InputArray> readInputs(Path file) {
    return read(file, true);
  }

  private static Map<String, InputArray> read(Path file, boolean strings) {
    ArraySource source = ArraySource.of(file.toString());
    try (ZipFile zip = open(file, source)) {
      Map<String, InputArray> arrays = new LinkedHashMap<>();
      long archiveSize = Files.size(file);
      for (ZipEntry entry : members(zip, source)) {
        arrays.put(arrayName(entry), readMember(zip, entry, archiveSize, memberSource(source, entry), strings));
      }
      return Collections.unmodifiableMap(arrays);
    } catch (IOException e) {
      throw source.readFailed("", e);
    }
  }

  /**
   * The names of the arrays, in archive order, from the archive's directory alone.
   *
   * @throws InvalidInputException as {@link #read} does for the archive itself
   */
  public static List<String> arrayNames(Path file) {
    ArraySource source = ArraySource.of(file.toString());
    try (ZipFile zip = open(file, source)) {
      return members(zip, source).stream().map(NpzReader::arrayName).toList();
    } catch (IOException e) {
      throw source.readFailed("", e);
    }
  }

  private static ZipFile open(Path file, ArraySource source) {
    if (!Files.exists(file)) {
      throw source.error("", "no such file or directory");
    }
    if (Files.isDirectory(file)) {
      throw source.error("", "is a directory, not an .npz file");
    }
    try {
      return new ZipFile(file.toFile());
    } catch (IOException | RuntimeException e) {
      throw source.error("", "not a valid .npz file (ZIP archive): " + reason(e));
    }
  }

  /** The .npy members in archive order, directories skipped, names checked. */
  private static List<ZipEntry> members(ZipFile zip, ArraySource source) {
    List<ZipEntry> members = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    try {
      Enumeration<? extends ZipEntry> entries = zip.entries();
      while (entries.hasMoreElements()) {
        ZipEntry entry = entries.nextElement();
        if (entry.isDirectory()) {
          continue;
        }
        ArraySource member = memberSource(source, entry);
        if (!entry.getName().endsWith(SUFFIX) || entry.getName().length() == SUFFIX.length()) {
          throw member.error("", "not a .npy array; an .npz file holds only NAME.npy members");
        }
        if (!seen.add(entry.getName())) {
          throw member.error("", "appears twice in the archive");
        }
        members.add(entry);
      }
    } catch (IllegalArgumentException e) {
      // ZipFile reports a malformed central directory (such as an undecodable name) this way.
      throw source.error("", "corrupt ZIP archive: " + reason(e));
    }
    return members;
  }

  private static String arrayName(ZipEntry entry) {
    String name = entry.getName();
    return name.substring(0, name.length() - SUFFIX.length());
  }

  /** A member as messages name it: its name as the archive holds it may carry any character. */
  private static ArraySource memberSource(ArraySource archive, ZipEntry entry) {
    return archive.in(PythonLiteral.abbreviate(entry.getName()));
  }

  private static InputArray readMember(ZipFile zip, ZipEntry entry, long archiveSize, ArraySource member,
      boolean strings) {
    long size = entry.getSize();
    long compressed = entry.getCompressedSize();
    if (size < 0 || compressed < 0) {
      throw member.error("", "corrupt ZIP archive: the member's size is not recorded");
    }
    // The sizes below bound the member only if the compressed size is itself bounded by real bytes.
    if (compressed > archiveSize) {
      throw member.error(
          "", "corrupt ZIP archive: claims " + compressed + " compressed bytes, more than the archive's " + archiveSize);
    }
    if (size > MAX_MEMBER_BYTES) {
      throw member.error("", "claims " + size + " bytes, more than any array bncheck can read");
    }
    if (entry.getMethod() == ZipEntry.DEFLATED && size > compressed * MAX_DEFLATE_RATIO + 1024) {
      throw member.error(
          "",
          "corrupt ZIP archive: claims " + size + " bytes uncompressed from " + compressed
              + ", more than deflate can produce");
    }
    if (entry.getMethod() == ZipEntry.STORED && size != compressed) {
      throw member.error(
          "", "corrupt ZIP archive: a stored member of " + compressed + " bytes claims " + size);
    }
    try (InputStream in = zip.getInputStream(entry)) {
      return NpyReader.read(Channels.newChannel(in), size, member, strings);
    } catch (IOException e) {
      throw member.error("", "corrupt ZIP archive: " + reason(e));
    }
  }

  /** ZipFile's own wording; some of its exceptions (an early end of file) carry none. */
  private static String reason(Exception e) {
    if (e.getMessage() != null) {
      return e.getMessage();
    }
    return e instanceof EOFException ? "unexpected end of file" : e.getClass().getSimpleName();
  }
}
