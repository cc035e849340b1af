package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The verdict bncheck gives on each bundled sample, as the README promises. */
class SampleVerdictsTest {

  static Stream<Arguments> samples() {
    return Stream.of(
        Arguments.of("healthy.json", 0, List.of()),
        Arguments.of("pytorch-healthy.json", 0, List.of()),
        Arguments.of("never-updated.json", 1, List.of(
            "BN001 block1/bn", "BN004 block1/bn", "BN001 block2/bn", "BN004 block2/bn",
            "BN001 dense/bn", "BN004 dense/bn")),
        Arguments.of("stale.json", 1, List.of(
            "BN003 block1/bn", "BN004 block1/bn", "BN003 block2/bn", "BN004 block2/bn",
            "BN003 dense/bn", "BN004 dense/bn")),
        Arguments.of("dead-channel.json", 0, List.of("BN006 block2/bn")),
        Arguments.of("nan-statistics.json", 1, List.of("BN007 block1/bn")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("samples")
  void sampleGetsItsExpectedVerdict(String sample, int exitCode, List<String> findings) throws IOException {
    CliRun run = CliRun.of("check", "samples/" + sample, "--format", "json");
    assertThat(run.err()).isEmpty();
    assertThat(run.exitCode()).isEqualTo(exitCode);
    assertThat(findings(run.out())).containsExactlyElementsOf(findings);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("samples")
  void failOnNeverAlwaysPassesAndFailOnInfoFailsOnAnyFinding(String sample, int exitCode, List<String> findings) {
    assertThat(CliRun.of("check", "samples/" + sample, "--fail-on", "never").exitCode()).isZero();
    assertThat(CliRun.of("check", "samples/" + sample, "--fail-on", "info").exitCode())
        .isEqualTo(findings.isEmpty() ? 0 : 1);
  }

  static Stream<Arguments> kerasSamples() {
    return Stream.of(
        Arguments.of("keras-cnn-trained", 0, List.of()),
        Arguments.of("keras-cnn-untrained", 1, List.of(
            "BN001 keras_cnn/bn1", "BN004 keras_cnn/bn1", "BN001 keras_cnn/bn2", "BN004 keras_cnn/bn2")));
  }

  /** Keras 3 SavedModels (decomposed BN inside functions), run on their calibration images. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("kerasSamples")
  void kerasSampleGetsItsExpectedVerdict(String sample, int exitCode, List<String> findings) throws IOException {
    CliRun run = CliRun.of("check", "samples/" + sample, "--inputs", "samples/keras-cnn-inputs.npy", "--format", "json");
    assertThat(run.err()).isEmpty();
    assertThat(run.exitCode()).isEqualTo(exitCode);
    assertThat(findings(run.out())).containsExactlyElementsOf(findings);
    assertThat(run.out()).contains("\"passed\": true").doesNotContain("\"passed\": false");
  }

  @org.junit.jupiter.api.Test
  void syntheticDataTurnsDataDrivenFindingsIntoInformation() throws IOException {
    CliRun run = CliRun.of("check", "samples/keras-cnn-untrained", "--synthetic", "40", "--format", "json");
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.out()).contains("\"source\": \"synthetic: 40 random samples (data-driven findings are indicative only)\"");
    assertThat(findings(run.out())).contains("BN001 keras_cnn/bn1", "BN001 keras_cnn/bn2");
    assertThat(run.out()).contains("(on synthetic data: indicative only; run with real data to confirm)");
    CliRun trained = CliRun.of("check", "samples/keras-cnn-trained", "--synthetic", "40");
    assertThat(trained.exitCode()).isZero();
    assertThat(CliRun.of("check", "samples/healthy.json", "--synthetic", "4").exitCode()).isEqualTo(2);
  }

  /** "CODE layer" for each finding of a JSON report, in report order. */
  static List<String> findings(String json) throws IOException {
    List<String> out = new ArrayList<>();
    try (JsonParser p = new JsonFactory().createParser(json)) {
      String code = null;
      boolean inFindings = false;
      JsonToken t;
      while ((t = p.nextToken()) != null) {
        if (t == JsonToken.FIELD_NAME && p.currentName().equals("findings") && p.getParsingContext().getParent().inRoot()) {
          inFindings = true;
        } else if (inFindings && t == JsonToken.FIELD_NAME && p.currentName().equals("code")) {
          p.nextToken();
          code = p.getText();
        } else if (inFindings && t == JsonToken.FIELD_NAME && p.currentName().equals("layer")) {
          p.nextToken();
          out.add(code + " " + p.getText());
        }
      }
    }
    return out;
  }
}
