package dev.bncheck.load.tensorflow;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.model.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Random standard-normal samples for every model input ({@code --synthetic N}), for when no
 * data is at hand. They exercise the graph (capture, self-check, batch-size dependence) but do
 * not look like real data, so data-driven findings on them are indicative only.
 */
final class SyntheticInputs {

  private static final long SEED = 20261127L;

  private SyntheticInputs() {}

  static Map<String, Tensor> make(List<ModelRunner.Input> inputs, int samples) {
    SplittableRandom random = new SplittableRandom(SEED);
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (ModelRunner.Input input : inputs) {
      List<TensorShapeProto.Dim> dims = input.shape().getDimList();
      if (input.shape().getUnknownRank() || dims.isEmpty()) {
        throw new InvalidInputException("--synthetic", input.key(),
            "the input's shape is unknown; give real data with --inputs");
      }
      int[] shape = new int[dims.size()];
      shape[0] = samples;
      for (int d = 1; d < dims.size(); d++) {
        if (dims.get(d).getSize() < 0) {
          throw new InvalidInputException("--synthetic", input.key(),
              "dimension " + d + " of the input is unknown; give real data with --inputs");
        }
        shape[d] = (int) dims.get(d).getSize();
      }
      long count = Tensor.elementCount(shape);
      if (count < 0) {
        throw new InvalidInputException("--synthetic", input.key(), "too many values; use fewer samples");
      }
      float[] values = new float[(int) count];
      for (int i = 0; i < values.length; i++) {
        values[i] = (float) random.nextGaussian();
      }
      out.put(input.key(), new Tensor.Float32(shape, values));
    }
    return out;
  }
}
