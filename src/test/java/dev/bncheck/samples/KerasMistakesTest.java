package dev.bncheck.samples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bncheck.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The famous BN mistakes reproduced as real Keras 3 SavedModels by scripts/make_keras_mistakes.py
 * (samples/tf-bn-mistakes/keras-*), each checked on calibration data of the distribution it is used on.
 */
class KerasMistakesTest {

  private static final String DATA = "samples/tf-bn-mistakes/keras-data/";

  private record Run(int exitCode, String out, String err, List<String> findings) {}

  private static Run check(String variant, String inputs) throws Exception {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true))
        .execute("check", "samples/tf-bn-mistakes/" + variant, "--inputs", DATA + inputs, "--format", "json");
    List<String> findings = new ArrayList<>();
    if (code == 0 || code == 1) {
      JsonNode report = new ObjectMapper().readTree(out.toString());
      for (JsonNode finding : report.get("findings")) {
        findings.add(finding.get("code").asText() + " " + finding.get("layer").asText());
      }
    }
    return new Run(code, out.toString(), err.toString(), findings);
  }

  /** Trained with model.fit, BN momentum 0.9: 99% held-out accuracy at batch 64 and at batch 1. */
  @Test
  void healthyModelPasses() throws Exception {
    Run run = check("keras-healthy", "inputs.npy");
    assertThat(run.err()).isEmpty();
    assertThat(run.exitCode()).isZero();
    assertThat(run.findings()).isEmpty();
  }

  /** Exported without training: moving statistics still 0 and 1 in every layer. */
  @Test
  void untrainedModelGetsBn001OnEveryLayer() throws Exception {
    Run run = check("keras-untrained", "inputs.npy");
    assertThat(run.err()).isEmpty();
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.findings()).filteredOn(f -> f.startsWith("BN001 "))
        .containsExactly("BN001 untrained/bn1", "BN001 untrained/bn2");
    assertThat(run.findings()).allMatch(f -> f.startsWith("BN001 ") || f.startsWith("BN004 "));
  }

  /**
   * BN frozen (trainable=False) while a new head was fine-tuned on darker, lower-contrast images:
   * the statistics are those of the pretraining data. On the new data the first layer's statistics
   * are off (BN003, the cause); the second layer's own statistics fit in the training view, so it
   * gets only the output-level BN004. 74% held-out accuracy, against 99.8% with BN unfrozen.
   */
  @Test
  void frozenTransferModelGetsBn003OnTheNewData() throws Exception {
    Run run = check("keras-frozen-transfer", "transfer-inputs.npy");
    assertThat(run.err()).isEmpty();
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.findings()).contains("BN003 pretrained/bn1");
    assertThat(run.findings()).allMatch(f -> f.startsWith("BN003 ") || f.startsWith("BN004 "));
  }

  /** The same frozen model on the data its BN statistics were computed on is fine. */
  @Test
  void frozenTransferModelPassesOnThePretrainingData() throws Exception {
    Run run = check("keras-frozen-transfer", "inputs.npy");
    assertThat(run.err()).isEmpty();
    assertThat(run.exitCode()).isZero();
    assertThat(run.findings()).isEmpty();
  }

  /**
   * Serving endpoint calls model(x, training=True): batch statistics at inference. Held-out
   * accuracy 99% at batch 64, 21% (chance: 25%) at batch 1. The SavedModel holds two handles per
   * moving statistic, only one of them restored; this model once made bncheck read the other.
   */
  @Test
  void trainingTrueModelGetsBn002AndBn005() throws Exception {
    Run run = check("keras-training-true", "inputs.npy");
    assertThat(run.err()).isEmpty();
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.findings()).anyMatch(f -> f.startsWith("BN002 "));
    assertThat(run.findings()).anyMatch(f -> f.startsWith("BN005 "));
  }
}
