package dev.bncheck.load.keras;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * jhdf is loaded for Keras input only: a run on a JSON dump loads none of its classes (nor SLF4J's,
 * which it brings), so start-up of the common case does not pay for it. Each run is a JVM of its
 * own, listing the classes it loads.
 */
class JhdfLoadingTest {

  private static List<String> classesLoaded(String... args) throws IOException, InterruptedException {
    List<String> command = new java.util.ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xshare:auto", "-verbose:class",
        "-cp", System.getProperty("java.class.path"), "dev.bncheck.cli.Main"));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
    return output.lines().filter(l -> l.contains("class,load")).toList();
  }

  @Test
  void aJsonDumpRunLoadsNoHdf5Class() throws Exception {
    List<String> loaded = classesLoaded("inspect", "samples/healthy.json");
    assertThat(loaded).as("the run listed its classes").anyMatch(l -> l.contains(" dev.bncheck.cli.Main "));
    assertThat(loaded).noneMatch(l -> l.contains(" io.jhdf.") || l.contains(" org.slf4j."));
  }

  @Test
  void aKerasFileRunLoadsJhdf() throws Exception {
    assertThat(classesLoaded("inspect", "src/test/resources/keras-files/healthy.h5"))
        .anyMatch(l -> l.contains(" io.jhdf.HdfFile "));
  }
}
