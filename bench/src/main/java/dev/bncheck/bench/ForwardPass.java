package dev.bncheck.bench;

import dev.bncheck.load.array.NpyReader;
import dev.bncheck.model.Tensor;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.SessionFunction;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;

/**
 * The baseline of scripts/bench-e2e.sh: a plain TensorFlow Java forward pass, as a whole process,
 * of the calibration batches that {@code bncheck check} feeds the same SavedModel: load it (tag
 * {@code serve}), read the {@code .npy}, feed batches of 32 to {@code serving_default} and fetch
 * its output. Usage: ForwardPass MODEL_DIR INPUTS.npy [BATCH_SIZE]
 */
public final class ForwardPass {

  private ForwardPass() {}

  public static void main(String[] args) {
    long start = System.nanoTime();
    int batchSize = args.length > 2 ? Integer.parseInt(args[2]) : 32;
    Tensor.Float32 inputs = (Tensor.Float32) NpyReader.read(java.nio.file.Path.of(args[1]));
    int[] shape = inputs.shape();
    int perSample = inputs.data().length / shape[0];
    double checksum = 0;
    long loaded;
    long end;
    try (SavedModelBundle bundle = SavedModelBundle.load(args[0], "serve")) {
      SessionFunction serving = bundle.function("serving_default");
      String input = serving.signature().inputNames().iterator().next();
      String output = serving.signature().outputNames().iterator().next();
      loaded = System.nanoTime();
      for (int first = 0; first < shape[0]; first += batchSize) {
        int n = Math.min(batchSize, shape[0] - first);
        long[] batchShape = Arrays.stream(shape).asLongStream().toArray();
        batchShape[0] = n;
        float[] slice = Arrays.copyOfRange(inputs.data(), first * perSample, (first + n) * perSample);
        try (TFloat32 batch = TFloat32.tensorOf(Shape.of(batchShape), DataBuffers.of(slice, true, false));
            Result result = serving.call(Map.of(input, batch))) {
          TFloat32 out = (TFloat32) result.get(output).orElseThrow();
          float[] values = new float[(int) out.shape().size()];
          out.copyTo(DataBuffers.of(values, false, false));
          checksum += values[0];
        }
      }
      end = System.nanoTime();
    }
    System.out.printf(Locale.ROOT, "forward pass: %d samples in batches of %d, load %.2f s, forward %.2f s "
        + "(checksum %.3g)%n", shape[0], batchSize, (loaded - start) / 1e9, (end - loaded) / 1e9, checksum);
  }
}
