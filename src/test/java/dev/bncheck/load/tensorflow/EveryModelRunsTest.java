package dev.bncheck.load.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.cli.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every TensorFlow model the project holds, the published ones and those made by the generators,
 * gets a verdict from {@code check --synthetic}, or, for inputs bncheck does not make up (a text
 * model's strings, a ragged tensor's parts, an input of unknown shape), on the {@code x.npy} or
 * {@code x.npz} beside it: exit
 * code 0 or 1, never 4. The hostile models
 * are left out (their tests expect refusals), and so are the ONNX test tensors, which are not
 * graphs.
 */
class EveryModelRunsTest {

  static Stream<Path> models() throws IOException {
    List<Path> models = new java.util.ArrayList<>();
    for (Path root : List.of(Path.of("samples"), Path.of("src/test/resources"))) {
      try (Stream<Path> files = Files.walk(root)) {
        files.filter(p -> !p.toString().contains("/hostile/") && !p.toString().contains("/onnx-pytorch-bn/"))
            .forEach(p -> {
              String name = p.getFileName().toString();
              if (name.equals("saved_model.pb")) {
                models.add(p.getParent());
              } else if (name.endsWith(".pb") && !p.toString().contains("/variables/") && !name.equals("fingerprint.pb")
                  && !name.equals("keras_metadata.pb")) {
                models.add(p);
              }
            });
      }
    }
    models.sort(null);
    assertThat(models).as("models found").hasSizeGreaterThan(40);
    return models.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void modelGetsAVerdictNeverAnInternalError(Path model) {
    StringWriter err = new StringWriter();
    int code = Main.run(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), "check",
        model.toString(), "--synthetic", "4");
    Path beside = Files.isRegularFile(model.resolveSibling("x.npz")) ? model.resolveSibling("x.npz")
        : model.resolveSibling("x.npy");
    boolean notMadeUp = err.toString().contains("which bncheck cannot make up")
        || err.toString().contains("random samples fit the declared shapes only")
        || err.toString().contains("the input's shape is unknown");
    if (code == 3 && notMadeUp && Files.isRegularFile(beside)) {
      err = new StringWriter();
      code = Main.run(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), "check",
          model.toString(), "--inputs", beside.toString());
    }
    // a ragged tensor's parts list no common samples: bncheck cannot feed them, and says so (exit 3)
    assertThat(code).as(err.toString()).isIn(model.toString().contains("ragged-ids") ? List.of(3) : List.of(0, 1));
  }
}
