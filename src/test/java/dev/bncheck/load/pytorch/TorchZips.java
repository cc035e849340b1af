package dev.bncheck.load.pytorch;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/** Builds torch.save-shaped zip archives and hand-written pickles for tests of what a hostile file can hold. */
final class TorchZips {

  private TorchZips() {}

  /** The entries of a real checkpoint, in order. */
  static Map<String, byte[]> entries(Path checkpoint) {
    Map<String, byte[]> out = new LinkedHashMap<>();
    try (ZipFile zip = new ZipFile(checkpoint.toFile())) {
      for (ZipEntry e : java.util.Collections.list(zip.entries())) {
        out.put(e.getName(), zip.getInputStream(e).readAllBytes());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /** An archive of the entries, stored uncompressed as torch.save stores them. */
  static byte[] stored(Map<String, byte[]> entries) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      for (Map.Entry<String, byte[]> e : entries.entrySet()) {
        ZipEntry entry = new ZipEntry(e.getKey());
        entry.setMethod(ZipEntry.STORED);
        entry.setSize(e.getValue().length);
        CRC32 crc = new CRC32();
        crc.update(e.getValue());
        entry.setCrc(crc.getValue());
        zip.putNextEntry(entry);
        zip.write(e.getValue());
        zip.closeEntry();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** An archive of the entries, deflated. */
  static byte[] deflated(Map<String, byte[]> entries) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      for (Map.Entry<String, byte[]> e : entries.entrySet()) {
        zip.putNextEntry(new ZipEntry(e.getKey()));
        zip.write(e.getValue());
        zip.closeEntry();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static Path write(Path file, byte[] bytes) {
    try {
      return Files.write(file, bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Sets the sizes the central directory declares for an entry (and, if stored, the compressed
   * size too), as a crafted file would: the data stays as it was.
   */
  static byte[] declareSize(byte[] zip, String name, long size, boolean compressedToo) {
    byte[] out = zip.clone();
    ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
    byte[] wanted = name.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i + 46 < out.length; i++) {
      if (b.getInt(i) == 0x02014b50 && (b.getShort(i + 28) & 0xffff) == wanted.length
          && java.util.Arrays.equals(java.util.Arrays.copyOfRange(out, i + 46, i + 46 + wanted.length), wanted)) {
        b.putInt(i + 24, (int) size);
        if (compressedToo) {
          b.putInt(i + 20, (int) size);
        }
        return out;
      }
    }
    throw new IllegalArgumentException("no central directory entry " + name);
  }

  /** Writes pickle opcodes (protocol 2) by hand. */
  static final class Pickle {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Pickle() {
      op(0x80).op(2);
    }

    Pickle op(int code) {
      out.write(code);
      return this;
    }

    Pickle text(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      op('X').int32(b.length);
      out.writeBytes(b);
      return this;
    }

    Pickle global(String module, String name) {
      op('c');
      out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
      return this;
    }

    Pickle integer(long v) {
      op('J').int32((int) v);
      return this;
    }

    Pickle int32(int v) {
      out.write(v);
      out.write(v >>> 8);
      out.write(v >>> 16);
      out.write(v >>> 24);
      return this;
    }

    Pickle tuple(long... values) {
      op('(');
      for (long v : values) {
        integer(v);
      }
      return op('t');
    }

    /** {@code _rebuild_tensor_v2(storage KEY of NUMEL floats, offset, size, stride, False, OrderedDict())}. */
    Pickle tensor(String key, long numel, long offset, long[] size, long[] stride) {
      global("torch._utils", "_rebuild_tensor_v2").op('(');
      op('(').text("storage").global("torch", "FloatStorage").text(key).text("cpu").integer(numel).op('t').op('Q');
      integer(offset).tuple(size).tuple(stride).op(0x89).global("collections", "OrderedDict").op(')').op('R');
      return op('t').op('R');
    }

    Pickle raw(String text) {
      out.writeBytes(text.getBytes(StandardCharsets.UTF_8));
      return this;
    }

    /** The bytes so far, without STOP: a truncated pickle. */
    byte[] bytes() {
      return out.toByteArray();
    }

    byte[] stop() {
      op('.');
      return out.toByteArray();
    }
  }

  /**
   * A state_dict of one BN layer {@code bn} whose running_mean is the given view of storage 0 and
   * running_var storage 1, which holds at most 2^20 ones (as many as it declares).
   */
  static Map<String, byte[]> oneLayer(long numel, long offset, long[] size, long[] stride, float... values) {
    byte[] pickle = new Pickle().op('}').op('(').text("bn.running_mean").tensor("0", numel, offset, size, stride)
        .text("bn.running_var").tensor("1", Math.min(size[0], 1 << 20), 0, new long[] {size[0]}, new long[] {1})
        .op('u').stop();
    ByteBuffer floats = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      floats.putFloat(v);
    }
    ByteBuffer ones = ByteBuffer.allocate(4 * (int) Math.min(size[0], 1 << 20)).order(ByteOrder.LITTLE_ENDIAN);
    while (ones.hasRemaining()) {
      ones.putFloat(1f);
    }
    Map<String, byte[]> entries = new LinkedHashMap<>();
    entries.put("m/data.pkl", pickle);
    entries.put("m/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
    entries.put("m/data/0", floats.array());
    entries.put("m/data/1", ones.array());
    return entries;
  }
}
