package dev.bncheck.load.onnx;

import static dev.bncheck.load.onnx.AllClose.assertAllClose;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.ThirdPartyFixtures;
import dev.bncheck.engine.BatchNormOutputs;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import dev.bncheck.model.MomentumConvention;
import dev.bncheck.model.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The ONNX backend tests' PyTorch BatchNorm1d/2d/3d in eval mode (fixtures/onnx-pytorch-bn, with
 * its NOTICE.md): the loader reads the layer from the model as the exporter wrote it (opset 6),
 * and bncheck's inference-mode output equals PyTorch's published output_0.pb, each TensorProto
 * read with bncheck's own reader. The same models converted to opset 15 (scripts/make_onnx_models.py)
 * run in ONNX Runtime, whose BN output equals the published one too.
 */
class BackendTestFixturesTest {

  private static final Path CONVERTED = Path.of("src/test/resources/onnx/converted");

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"test_BatchNorm1d_3d_input_eval", "test_BatchNorm2d_eval", "test_BatchNorm2d_momentum_eval",
      "test_BatchNorm3d_eval", "test_BatchNorm3d_momentum_eval"})
  void inferenceOutputEqualsPyTorchsPublishedOutput(String name) throws IOException {
    Path dir = ThirdPartyFixtures.require("onnx-pytorch-bn/" + name);
    BnModel model = new BnModelFromOnnx().load(dir.resolve("model.onnx"), CalibrationSink.NONE);
    assertThat(model.framework()).isEqualTo("pytorch");
    assertThat(model.layers()).hasSize(1);
    BnLayer layer = model.layers().get(0);
    Tensor x = tensor(dir.resolve("test_data_set_0/input_0.pb"));
    Tensor y = tensor(dir.resolve("test_data_set_0/output_0.pb"));
    assertThat(layer.channels()).isEqualTo(x.shape()[1]);
    // PyTorch's default epsilon is 1e-5; the *_momentum_* cases were made with 1e-3, and the
    // float32 attribute reads back as the decimal written
    assertThat(layer.epsilon()).isEqualTo(name.contains("momentum") ? 1e-3 : 1e-5);
    assertThat(layer.momentumConvention()).isEqualTo(MomentumConvention.PYTORCH);

    assertAllClose(name + ": bncheck's inference-mode y vs PyTorch's", inference(layer, x), values(y),
        OnnxTolerances.PYTORCH_OUTPUT_ABSOLUTE, OnnxTolerances.PYTORCH_OUTPUT_RELATIVE);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"test_BatchNorm1d_3d_input_eval", "test_BatchNorm2d_eval", "test_BatchNorm3d_momentum_eval"})
  void onnxRuntimesOutputOfTheConvertedModelEqualsPyTorchsPublishedOutput(String name) throws IOException {
    Path dir = ThirdPartyFixtures.require("onnx-pytorch-bn/" + name);
    Tensor x = tensor(dir.resolve("test_data_set_0/input_0.pb"));
    Tensor y = tensor(dir.resolve("test_data_set_0/output_0.pb"));
    RecordingSink sink = new RecordingSink();
    LoadOptions options = new LoadOptions("serve", "serving_default",
        List.of(CONVERTED.resolve(name + ".npy").toString()), 32, Long.MAX_VALUE);
    BnModel model = new BnModelFromOnnx().load(CONVERTED.resolve(name + ".onnx"), options, sink);

    assertThat(sink.batches).hasSize(1);
    assertThat(values(sink.batches.get(0))).as("the .npy holds input_0.pb").containsExactly(values(x));
    RecordingSink.FrameworkOutput checked = sink.frameworkOutputs.get(0);
    assertThat(checked.trainingMode()).isFalse();
    int samples = checked.output().shape()[0];
    double[] published = java.util.Arrays.copyOf(values(y), checked.output().size());
    assertThat(samples).isEqualTo(Math.min(x.shape()[0], OnnxCalibration.SELF_CHECK_SAMPLES));
    assertAllClose(name + ": ONNX Runtime's y vs PyTorch's", values(checked.output()), published,
        OnnxTolerances.PYTORCH_OUTPUT_ABSOLUTE, OnnxTolerances.PYTORCH_OUTPUT_RELATIVE);
    assertAllClose(name + ": bncheck's y vs PyTorch's", inference(model.layers().get(0), checked.input()), published,
        OnnxTolerances.PYTORCH_OUTPUT_ABSOLUTE, OnnxTolerances.PYTORCH_OUTPUT_RELATIVE);
  }

  static Tensor tensor(Path file) throws IOException {
    OnnxProto.TensorProto t = OnnxReader.readTensor(file.toString(), Files.readAllBytes(file));
    double[] v = TensorValues.of(t, null);
    float[] f = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      f[i] = (float) v[i];
    }
    return new Tensor.Float32(TensorValues.shape(t), f);
  }

  private static double[] inference(BnLayer layer, Tensor x) {
    BatchNormOutputs.Affine affine = BatchNormOutputs.inferenceAffine(layer);
    int channels = x.shape()[1];
    int inner = x.size() / x.shape()[0] / channels;
    double[] out = new double[x.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = affine.apply((i / inner) % channels, x.get(i));
    }
    return out;
  }

  static double[] values(Tensor t) {
    double[] out = new double[t.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = t.get(i);
    }
    return out;
  }
}
