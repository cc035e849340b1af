package dev.bncheck.load.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.model.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A run that fails names its samples as the user finds them in the data: in the shuffled order
 * (the default), a run's positions are other samples than the file's rows of those numbers (an
 * outside tester's bad index in sample 5 was reported as "samples 8 to 15").
 */
class RunSamplesTest {

  private static final OnnxInputs.Input X = new OnnxInputs.Input("x", OnnxProto.FLOAT, new long[] {-1});
  private static final Tensor TWELVE = new Tensor.Float32(new int[] {12}, new float[12]);

  @Test
  void inTheFilesOrderARunIsARangeOfSamples() {
    assertThat(OrtRunner.samples(List.of(new OnnxInputs.Feed(X, TWELVE, null)), 8, 4)).isEqualTo("samples 8 to 11");
    assertThat(OrtRunner.samples(List.of(new OnnxInputs.Feed(X, TWELVE, null)), 5, 1)).isEqualTo("sample 5");
  }

  @Test
  void inTheShuffledOrderARunListsTheFilesRowsSorted() {
    int[] order = {5, 2, 9, 0, 11, 1, 3, 4, 6, 7, 8, 10};
    List<OnnxInputs.Feed> feeds = List.of(new OnnxInputs.Feed(X, TWELVE, order));
    assertThat(OrtRunner.samples(feeds, 1, 2))
        .isEqualTo("samples 2, 9 of the data (in the shuffled order of --batch-order, positions 1 to 2)");
    assertThat(OrtRunner.samples(feeds, 0, 1))
        .isEqualTo("sample 5 of the data (in the shuffled order of --batch-order, position 0)");
    assertThat(OrtRunner.samples(feeds, 0, 10)).isEqualTo("samples 0, 1, 2, 3, 4, 5, 6, 7, ... (10 in all) of the"
        + " data (in the shuffled order of --batch-order, positions 0 to 9)");
  }
}
