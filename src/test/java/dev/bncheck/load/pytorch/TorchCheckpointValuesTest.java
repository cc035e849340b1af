package dev.bncheck.load.pytorch;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.Loaders;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import dev.bncheck.model.MomentumConvention;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every checkpoint scripts/make_pytorch_checkpoints.py wrote with real PyTorch reads back to the
 * values PyTorch held (expected.json): running statistics, weight and bias, counts, and the
 * epsilon and momentum a whole module records.
 */
class TorchCheckpointValuesTest {

  static final Path DIR = Path.of("src/test/resources/pytorch");

  private static final JsonNode EXPECTED = readExpected();

  private static JsonNode readExpected() {
    try {
      return new ObjectMapper().readTree(DIR.resolve("expected.json").toFile());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static Stream<String> files() {
    List<String> names = new ArrayList<>();
    EXPECTED.get("files").fieldNames().forEachRemaining(names::add);
    return names.stream();
  }

  static BnModel load(Path file) {
    return Loaders.forModel(file).load(file, LoadOptions.DEFAULTS, CalibrationSink.NONE);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("files")
  void layersHoldPyTorchsValues(String name) {
    BnModel model = load(DIR.resolve(name));
    JsonNode expected = EXPECTED.get("files").get(name);
    List<String> names = new ArrayList<>();
    expected.fieldNames().forEachRemaining(names::add);
    assertThat(model.layers()).extracting(BnLayer::name).containsExactlyElementsOf(names);
    assertThat(model.framework()).isEqualTo("pytorch");
    for (BnLayer layer : model.layers()) {
      JsonNode e = expected.get(layer.name());
      assertThat(layer.movingMean()).as(layer.name() + " running_mean").containsExactly(doubles(e.get("running_mean")));
      assertThat(layer.movingVariance()).as(layer.name() + " running_var").containsExactly(doubles(e.get("running_var")));
      assertThat(layer.hasGamma()).isEqualTo(!e.get("weight").isNull());
      assertThat(layer.hasBeta()).isEqualTo(!e.get("bias").isNull());
      if (layer.hasGamma()) {
        assertThat(layer.gamma()).as(layer.name() + " weight").containsExactly(doubles(e.get("weight")));
        assertThat(layer.beta()).as(layer.name() + " bias").containsExactly(doubles(e.get("bias")));
      } else {
        assertThat(layer.gamma()).containsOnly(1.0);
        assertThat(layer.beta()).containsOnly(0.0);
      }
      assertThat(layer.numBatchesTracked().getAsLong()).isEqualTo(e.get("num_batches_tracked").asLong());
      assertThat(layer.channelAxis()).isEqualTo(1);
      // a module records eps and momentum (None for a cumulative average); a state_dict does not
      double epsilon = e.get("eps").isNull() ? 1e-5 : e.get("eps").asDouble();
      OptionalDouble momentum = !name.endsWith("-module.pt") ? OptionalDouble.of(0.1)
          : e.get("momentum").isNull() ? OptionalDouble.empty() : OptionalDouble.of(e.get("momentum").asDouble());
      assertThat(layer.epsilon()).isEqualTo(epsilon);
      assertThat(layer.momentum()).isEqualTo(momentum);
      assertThat(layer.momentumConvention()).isEqualTo(momentum.isPresent() ? MomentumConvention.PYTORCH : null);
    }
  }

  @Test
  void theReportSaysWhereTheWeightsWereAndWhatWasAssumed() {
    assertThat(load(DIR.resolve("trained-checkpoint.pt")).format()).isEqualTo("torch.save checkpoint, the state_dict"
        + " under key \"model\"; epsilon 1e-05 (PyTorch's default) and momentum 0.1 (PyTorch's default) assumed: the"
        + " file does not record them");
    assertThat(load(DIR.resolve("trained-state_dict.pt")).format()).startsWith("torch.save checkpoint, the top-level"
        + " state_dict; epsilon 1e-05");
    assertThat(load(DIR.resolve("trained.safetensors")).format()).startsWith("safetensors file, the state_dict;");
    BnModel module = load(DIR.resolve("trained-module.pt"));
    assertThat(module.format()).isEqualTo("torch.save checkpoint, a whole pickled module");
    assertThat(module.modelName()).isEqualTo("__main__.SmallCnn");
  }

  @Test
  void optionsReplacePyTorchsDefaultsWhereTheFileRecordsNone() {
    Path file = DIR.resolve("trained-state_dict.pt");
    LoadOptions options = LoadOptions.DEFAULTS.withAssumedBn(OptionalDouble.of(1e-3), OptionalDouble.of(0.01));
    BnModel model = Loaders.forModel(file).load(file, options, CalibrationSink.NONE);
    assertThat(model.layers()).allSatisfy(layer -> {
      assertThat(layer.epsilon()).isEqualTo(1e-3);
      assertThat(layer.momentum()).hasValue(0.01);
    });
    assertThat(model.format()).endsWith("epsilon 0.001 (--epsilon) and momentum 0.01 (--momentum) assumed: the file"
        + " does not record them");
    BnModel module = Loaders.forModel(DIR.resolve("trained-module.pt"))
        .load(DIR.resolve("trained-module.pt"), options, CalibrationSink.NONE);
    assertThat(module.layers().get(0).epsilon()).as("recorded by the module").isEqualTo(1e-5);
  }

  @Test
  void aWholeModuleKeepsBatchNormAndLeavesInstanceNormOut() {
    BnModel model = load(DIR.resolve("odd-norms-module.pt"));
    assertThat(model.layers()).extracting(BnLayer::name).containsExactly("bn");
    BnLayer bn = model.layers().get(0);
    assertThat(bn.momentum()).as("momentum=None, a cumulative average").isEmpty();
    assertThat(bn.hasGamma()).isFalse();
    assertThat(model.format()).doesNotContain("assumed");
  }

  /**
   * Subclasses pickle under their own names: an InstanceNorm subclass that tracks running
   * statistics (StyleNorm) holds what BN holds and was read as BN without a word.
   */
  @Test
  void subclassesOfTorchNormsAreReadAsBnAndTheReportSaysOnWhatGround() {
    BnModel model = load(DIR.resolve("subclassed-norms-module.pt"));
    assertThat(model.layers()).extracting(BnLayer::name).containsExactly("bn", "inorm");
    assertThat(model.format()).contains("read as BN by their running statistics though their class is none of"
        + " torch.nn's BatchNorm classes (an InstanceNorm subclass would hold the same): bn (__main__.MyBatchNorm),"
        + " inorm (__main__.StyleNorm)");
    assertThat(model.layers().get(1).origin()).isEqualTo("inorm.*; class __main__.StyleNorm, not one of torch.nn's"
        + " BatchNorm classes: read as BN by its running statistics");
    assertThat(load(DIR.resolve("trained-module.pt")).format()).doesNotContain("read as BN");
  }

  @Test
  void aTrainingCheckpointOfAModelWithoutBnHasNoLayers(@TempDir Path temp) {
    byte[] pickle = new TorchZips.Pickle().op('}').op('(').text("model").op('}').op('(').text("fc.weight")
        .tensor("0", 4, 0, new long[] {2, 2}, new long[] {2, 1}).op('u').text("epoch").integer(3).op('u').stop();
    Map<String, byte[]> entries = new LinkedHashMap<>();
    entries.put("m/data.pkl", pickle);
    entries.put("m/data/0", new byte[16]);
    Path file = TorchZips.write(temp.resolve("no-bn.pt"), TorchZips.stored(entries));
    BnModel model = load(file);
    assertThat(model.layers()).isEmpty();
    assertThat(model.format()).isEqualTo("torch.save checkpoint, the state_dict under key \"model\"");
  }

  /** A state_dict nested below the top-level dict ({@code {"model": {"backbone": sd}}}) was refused. */
  @Test
  void aStateDictNestedInDictsIsFoundAndNamedByItsPath(@TempDir Path temp) {
    TorchZips.Pickle pickle = new TorchZips.Pickle().op('}').op('(').text("epoch").integer(3)
        .text("model").op('}').op('(').text("meta").op('}').op('(').text("step").integer(7).op('u')
        .text("backbone").op('}').op('(');
    int key = 0;
    for (String name : List.of("bn.running_mean", "bn.running_var")) {
      pickle.text(name).tensor(String.valueOf(key++), 2, 0, new long[] {2}, new long[] {1});
    }
    byte[] bytes = pickle.op('u').op('u').op('u').stop();
    Map<String, byte[]> entries = new LinkedHashMap<>();
    entries.put("m/data.pkl", bytes);
    entries.put("m/data/0", floats(0.5f, -0.25f));
    entries.put("m/data/1", floats(2f, 3f));
    Path file = TorchZips.write(temp.resolve("nested.pt"), TorchZips.stored(entries));
    BnModel model = load(file);
    assertThat(model.format()).startsWith("torch.save checkpoint, the state_dict under key \"model.backbone\";");
    assertThat(model.layers()).extracting(BnLayer::name).containsExactly("bn");
    assertThat(model.layers().get(0).movingMean()).containsExactly(0.5, -0.25);
    assertThat(model.layers().get(0).movingVariance()).containsExactly(2.0, 3.0);
  }

  private static byte[] floats(float... values) {
    java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate(4 * values.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      buffer.putFloat(v);
    }
    return buffer.array();
  }

  @Test
  void viewsIntoASharedStorageReadTheirOwnOffsetAndStride() {
    BnLayer bn1 = load(DIR.resolve("views.pt")).layers().get(0);
    BnLayer original = load(DIR.resolve("trained-state_dict.pt")).layers().get(0);
    assertThat(bn1.movingMean()).containsExactly(original.movingMean());
    assertThat(bn1.movingVariance()).containsExactly(original.movingVariance());
  }

  @Test
  void loadersAreChosenByNameOrByTheArchivesFirstEntry(@TempDir Path temp) throws IOException {
    assertThat(Loaders.forModel(DIR.resolve("trained-state_dict.pt"))).isInstanceOf(BnModelFromTorchSave.class);
    assertThat(Loaders.forModel(DIR.resolve("trained.safetensors"))).isInstanceOf(BnModelFromSafetensors.class);
    Path renamed = Files.copy(DIR.resolve("trained-checkpoint.pt"), temp.resolve("last.ckpt"));
    assertThat(Loaders.forModel(renamed)).isInstanceOf(BnModelFromTorchSave.class);
    assertThat(load(renamed).layers()).hasSize(2);
  }

  private static double[] doubles(JsonNode array) {
    double[] out = new double[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asDouble();
    }
    return out;
  }
}
