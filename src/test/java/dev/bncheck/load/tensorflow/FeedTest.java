package dev.bncheck.load.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.load.array.InputArray;
import dev.bncheck.model.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;

/**
 * Samples fed in the shuffled order are read in place, and a failing run names them as the file
 * holds them: the run's positions in that order are other samples than the file's rows of those
 * numbers.
 */
class FeedTest {

  private static final InputArray TWELVE = new InputArray.Numbers(new Tensor.Float32(new int[] {12}, new float[12]));
  private static final InputArray RATE = new InputArray.Numbers(new Tensor.Float32(new int[0], new float[] {0.5f}));

  @Test
  void aRunNamesTheFilesRowsOfItsSamplesInTheShuffledOrder() {
    int[] order = {5, 2, 9, 0, 11, 1, 3, 4, 6, 7, 8, 10};
    Feed rate = new Feed(List.of("rate:0"), RATE, DataType.DT_FLOAT, Feed.Batching.PER_RUN, null);
    Feed x = new Feed(List.of("x:0"), TWELVE, DataType.DT_FLOAT, Feed.Batching.BATCHES, null).inOrder(order);

    assertThat(Feed.samples(List.of(rate, x), 1, 2))
        .isEqualTo("samples 2, 9 of the data (in the shuffled order of --batch-order, positions 1 to 2)");
    assertThat(x.row(4)).isEqualTo(11);
  }

  @Test
  void inTheFilesOrderARunIsARangeOfSamples() {
    Feed x = new Feed(List.of("x:0"), TWELVE, DataType.DT_FLOAT, Feed.Batching.BATCHES, null);

    assertThat(Feed.samples(List.of(x), 8, 4)).isEqualTo("samples 8 to 11");
    assertThat(x.row(4)).isEqualTo(4);
  }
}
