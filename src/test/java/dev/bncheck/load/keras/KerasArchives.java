package dev.bncheck.load.keras;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/** Variants of a committed .keras archive, written for one test: members changed, added or removed. */
final class KerasArchives {

  private KerasArchives() {}

  /** The members of a committed archive, in order. */
  static Map<String, byte[]> members(String fixture) throws IOException {
    Map<String, byte[]> members = new LinkedHashMap<>();
    try (ZipFile zip = new ZipFile(KerasFixtures.file(fixture).toFile())) {
      for (ZipEntry e : java.util.Collections.list(zip.entries())) {
        members.put(e.getName(), zip.getInputStream(e).readAllBytes());
      }
    }
    return members;
  }

  /** The fixture with its config.json changed by {@code edit}. */
  static Path withConfig(String fixture, Path to, UnaryOperator<String> edit) throws IOException {
    Map<String, byte[]> members = members(fixture);
    String config = new String(members.get("config.json"), StandardCharsets.UTF_8);
    String edited = edit.apply(config);
    if (edited.equals(config)) {
      throw new IllegalArgumentException("the edit changed nothing");
    }
    members.put("config.json", edited.getBytes(StandardCharsets.UTF_8));
    return write(members, to);
  }

  static Path write(Map<String, byte[]> members, Path to) throws IOException {
    Files.write(to, zip(members));
    return to;
  }

  static byte[] zip(Map<String, byte[]> members) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream out = new ZipOutputStream(bytes)) {
      for (var member : members.entrySet()) {
        out.putNextEntry(new ZipEntry(member.getKey()));
        out.write(member.getValue());
        out.closeEntry();
      }
    }
    return bytes.toByteArray();
  }
}
