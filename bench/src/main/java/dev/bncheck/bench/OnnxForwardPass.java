package dev.bncheck.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.bncheck.load.array.NpyReader;
import dev.bncheck.model.Tensor;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The baseline of scripts/bench-e2e.sh for ONNX models: a plain ONNX Runtime for Java forward pass,
 * as a whole process, of the batches {@code bncheck check} feeds the same model: create a session
 * with ONNX Runtime's default options (every graph optimization on, as an application runs it),
 * read the {@code .npy}, feed batches to the first input and fetch the first output. With
 * {@code unoptimized}, graph optimizations are off, as bncheck runs the model so that no BN is
 * fused into its convolution. With {@code all-cores}, the session runs one thread per processor, as
 * bncheck's do (ONNX Runtime's default is the physical cores it detects, which can be fewer).
 * Usage: OnnxForwardPass MODEL.onnx INPUTS.npy [BATCH_SIZE] [unoptimized] [all-cores]
 */
public final class OnnxForwardPass {

  private OnnxForwardPass() {}

  public static void main(String[] args) throws OrtException {
    long start = System.nanoTime();
    int batchSize = args.length > 2 ? Integer.parseInt(args[2]) : 32;
    List<String> flags = Arrays.asList(args).subList(Math.min(3, args.length), args.length);
    boolean optimized = !flags.contains("unoptimized");
    boolean allCores = flags.contains("all-cores");
    Tensor.Float32 inputs = (Tensor.Float32) NpyReader.read(Path.of(args[1]));
    int[] shape = inputs.shape();
    int perSample = inputs.data().length / shape[0];
    double checksum = 0;
    long loaded;
    long end;
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      if (!optimized) {
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
      }
      if (allCores) {
        options.setIntraOpNumThreads(Runtime.getRuntime().availableProcessors());
      }
      try (OrtSession session = env.createSession(args[0], options)) {
        String input = session.getInputNames().iterator().next();
        loaded = System.nanoTime();
        for (int first = 0; first < shape[0]; first += batchSize) {
          int n = Math.min(batchSize, shape[0] - first);
          long[] batchShape = Arrays.stream(shape).asLongStream().toArray();
          batchShape[0] = n;
          FloatBuffer slice = FloatBuffer.wrap(inputs.data(), first * perSample, n * perSample).slice();
          try (OnnxTensor batch = OnnxTensor.createTensor(env, slice, batchShape);
              OrtSession.Result result = session.run(Map.of(input, batch))) {
            FloatBuffer out = ((OnnxTensor) result.get(0)).getFloatBuffer();
            checksum += out.get(0);
          }
        }
        end = System.nanoTime();
      }
    }
    System.out.printf(Locale.ROOT, "ONNX Runtime forward pass (%s%s): %d samples in batches of %d, load %.2f s, "
        + "forward %.2f s (checksum %.3g)%n", optimized ? "default optimizations" : "optimizations off",
        allCores ? ", one thread per processor" : "", shape[0],
        batchSize, (loaded - start) / 1e9, (end - loaded) / 1e9, checksum);
  }
}
