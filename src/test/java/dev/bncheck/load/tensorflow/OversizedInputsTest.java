package dev.bncheck.load.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.protobuf.ByteString;
import dev.bncheck.load.InvalidOptionException;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import dev.bncheck.model.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/** Inputs of a few bytes that declare gigabytes: refused or left undecoded, never allocated. */
class OversizedInputsTest {

  /** 2^26 values: 512 MB as doubles, decoded once for each of a layer's four parameters. */
  private static final long HUGE = 1L << 26;

  @TempDir Path dir;

  @Test
  void broadcastConstantOfAFewBytesIsNotExpandedIntoBnParameters() throws IOException {
    TensorProto oneValue = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
        .setTensorShape(shape(HUGE)).addFloatVal(1).build();
    Path file = frozenGraph(oneValue);
    assertThat(Files.size(file)).isLessThan(1024);

    BnModel model = new BnModelFromFrozenGraph().load(file, CalibrationSink.NONE);

    assertThat(model.layers()).isEmpty();
    assertThat(model.unresolved()).singleElement()
        .satisfies(u -> assertThat(u.reason()).contains("constant big, which holds no values"));
  }

  /** Bytes that do not fill the shape are a corrupt model, refused before anything pads them out or runs. */
  @Test
  void tensorContentShorterThanItsShapeIsACorruptModel() throws IOException {
    TensorProto fourBytes = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
        .setTensorShape(shape(HUGE)).setTensorContent(ByteString.copyFrom(new byte[4])).build();
    Path file = frozenGraph(fourBytes);

    assertThatThrownBy(() -> new BnModelFromFrozenGraph().load(file, CalibrationSink.NONE))
        .isInstanceOf(dev.bncheck.load.InvalidInputException.class)
        .hasMessageContaining("node big: constant of " + HUGE + " DT_FLOAT values holds 4 bytes where " + 4L * HUGE
            + " are needed: the model is truncated or corrupt");
  }

  @Test
  void syntheticSamplesThatCannotFitInTheHeapAreAUsageErrorStatingTheLimit() {
    long perSample = 1000;
    int samples = (int) (Runtime.getRuntime().maxMemory() / 4 / perSample * 5 / 4);
    assumeTrue(samples * perSample <= Tensor.MAX_ELEMENTS, "the test JVM's heap holds the largest tensor");
    ModelRunner.Input input = new ModelRunner.Input("x", "x:0", DataType.DT_FLOAT,
        TensorShapeProto.newBuilder().addDim(dim(-1)).addDim(dim(perSample)).build());

    assertThatThrownBy(() -> SyntheticInputs.make(List.of(input), samples,
        new TfGraph(org.tensorflow.proto.GraphDef.getDefaultInstance())))
        .isInstanceOf(InvalidOptionException.class)
        .hasMessageStartingWith("--synthetic " + samples + ": input x: " + samples + " samples of 1000 values")
        .hasMessageContaining(" of memory, more than the ")
        .hasMessageMatching(".*; at most \\d+ samples fit");
  }

  /** A FusedBatchNormV3 node whose four parameters are all the Const {@code big}. */
  private Path frozenGraph(TensorProto big) throws IOException {
    GraphDef.Builder graph = GraphDef.newBuilder();
    graph.addNode(NodeDef.newBuilder().setName("x").setOp("Placeholder")
        .putAttr("dtype", AttrValue.newBuilder().setType(DataType.DT_FLOAT).build()));
    graph.addNode(NodeDef.newBuilder().setName("big").setOp("Const")
        .putAttr("dtype", AttrValue.newBuilder().setType(DataType.DT_FLOAT).build())
        .putAttr("value", AttrValue.newBuilder().setTensor(big).build()));
    graph.addNode(NodeDef.newBuilder().setName("bn").setOp("FusedBatchNormV3")
        .addAllInput(List.of("x", "big", "big", "big", "big"))
        .putAttr("T", AttrValue.newBuilder().setType(DataType.DT_FLOAT).build())
        .putAttr("U", AttrValue.newBuilder().setType(DataType.DT_FLOAT).build())
        .putAttr("epsilon", AttrValue.newBuilder().setF(0.001f).build())
        .putAttr("is_training", AttrValue.newBuilder().setB(false).build())
        .putAttr("data_format", AttrValue.newBuilder().setS(ByteString.copyFromUtf8("NHWC")).build()));
    return Files.write(dir.resolve("frozen.pb"), graph.build().toByteArray());
  }

  private static TensorShapeProto shape(long size) {
    return TensorShapeProto.newBuilder().addDim(dim(size)).build();
  }

  private static TensorShapeProto.Dim dim(long size) {
    return TensorShapeProto.Dim.newBuilder().setSize(size).build();
  }
}
