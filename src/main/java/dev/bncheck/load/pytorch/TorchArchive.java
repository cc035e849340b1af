package dev.bncheck.load.pytorch;

import dev.bncheck.load.InvalidInputException;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * A torch.save file in the zip format of PyTorch 1.6 and later: {@code NAME/data.pkl}, the
 * pickle, and {@code NAME/data/KEY}, the raw bytes of each storage. Nothing is extracted; every
 * name is still checked, so that a file crafted for a tool that does extract is refused here too,
 * and every size a header declares is checked before anything is read or inflated.
 */
final class TorchArchive implements Closeable {

  private static final String PICKLE = "data.pkl";

  private final String file;
  private final ZipFile zip;
  private final Map<String, ZipEntry> entries;
  private final String prefix;
  private final ByteOrder order;

  private TorchArchive(String file, ZipFile zip, Map<String, ZipEntry> entries, String prefix, ByteOrder order) {
    this.file = file;
    this.zip = zip;
    this.entries = entries;
    this.prefix = prefix;
    this.order = order;
  }

  static TorchArchive open(Path path) {
    String file = path.toString();
    ZipFile zip;
    long size;
    try {
      size = Files.size(path);
      zip = new ZipFile(path.toFile());
    } catch (ZipException e) {
      throw new InvalidInputException(file, "", "not a readable zip archive (" + e.getMessage()
          + "); a torch.save file from PyTorch 1.6 or later is one, so this one is truncated or damaged");
    } catch (IOException e) {
      throw new InvalidInputException(file, "", "cannot read: " + e.getMessage(), e);
    }
    try {
      Map<String, ZipEntry> entries = entries(file, zip, size);
      String prefix = prefix(file, entries);
      return new TorchArchive(file, zip, entries, prefix, byteOrder(file, zip, entries, prefix));
    } catch (RuntimeException e) {
      closeQuietly(zip);
      throw e;
    }
  }

  /** The pickle's name in the archive, for messages. */
  String pickleName() {
    return prefix + PICKLE;
  }

  /** The pickle, read whole after checking its declared size. */
  byte[] pickle() {
    return readWhole(file, zip, entries.get(pickleName()), TorchLimits.MAX_PICKLE_BYTES);
  }

  /**
   * What a persistent id in the pickle stands for: {@code ('storage', torch.FloatStorage, key,
   * location, numel)}, a storage in {@code data/KEY}.
   */
  Storage storage(PyTuple id) {
    String at = pickleName();
    if (id.size() != 5 || !"storage".equals(id.get(0)) || !(id.get(1) instanceof PyGlobal type)
        || !(id.get(2) instanceof String key) || !(id.get(4) instanceof Long elements) || elements < 0) {
      throw new InvalidInputException(file, at, "a persistent id that is not ('storage', type, key, location, numel)");
    }
    TorchDtype dtype = TorchDtype.ofStorage(type.module(), type.name()).orElseThrow(() ->
        new InvalidInputException(file, at, "storage type " + type.qualifiedName() + " is not one bncheck reads"
            + " (float32, float64, float16, bfloat16 and integer storages)"));
    // torch.save numbers its storages; anything else is a damaged or forged pickle, and is kept
    // out of the message, which quotes the key
    if (!key.matches("[A-Za-z0-9._-]{1,64}")) {
      throw new InvalidInputException(file, at, "a storage key that is no plain name (" + key.length()
          + " characters; torch.save numbers its storages)");
    }
    String name = prefix + "data/" + key;
    ZipEntry entry = entries.get(name);
    if (entry == null) {
      throw new InvalidInputException(file, name, "missing: the pickle refers to storage " + key
          + ", which the archive does not hold");
    }
    // torch.save writes exactly numel elements: another length is a damaged or forged file, whose
    // declared numel would otherwise bound the views read from bytes it does not describe
    if (entry.getSize() >= 0 && (elements > Long.MAX_VALUE / dtype.bytes() || entry.getSize() != elements * dtype.bytes())) {
      throw new InvalidInputException(file, name, "holds " + entry.getSize() + " bytes, but the pickle declares "
          + elements + " " + dtype.name().toLowerCase(java.util.Locale.ROOT) + " elements of "
          + dtype.bytes() + " bytes for it");
    }
    return new Storage(file, dtype, elements, new EntryBytes(name, entry), name);
  }

  private static ByteOrder byteOrder(String file, ZipFile zip, Map<String, ZipEntry> entries, String prefix) {
    ZipEntry entry = entries.get(prefix + "byteorder");
    if (entry == null) {
      return ByteOrder.LITTLE_ENDIAN; // written since PyTorch 1.12; older files come from little-endian machines
    }
    String order = new String(readWhole(file, zip, entry, 16), StandardCharsets.US_ASCII).trim();
    return switch (order) {
      case "little" -> ByteOrder.LITTLE_ENDIAN;
      case "big" -> ByteOrder.BIG_ENDIAN;
      default -> throw new InvalidInputException(file, prefix + "byteorder", "is '" + order
          + "', expected 'little' or 'big'");
    };
  }

  /** The next entry; ZipFile reports a malformed central directory (an undecodable name) as an IllegalArgumentException. */
  private static ZipEntry next(String file, Enumeration<? extends ZipEntry> all) {
    try {
      return all.nextElement();
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException(file, "", "corrupt zip archive: " + e.getMessage());
    }
  }

  private static Map<String, ZipEntry> entries(String file, ZipFile zip, long fileSize) {
    Map<String, ZipEntry> entries = new HashMap<>();
    Enumeration<? extends ZipEntry> all = zip.entries();
    while (all.hasMoreElements()) {
      ZipEntry e = next(file, all);
      String name = e.getName();
      if (entries.size() >= TorchLimits.MAX_ENTRIES) {
        throw new InvalidInputException(file, "", "more than " + TorchLimits.MAX_ENTRIES + " entries");
      }
      if (unsafeName(name)) {
        throw new InvalidInputException(file, "entry " + printable(name), "an absolute path or one that leaves the"
            + " archive (.., a drive letter or a backslash); a torch.save archive has none");
      }
      if (entries.putIfAbsent(name, e) != null) {
        throw new InvalidInputException(file, "entry " + printable(name), "appears twice; readers would disagree on"
            + " which one counts");
      }
      long declared = e.getSize();
      if (declared > TorchLimits.MAX_ENTRY_BYTES
          || (e.getMethod() == ZipEntry.STORED && declared > fileSize)) {
        throw new InvalidInputException(file, "entry " + printable(name), "declares " + declared + " bytes"
            + (e.getMethod() == ZipEntry.STORED ? " stored in a file of " + fileSize : "")
            + "; refused before reading");
      }
    }
    return entries;
  }

  /** The archive's folder, {@code NAME/}, found by its one {@code NAME/data.pkl}. */
  private static String prefix(String file, Map<String, ZipEntry> entries) {
    String found = null;
    boolean torchScript = false;
    for (String name : entries.keySet()) {
      int slash = name.indexOf('/');
      if (slash < 0 || name.indexOf('/', slash + 1) >= 0) {
        continue;
      }
      String rest = name.substring(slash + 1);
      if (rest.equals(PICKLE)) {
        if (found != null) {
          throw new InvalidInputException(file, "", "holds two pickles, " + found + PICKLE + " and " + name
              + "; a torch.save archive holds one");
        }
        found = name.substring(0, slash + 1);
      }
      torchScript |= rest.equals("constants.pkl");
    }
    if (torchScript) {
      throw new InvalidInputException(file, "", "a TorchScript archive (torch.jit.save), which holds code; bncheck"
          + " reads torch.save checkpoints: save the weights with torch.save(model.state_dict(), path)");
    }
    if (found == null) {
      throw new InvalidInputException(file, "", "a zip archive without NAME/" + PICKLE + ", so not a torch.save"
          + " checkpoint");
    }
    return found;
  }

  private static boolean unsafeName(String name) {
    if (name.isEmpty() || name.startsWith("/") || name.contains("\\") || name.indexOf('\0') >= 0
        || (name.length() > 1 && name.charAt(1) == ':')) {
      return true;
    }
    for (String part : name.split("/", -1)) {
      if (part.equals("..")) {
        return true;
      }
    }
    return false;
  }

  private static String printable(String name) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      s.append(c < 0x20 || c == 0x7f ? '?' : c);
      if (s.length() > 200) {
        return s + "...";
      }
    }
    return s.toString();
  }

  /** An entry read whole, refusing one that declares or inflates to more than {@code limit} bytes. */
  private static byte[] readWhole(String file, ZipFile zip, ZipEntry entry, int limit) {
    String name = entry.getName();
    long declared = entry.getSize();
    if (declared > limit) {
      throw new InvalidInputException(file, name, "declares " + declared + " bytes, more than the " + limit
          + " bncheck reads; refused before reading");
    }
    int expected = (int) Math.max(declared, 0);
    try (InputStream in = zip.getInputStream(entry)) {
      byte[] bytes = in.readNBytes(declared < 0 ? limit + 1 : expected + 1);
      if (bytes.length > (declared < 0 ? limit : expected)) {
        throw new InvalidInputException(file, name, "inflates to more than " + (declared < 0 ? "the " + limit
            + " bytes bncheck reads" : "its declared " + declared + " bytes") + "; refused");
      }
      if (declared >= 0 && bytes.length < declared) {
        throw new InvalidInputException(file, name, "ends after " + bytes.length + " of its " + declared + " bytes");
      }
      // java.util.zip checks the CRC of deflated entries only; torch.save stores its entries
      CRC32 crc = new CRC32();
      crc.update(bytes);
      if (entry.getCrc() != -1 && crc.getValue() != entry.getCrc()) {
        throw new InvalidInputException(file, name, String.format("damaged: its CRC-32 is %08x, the archive records"
            + " %08x", crc.getValue(), entry.getCrc()));
      }
      return bytes;
    } catch (ZipException e) {
      throw new InvalidInputException(file, name, "damaged: " + e.getMessage());
    } catch (IOException e) {
      throw new InvalidInputException(file, name, "cannot read: " + e.getMessage(), e);
    }
  }

  /** One storage entry, read in the ranges tensors need. */
  private final class EntryBytes implements StorageBytes {
    private final String name;
    private final ZipEntry entry;

    EntryBytes(String name, ZipEntry entry) {
      this.name = name;
      this.entry = entry;
    }

    @Override
    public long length() {
      return Math.max(entry.getSize(), 0);
    }

    @Override
    public ByteBuffer read(long from, int count) {
      if (entry.getSize() >= 0 && entry.getSize() <= TorchLimits.MAX_SPAN_BYTES) {
        // a storage small enough is read whole, so that its CRC-32 is checked
        return ByteBuffer.wrap(readWhole(file, zip, entry, TorchLimits.MAX_SPAN_BYTES), (int) from, count)
            .slice().order(order);
      }
      try (InputStream in = zip.getInputStream(entry)) {
        in.skipNBytes(from);
        byte[] bytes = in.readNBytes(count);
        if (bytes.length < count) {
          throw new InvalidInputException(file, name, "ends before byte " + (from + count) + " of its declared "
              + entry.getSize());
        }
        return ByteBuffer.wrap(bytes).order(order);
      } catch (java.io.EOFException e) {
        throw new InvalidInputException(file, name, "ends before byte " + from + " of its declared " + entry.getSize());
      } catch (ZipException e) {
        throw new InvalidInputException(file, name, "damaged: " + e.getMessage());
      } catch (IOException e) {
        throw new InvalidInputException(file, name, "cannot read: " + e.getMessage(), e);
      }
    }
  }

  @Override
  public void close() {
    closeQuietly(zip);
  }

  private static void closeQuietly(ZipFile zip) {
    try {
      zip.close();
    } catch (IOException e) {
      // nothing was written; a failed close of a file opened for reading loses nothing
    }
  }
}
