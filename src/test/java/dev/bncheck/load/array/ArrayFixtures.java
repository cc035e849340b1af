package dev.bncheck.load.array;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** The files of src/test/resources/arrays/ (see its README) and hand-made .npy and .npz bytes. */
final class ArrayFixtures {

  private ArrayFixtures() {}

  static Path fixture(String name) {
    URL url = ArrayFixtures.class.getResource("/arrays/" + name);
    if (url == null) {
      throw new IllegalArgumentException("no fixture " + name + "; run make_arrays.py");
    }
    try {
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] bytes(String name) {
    try {
      return Files.readAllBytes(fixture(name));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A version 1.0 .npy file with the given header dict (padded as numpy pads it) and data. */
  static byte[] npy(String dict, byte[] data) {
    return npy(1, dict, data);
  }

  static byte[] npy(int major, String dict, byte[] data) {
    int prelude = major == 1 ? 10 : 12;
    StringBuilder header = new StringBuilder(dict);
    while ((prelude + header.length() + 1) % 64 != 0) {
      header.append(' ');
    }
    header.append('\n');
    byte[] text = header.toString().getBytes(StandardCharsets.ISO_8859_1);
    ByteBuffer out = ByteBuffer.allocate(prelude + text.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    out.put(NpyHeader.MAGIC).put((byte) major).put((byte) 0);
    if (major == 1) {
      out.putShort((short) text.length);
    } else {
      out.putInt(text.length);
    }
    return out.put(text).put(data).array();
  }

  static byte[] littleEndianFloats(float... values) {
    ByteBuffer out = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      out.putFloat(v);
    }
    return out.array();
  }

  /** A ZIP archive of the given members (name, bytes, name, bytes, ...), deflated or stored. */
  static byte[] zip(boolean deflate, Object... namesAndBytes) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      for (int i = 0; i < namesAndBytes.length; i += 2) {
        byte[] content = (byte[]) namesAndBytes[i + 1];
        ZipEntry entry = new ZipEntry((String) namesAndBytes[i]);
        if (!deflate) {
          entry.setMethod(ZipEntry.STORED);
          entry.setSize(content.length);
          entry.setCompressedSize(content.length);
          CRC32 crc = new CRC32();
          crc.update(content);
          entry.setCrc(crc.getValue());
        }
        zip.putNextEntry(entry);
        zip.write(content);
        zip.closeEntry();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }
}
