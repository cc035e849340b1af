package dev.bncheck.load.tensorflow;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.InvalidOptionException;
import dev.bncheck.load.JavaHeap;
import dev.bncheck.load.array.InputArray;
import dev.bncheck.model.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Random standard-normal samples for every float model input, zeros for integer ones ({@code --synthetic N}), for when no
 * data is at hand. They exercise the graph (capture, self-check, batch-size dependence) but do
 * not look like real data, so data-driven findings on them are indicative only.
 */
final class SyntheticInputs {

  private static final long SEED = 20261127L;

  private SyntheticInputs() {}

  /**
   * Samples shaped like the inputs: the first dimension of each is the samples, and a scalar
   * input gets one value per sample.
   */
  static Map<String, InputArray> make(List<ModelRunner.Input> inputs, int samples) {
    SplittableRandom random = new SplittableRandom(SEED);
    Map<String, InputArray> out = new LinkedHashMap<>();
    for (ModelRunner.Input input : inputs) {
      if (input.dtype() == DataType.DT_STRING) {
        // random bytes are no WAV file, image or serialized example: the graph would only refuse them
        throw new InvalidInputException("--synthetic", input.key(), "the input takes strings, which bncheck cannot"
            + " make up; give files with --inputs " + input.key() + "=@FILE (or @GLOB), or feed a tensor past the"
            + " decoding with --input-node (docs/tensorflow.md)");
      }
      List<TensorShapeProto.Dim> dims = input.shape().getDimList();
      if (input.shape().getUnknownRank()) {
        throw new InvalidInputException("--synthetic", input.key(),
            "the input's shape is unknown; give real data with --inputs");
      }
      int[] shape = new int[Math.max(1, dims.size())];
      shape[0] = samples;
      for (int d = 1; d < dims.size(); d++) {
        if (dims.get(d).getSize() < 0) {
          throw new InvalidInputException("--synthetic", input.key(),
              "dimension " + d + " of the input is unknown; give real data with --inputs");
        }
        shape[d] = (int) dims.get(d).getSize();
      }
      long count = Tensor.elementCount(shape);
      String option = "--synthetic " + samples;
      if (count < 0) {
        throw new InvalidOptionException(option, "input " + input.key() + ": more than " + Tensor.MAX_ELEMENTS
            + " values, the most one tensor holds; use fewer samples");
      }
      if (!JavaHeap.fits(count * 4)) {
        long perSample = samples == 0 ? 0 : count / samples;
        throw new InvalidOptionException(option, "input " + input.key() + ": " + samples + " samples of "
            + perSample + " values: " + JavaHeap.tooLarge(count * 4) + "; at most "
            + JavaHeap.room() / Math.max(1, perSample * 4) + " samples fit");
      }
      float[] values = new float[(int) count];
      // An integer input is an index or a mask more often than a number: zeros index the first
      // entry of any table, where random integers could index beyond its end
      boolean integer = input.dtype() == DataType.DT_INT32 || input.dtype() == DataType.DT_INT64;
      for (int i = 0; i < values.length && !integer; i++) {
        values[i] = (float) random.nextGaussian();
      }
      out.put(input.key(), new InputArray.Numbers(new Tensor.Float32(shape, values)));
    }
    return out;
  }
}
