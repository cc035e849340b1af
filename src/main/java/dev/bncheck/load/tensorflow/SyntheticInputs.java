package dev.bncheck.load.tensorflow;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.InvalidOptionException;
import dev.bncheck.load.JavaHeap;
import dev.bncheck.load.array.InputArray;
import dev.bncheck.model.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Random standard-normal samples for every float model input, zeros for integer ones, and WAV files
 * of noise for a string input the graph decodes with DecodeWav ({@code --synthetic N}), for when no
 * data is at hand. They exercise the graph (capture, self-check, batch-size dependence) but do
 * not look like real data, so data-driven findings on them are indicative only.
 */
final class SyntheticInputs {

  private static final long SEED = 20261127L;

  private SyntheticInputs() {}

  /**
   * Samples shaped like the inputs: the first dimension of each is the samples, and a scalar
   * input one value for every run.
   */
  static Map<String, InputArray> make(List<ModelRunner.Input> inputs, int samples, TfGraph graph) {
    SplittableRandom random = new SplittableRandom(SEED);
    Map<String, InputArray> out = new LinkedHashMap<>();
    for (ModelRunner.Input input : inputs) {
      Optional<NodeDef> decoder = input.dtype() == DataType.DT_STRING ? wavDecoder(graph, input) : Optional.empty();
      if (decoder.isPresent()) {
        out.put(input.key(), noiseWavs(decoder.get(), samples, random));
        continue;
      }
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
      if (input.scalar()) {
        out.put(input.key(), perRun(input));
        continue;
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
      boolean integer = ModelRunner.takesWholeNumbers(input.dtype());
      for (int i = 0; i < values.length && !integer; i++) {
        values[i] = (float) random.nextGaussian();
      }
      out.put(input.key(), new InputArray.Numbers(new Tensor.Float32(shape, values)));
    }
    return out;
  }

  /**
   * The value of a scalar input for every run: false or zero for a flag or an index (a mode flag
   * such as is_training is false at inference); a float scalar is a rate or a threshold that
   * changes what the model computes, which bncheck does not make up.
   */
  private static InputArray perRun(ModelRunner.Input input) {
    if (!ModelRunner.takesWholeNumbers(input.dtype())) {
      throw new InvalidInputException("--synthetic", input.key(), "the input is a single " + input.dtype()
          + " value for the whole batch (a rate or a threshold), which bncheck cannot make up; run with --inputs,"
          + " giving it as " + input.key() + "=VALUE");
    }
    return new InputArray.Numbers(new Tensor.Float32(new int[0], new float[] {0}));
  }

  /** The inputs that synthetic data gives one value for every run, by key: the scalars that take whole numbers. */
  static Map<String, Double> perRunValues(List<ModelRunner.Input> inputs) {
    Map<String, Double> values = new LinkedHashMap<>();
    for (ModelRunner.Input input : inputs) {
      if (input.scalar() && ModelRunner.takesWholeNumbers(input.dtype())) {
        values.put(input.key(), 0.0);
      }
    }
    return values;
  }

  /** The DecodeWav node of the top-level graph that reads this input directly, if there is one. */
  private static Optional<NodeDef> wavDecoder(TfGraph graph, ModelRunner.Input input) {
    String node = GraphScope.Ref.parse(input.tensor()).node();
    return graph.topLevel().nodes().stream()
        .filter(n -> n.getOp().equals("DecodeWav") && n.getInputCount() > 0
            && GraphScope.Ref.parse(n.getInput(0)).node().equals(node))
        .findFirst();
  }

  /** The length a DecodeWav without desired_samples gets: one second at 16 kHz, as speech models take. */
  static final int DEFAULT_WAV_SAMPLES = 16000;

  /** The loudest noise sample, in PCM units: well inside 16 bits, like speech at a normal level. */
  private static final double NOISE_AMPLITUDE = 3000;

  /**
   * One WAV file of Gaussian noise per sample (16-bit PCM, 16 kHz), as long and with as many
   * channels as the decoder asks for, so that it decodes to exactly what the graph expects.
   */
  private static InputArray noiseWavs(NodeDef decoder, int samples, SplittableRandom random) {
    long desiredSamples = decoder.getAttrMap().containsKey("desired_samples")
        ? decoder.getAttrMap().get("desired_samples").getI() : -1;
    long desiredChannels = decoder.getAttrMap().containsKey("desired_channels")
        ? decoder.getAttrMap().get("desired_channels").getI() : -1;
    int frames = desiredSamples > 0 && desiredSamples <= 10 * 60 * DEFAULT_WAV_SAMPLES
        ? (int) desiredSamples : DEFAULT_WAV_SAMPLES;
    int channels = desiredChannels > 0 && desiredChannels <= 8 ? (int) desiredChannels : 1;
    byte[][] files = new byte[samples][];
    for (int s = 0; s < samples; s++) {
      files[s] = wav(frames, channels, random);
    }
    return new InputArray.Strings(new int[] {samples}, files);
  }

  /** A canonical 44-byte-header RIFF WAVE file of 16-bit PCM noise at 16 kHz. */
  static byte[] wav(int frames, int channels, SplittableRandom random) {
    int dataBytes = frames * channels * 2;
    ByteBuffer b = ByteBuffer.allocate(44 + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(36 + dataBytes).put("WAVE".getBytes(StandardCharsets.US_ASCII));
    b.put("fmt ".getBytes(StandardCharsets.US_ASCII)).putInt(16).putShort((short) 1).putShort((short) channels)
        .putInt(DEFAULT_WAV_SAMPLES).putInt(DEFAULT_WAV_SAMPLES * channels * 2).putShort((short) (channels * 2))
        .putShort((short) 16);
    b.put("data".getBytes(StandardCharsets.US_ASCII)).putInt(dataBytes);
    for (int i = 0; i < frames * channels; i++) {
      double v = NOISE_AMPLITUDE * random.nextGaussian();
      b.putShort((short) Math.max(Short.MIN_VALUE, Math.min(Short.MAX_VALUE, Math.round(v))));
    }
    return b.array();
  }
}
