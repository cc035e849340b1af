package dev.bncheck.load.tensorflow;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bncheck.TestFiles;
import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.load.BatchOrder;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.array.SampleOrder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.proto.DataType;

/**
 * A model that fails on one sample of a batch names that sample as the file holds it, whatever
 * order the batches take: an outside tester's bad value in one sample was reported as the whole
 * batch's samples, by their positions in the shuffled order.
 */
class FailingSampleTest {

  private static final int SAMPLES = 16;
  private static final int BAD = 5;

  @TempDir Path dir;

  @Test
  void theSampleThatFailsAloneIsNamedByItsRowInTheFile() throws IOException {
    Path model = checkedInputModel();
    Path data = dataWithNanIn(BAD);
    int position = position(BAD);

    assertThatThrownBy(() -> load(model, data, BatchOrder.SHUFFLED))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("sample " + BAD + " of the data (in the shuffled order of --batch-order, position "
            + position + ")")
        .hasMessageContaining("the model cannot run on this data: ")
        .hasMessageNotContaining("run together");
    assertThatThrownBy(() -> load(model, data, BatchOrder.FILE))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining(": sample " + BAD + ": the model cannot run on this data: ");
  }

  private static void load(Path model, Path data, BatchOrder order) {
    new BnModelFromFrozenGraph().load(model, new LoadOptions("serve", "serving_default", List.of(data.toString()), 8,
        Long.MAX_VALUE).withBatchOrder(order), new CalibrationAccumulator());
  }

  private static int position(int row) {
    int[] order = SampleOrder.permutation(SAMPLES);
    for (int i = 0; i < order.length; i++) {
      if (order[i] == row) {
        return i;
      }
    }
    throw new AssertionError("row " + row + " is not in the order");
  }

  /** input -> CheckNumerics (fails on a NaN) -> a fused BN in inference mode -> output. */
  private Path checkedInputModel() throws IOException {
    Path file = dir.resolve("frozen_graph.pb");
    try (Graph g = new Graph()) {
      TfTestGraphBuilder b = new TfTestGraphBuilder(g);
      Output<?> input = b.placeholder("input", DataType.DT_FLOAT, Shape.of(-1, 4));
      Output<?> checked = b.op("CheckNumerics", "checked", List.of(input), a -> a.setAttr("message", "bad input"))
          .output(0);
      float[] ones = {1, 1, 1, 1};
      float[] zeros = {0, 0, 0, 0};
      Output<?> y = b.fusedBatchNormV3("bn/FusedBatchNormV3", b.op("Reshape", "to_nhwc",
          List.of(checked, b.constInt("shape", -1, 1, 1, 4))).output(0), b.constFloat("bn/gamma", ones, 4),
          b.constFloat("bn/beta", zeros, 4), b.constFloat("bn/moving_mean", zeros, 4),
          b.constFloat("bn/moving_variance", ones, 4), 1e-3f, false, 1f).output(0);
      b.identity("output", y);
      Files.write(file, g.toGraphDef().toByteArray());
    }
    return file;
  }

  private Path dataWithNanIn(int row) throws IOException {
    float[] values = new float[SAMPLES * 4];
    for (int i = 0; i < values.length; i++) {
      values[i] = (i * 7 % 13) / 13f;
    }
    values[row * 4 + 2] = Float.NaN;
    Path file = dir.resolve("inputs.npy");
    Files.write(file, TestFiles.npy(values, SAMPLES, 4));
    return file;
  }
}
