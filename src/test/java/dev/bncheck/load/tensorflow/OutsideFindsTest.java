package dev.bncheck.load.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.cli.CliRun;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.family.TType;

/**
 * What outside testers found on models exported in ways the project's samples do not take
 * (scripts/make_outside_finds.py made the fixtures): each ended in exit 4, a false verdict, a
 * refusal of a common input type, or a recalibrated model that TensorFlow 2 loads unchanged.
 */
class OutsideFindsTest {

  private static final Path DIR = Path.of("src/test/resources/outside-finds");

  @TempDir Path dir;

  private static CliRun check(String model, String... more) {
    List<String> args = new ArrayList<>(List.of("check", DIR.resolve(model).resolve("model").toString()));
    args.addAll(List.of(more));
    return CliRun.of(args.toArray(new String[0]));
  }

  /**
   * A scalar, per-class means, a variable and a time-major stack have no batch axis first: BN005
   * compares only outputs that do (it ended in exit 4, and the time-major one was a false BN005).
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"serving_default", "scalar", "per_class", "variable_first", "time_major"})
  void outputsWithoutABatchAxisAreNotComparedAlongOne(String signature) {
    CliRun run = check("unbatched-outputs", "--signature", signature, "--inputs",
        DIR.resolve("unbatched-outputs/x.npy").toString());
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).contains("1 BN layer,").doesNotContain("BN005")
        .contains("matches TensorFlow's inference-mode output");
    if (signature.equals("variable_first")) {
      assertThat(run.out()).contains("Output z_logits:").doesNotContain("Output a_prior:");
    }
  }

  /** A NaN moving variance is BN007, and the self-check agrees with TensorFlow's NaN (it was exit 4). */
  @Test
  void nonFiniteStatisticsAreBn007NotAnInternalError() {
    CliRun run = check("nan-variance", "--inputs", DIR.resolve("nan-variance/x.npy").toString());
    assertThat(run.exitCode()).as(run.err()).isEqualTo(1);
    assertThat(run.err()).doesNotContain("internal error");
    assertThat(run.out()).contains("[BN007] error bn1: moving_variance is NaN in channel 1");
    assertThat(CliRun.of("check", DIR.resolve("nan-variance/model").toString(), "--synthetic", "4").exitCode())
        .isEqualTo(1);
  }

  /** uint8 pixels, the usual image signature, are fed as uint8 (they were refused). */
  @Test
  void uint8ImagesAreFedAsUint8() {
    CliRun run = check("uint8-input", "--inputs", DIR.resolve("uint8-input/x.npy").toString());
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).contains("1 BN layer,").contains("matches TensorFlow's inference-mode output");
    assertThat(check("uint8-input", "--synthetic", "4").exitCode()).isZero();
  }

  @Test
  void valuesAUint8InputCannotHoldAreAnInputErrorNamingThem() throws IOException {
    float[] values = new float[4 * 8 * 8 * 3];
    values[5] = 256;
    Path data = dir.resolve("too-large.npy");
    Files.write(data, dev.bncheck.TestFiles.npy(values, 4, 8, 8, 3));
    CliRun run = check("uint8-input", "--inputs", data.toString());
    assertThat(run.exitCode()).isEqualTo(3);
    assertThat(run.err()).contains("the model takes DT_UINT8, but the data holds 256, outside 0..255");
  }

  /**
   * BN inside a tf.while_loop that freezing lowered to Enter/Exit frames: its parameters come
   * through Enter nodes. The layer is found (none were, and the model passed) and keeps its static
   * checks; the report says why it has no data; the frame's unused placeholders need none.
   */
  @Test
  void aLayerInsideALoweredWhileLoopIsFoundAndSaysWhyItHasNoData() {
    String model = DIR.resolve("frozen-while/model.pb").toString();
    CliRun inspect = CliRun.of("inspect", model);
    assertThat(inspect.exitCode()).as(inspect.err()).isZero();
    assertThat(inspect.out()).contains("1 BN layer,");
    CliRun run = CliRun.of("check", model, "--inputs", DIR.resolve("frozen-while/x.npy").toString());
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).contains("1 BN layer,").contains("inside a lowered tf.while_loop, which runs it once per"
        + " iteration");
    assertThat(CliRun.of("check", model, "--synthetic", "4").exitCode()).isZero();
  }

  /**
   * A text model as they ship: strings split into ragged tokens, a vocabulary table the init op
   * fills from tensors, sparse counts, fake quantization, then BN. Every one of these ops was
   * refused; they compute in memory. A table filled from a text file reads a file and stays refused.
   */
  @Test
  void aTextModelWithAVocabularyTableRaggedTokensAndFakeQuantizationRuns() {
    CliRun run = check("text-pipeline", "--inputs", DIR.resolve("text-pipeline/x.npy").toString());
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).contains("1 BN layer,").contains("first batch [32, 6, 4]")
        .contains("matches TensorFlow's inference-mode output").contains("No findings.");
    assertThat(OpAllowlist.allows("InitializeTableFromTextFileV2")).isFalse();
    assertThat(OpAllowlist.why("InitializeTableFromTextFileV2")).isEqualTo("it reads files");
  }

  /**
   * Random samples cannot be a ragged tensor's values and row splits; the model's refusal of them
   * read as the data's fault. Real parts list no common samples, which is an input error (it was
   * exit 4 when the samples were shuffled before the inputs were matched).
   */
  @Test
  void randomSamplesForARaggedInputSayToGiveRealData() {
    CliRun synthetic = check("ragged-ids", "--synthetic", "16");
    assertThat(synthetic.exitCode()).isEqualTo(3);
    assertThat(synthetic.err()).contains("the model cannot run on this data:").contains("random samples fit the"
        + " declared shapes only").contains("need real data: give it with --inputs").doesNotContain("internal error");
    CliRun real = check("ragged-ids", "--inputs", DIR.resolve("ragged-ids/x.npz").toString());
    assertThat(real.exitCode()).as(real.err()).isEqualTo(3);
    assertThat(real.err()).contains("samples, but another input has").doesNotContain("internal error");
  }

  /** TensorFlow skips the restore without variables.index; the message named a variable instead of the file. */
  @Test
  void aSavedModelWithoutItsCheckpointIndexSaysWhichFileIsMissing() throws IOException {
    Path model = dir.resolve("model");
    Files.createDirectories(model.resolve("variables"));
    Files.copy(Path.of("samples/keras-cnn-trained/saved_model.pb"), model.resolve("saved_model.pb"));
    try (var files = Files.list(Path.of("samples/keras-cnn-trained/variables"))) {
      for (Path f : files.filter(f -> !f.getFileName().toString().endsWith(".index")).toList()) {
        Files.copy(f, model.resolve("variables").resolve(f.getFileName()));
      }
    }
    for (List<String> args : List.of(List.of("inspect", model.toString()),
        List.of("check", model.toString(), "--synthetic", "4"))) {
      CliRun run = CliRun.of(args.toArray(new String[0]));
      assertThat(run.exitCode()).isEqualTo(3);
      assertThat(run.err()).isEqualTo("bncheck: error: " + model + ": variables/variables.index: missing: the"
          + " checkpoint that holds the variables' values is not there (copy the whole SavedModel directory,"
          + " variables/ too)\n");
    }
  }

  /** A SavedModel's saved_model.pb given as a frozen graph: the message says to give its directory. */
  @Test
  void aSavedModelProtoGivenAsAFrozenGraphPointsToItsDirectory() throws IOException {
    Path pb = dir.resolve("model.pb");
    Files.copy(Path.of("samples/keras-cnn-trained/saved_model.pb"), pb);
    CliRun run = CliRun.of("inspect", pb.toString());
    assertThat(run.exitCode()).isEqualTo(3);
    assertThat(run.err()).isEqualTo("bncheck: error: " + pb + ": this is a SavedModel's saved_model.pb, not a frozen"
        + " graph: give the SavedModel's directory (the one holding saved_model.pb and variables/)\n");
  }

  /**
   * Keras 3's model.export writes every variable twice, under variables/N (which
   * tf.saved_model.load reads) and _all_variables/M (which the session's functions use):
   * recalibrate wrote only the second, so TensorFlow 2 loaded the old statistics.
   */
  @Test
  void recalibrateWritesEveryCheckpointKeyOfAVariable() throws IOException {
    Path out = dir.resolve("fixed");
    CliRun run = CliRun.of("recalibrate", "samples/keras-cnn-untrained", "--inputs", "samples/keras-cnn-inputs.npy",
        "--labels", "samples/keras-cnn-labels.npy", "--out", out.toString());
    assertThat(run.exitCode()).as(run.err()).isZero();
    Map<String, float[]> before = checkpoint(Path.of("samples/keras-cnn-untrained"));
    Map<String, float[]> after = checkpoint(out);
    List<String> twoFamilies = new ArrayList<>();
    for (String family : List.of("variables/", "_all_variables/")) {
      List<String> values = new ArrayList<>();
      after.forEach((key, v) -> {
        if (key.startsWith(family)) {
          values.add(java.util.Arrays.toString(v));
        }
      });
      values.sort(null);
      twoFamilies.add(String.join(";", values));
    }
    assertThat(twoFamilies.get(0)).as("each variable's two keys hold the same values").isEqualTo(twoFamilies.get(1));
    assertThat(after).isNotEqualTo(before);
    long changed = after.keySet().stream()
        .filter(k -> !java.util.Arrays.equals(after.get(k), before.get(k))).count();
    assertThat(changed).as("the 4 statistics, each under both keys").isEqualTo(8);
  }

  /** Every variable value of a Keras export's checkpoint, by key, read with TensorFlow's RestoreV2. */
  private static Map<String, float[]> checkpoint(Path model) throws IOException {
    var meta = SavedModel.parseFrom(Files.readAllBytes(model.resolve("saved_model.pb"))).getMetaGraphs(0);
    java.util.Set<String> names = new java.util.TreeSet<>();
    // TensorFlow 2 keeps its save and restore in functions of the library
    for (var function : meta.getGraphDef().getLibrary().getFunctionList()) {
      for (NodeDef node : function.getNodeDefList()) {
        if (node.getOp().equals("Const") && node.getName().endsWith("tensor_names")) {
          node.getAttrMap().get("value").getTensor().getStringValList().forEach(b -> names.add(b.toStringUtf8()));
        }
      }
    }
    List<String> keys = new ArrayList<>(names);
    keys.removeIf(k -> !k.endsWith("/.ATTRIBUTES/VARIABLE_VALUE") || !(k.startsWith("variables/")
        || k.startsWith("_all_variables/")));
    Map<String, float[]> out = new TreeMap<>();
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      List<Class<? extends TType>> types = new ArrayList<>();
      keys.forEach(k -> types.add(TFloat32.class));
      var restore = tf.train.restore(tf.constant(model.resolve("variables/variables").toString()),
          tf.constant(StandardCharsets.UTF_8, keys.toArray(new String[0])),
          tf.constant(StandardCharsets.UTF_8, keys.stream().map(k -> "").toArray(String[]::new)), types);
      Session.Runner runner = s.runner();
      restore.tensors().forEach(runner::fetch);
      try (Result result = runner.run()) {
        for (int i = 0; i < keys.size(); i++) {
          TFloat32 t = (TFloat32) result.get(i);
          float[] v = new float[(int) t.size()];
          t.asRawTensor().data().asFloats().read(v);
          out.put(keys.get(i), v);
        }
      }
    }
    assertThat(out).as("keys read").hasSizeGreaterThan(20);
    return out;
  }
}
