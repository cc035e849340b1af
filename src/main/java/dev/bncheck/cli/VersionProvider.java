package dev.bncheck.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine;

/** The version Maven wrote into the build. */
public final class VersionProvider implements CommandLine.IVersionProvider {

  public static String version() {
    try (InputStream in = VersionProvider.class.getResourceAsStream("/dev/bncheck/version.properties")) {
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public String[] getVersion() {
    return new String[] {"bncheck " + version()};
  }
}
