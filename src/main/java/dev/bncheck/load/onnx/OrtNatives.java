package dev.bncheck.load.onnx;

import ai.onnxruntime.OrtEnvironment;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Where ONNX Runtime's native libraries are loaded from. Left to itself, ONNX Runtime for Java
 * copies them (21 MB on Linux) out of its jar into a new temporary folder on every run, and the
 * folder stays behind: it tries to delete the folder while the libraries are still in it, then
 * only registers it for deletion on exit before the libraries, and the JVM deletes in reverse
 * order. Every ONNX run left an empty {@code onnxruntime-java*} folder in the temporary directory.
 * bncheck copies the libraries once into a cache folder per ONNX Runtime version and platform and
 * points ONNX Runtime at it ({@code onnxruntime.native.path}); ONNX Runtime then creates and
 * deletes an empty temporary folder. Where the cache cannot be written, ONNX Runtime does as it
 * always did.
 */
final class OrtNatives {

  static final String PATH_PROPERTY = "onnxruntime.native.path";
  /** Overrides the cache folder (the tests keep it under {@code target/}). */
  static final String CACHE_PROPERTY = "bncheck.cache.dir";
  static final String CACHE_ENVIRONMENT = "BNCHECK_CACHE_DIR";

  private static boolean prepared;

  private OrtNatives() {}

  /** Points ONNX Runtime at the cached libraries, unless the user already points it somewhere. */
  static synchronized void prepare() {
    if (prepared) {
      return;
    }
    prepared = true;
    if (System.getProperty(PATH_PROPERTY) != null) {
      return;
    }
    Optional<String> platform = platform();
    Optional<Path> cache = cacheRoot();
    if (platform.isEmpty() || cache.isEmpty()) {
      return;
    }
    String version = Optional.ofNullable(OrtEnvironment.class.getPackage().getImplementationVersion())
        .orElse("unknown");
    Path folder = cache.get().resolve("onnxruntime").resolve(version + "-" + platform.get());
    if (extract("ai/onnxruntime/native/" + platform.get() + "/", folder)) {
      System.setProperty(PATH_PROPERTY, folder.toAbsolutePath().toString());
    }
  }

  /**
   * Copies ONNX Runtime's libraries from the class path folder {@code resources} into
   * {@code folder} where a file of the same size is not already there, each through a temporary
   * file and a rename, so that a concurrent run sees either no file or a whole one.
   *
   * @return whether every library is now in {@code folder}
   */
  static boolean extract(String resources, Path folder) {
    try {
      Files.createDirectories(folder);
      for (String library : List.of(System.mapLibraryName("onnxruntime"), System.mapLibraryName("onnxruntime4j_jni"))) {
        URL url = OrtNatives.class.getClassLoader().getResource(resources + library);
        if (url == null) {
          return false;
        }
        URLConnection connection = url.openConnection();
        long size = connection.getContentLengthLong();
        Path target = folder.resolve(library);
        if (size >= 0 && Files.isRegularFile(target) && Files.size(target) == size) {
          continue;
        }
        Path temporary = Files.createTempFile(folder, library, ".part");
        try (InputStream in = connection.getInputStream()) {
          Files.copy(in, temporary, StandardCopyOption.REPLACE_EXISTING);
          Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
          Files.deleteIfExists(temporary);
        }
      }
      return true;
    } catch (IOException | SecurityException | UnsupportedOperationException e) {
      return false;
    }
  }

  /** ONNX Runtime's name for this machine's platform, as its jar's folders are named. */
  static Optional<String> platform() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    String osName = os.contains("linux") ? "linux" : os.contains("mac") || os.contains("darwin") ? "osx"
        : os.contains("win") ? "win" : null;
    String archName = arch.equals("amd64") || arch.equals("x86_64") ? "x64"
        : arch.equals("aarch64") || arch.equals("arm64") ? "aarch64" : null;
    return osName == null || archName == null ? Optional.empty() : Optional.of(osName + "-" + archName);
  }

  /** The user's cache folder for bncheck: the override, else the platform's usual place. */
  static Optional<Path> cacheRoot() {
    String override = System.getProperty(CACHE_PROPERTY, System.getenv(CACHE_ENVIRONMENT));
    if (override != null && !override.isBlank()) {
      return Optional.of(Path.of(override));
    }
    String xdg = System.getenv("XDG_CACHE_HOME");
    if (xdg != null && !xdg.isBlank()) {
      return Optional.of(Path.of(xdg, "bncheck"));
    }
    String localAppData = System.getenv("LOCALAPPDATA");
    if (localAppData != null && !localAppData.isBlank()) {
      return Optional.of(Path.of(localAppData, "bncheck", "cache"));
    }
    String home = System.getProperty("user.home");
    if (home == null || home.isBlank()) {
      return Optional.empty();
    }
    return Optional.of(System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("mac")
        ? Path.of(home, "Library", "Caches", "bncheck") : Path.of(home, ".cache", "bncheck"));
  }
}
