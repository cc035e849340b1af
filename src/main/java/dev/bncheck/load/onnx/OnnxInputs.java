package dev.bncheck.load.onnx;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.InvalidOptionException;
import dev.bncheck.load.JavaHeap;
import dev.bncheck.load.array.InputArray;
import dev.bncheck.load.array.WholeNumbers;
import dev.bncheck.load.array.InputPairing;
import dev.bncheck.model.Float16;
import dev.bncheck.model.Tensor;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The graph inputs an ONNX model is fed at and the user's data for them: matched by name,
 * checked for type and shape, or made up ({@code --synthetic}).
 */
final class OnnxInputs {

  /** The element types bncheck feeds; integer data arrives as float32 and is checked to be whole. */
  private static final Set<Integer> FEEDABLE = Set.of(OnnxProto.FLOAT, OnnxProto.FLOAT16, OnnxProto.DOUBLE,
      OnnxProto.INT32, OnnxProto.INT64, OnnxProto.UINT8, OnnxProto.BOOL);

  /** Integers float32 holds exactly: up to 2^24. */

  private static final long SEED = 20261127L;

  /**
   * A graph input.
   *
   * @param dims each dimension, -1 where symbolic; null when the rank is not declared
   */
  record Input(String name, int elemType, long[] dims) {

    /** Whether its first dimension is free: the batch size is then the caller's to choose (BN005). */
    boolean dynamicBatch() {
      return dims == null || (dims.length > 0 && dims[0] < 0);
    }
  }

  /**
   * An input with its data; the data's first axis lists the samples, fed in {@code order} (the
   * data's row of each fed sample), or as they are where it is null. An order read in place of a
   * shuffled copy of the data: copying ResNet-50's 256 samples (154 MB) took 0.8 s.
   */
  record Feed(Input input, Tensor data, int[] order) {

    /** This input's data fed in {@code order}. */
    Feed inOrder(int[] order) {
      return new Feed(input, data, order);
    }

    /** The data's row of the {@code i}th sample fed. */
    int row(int i) {
      return order == null ? i : order[i];
    }
  }

  private OnnxInputs() {}

  /** The graph inputs that are fed: those without an initializer (before IR 4, initializers are listed as inputs). */
  static List<Input> of(OnnxProto.Graph graph) {
    Set<String> initialized = new HashSet<>();
    graph.initializers().forEach(t -> initialized.add(t.name()));
    return graph.inputs().stream().filter(v -> !initialized.contains(v.name()))
        .map(v -> new Input(v.name(), v.elemType(), v.dims())).toList();
  }

  /**
   * Pairs each input with its data: by name, or a single unnamed array for a model with one input.
   *
   * @throws InvalidInputException naming the input, for a missing, mistyped or misshapen array
   */
  static List<Feed> match(List<Input> inputs, Map<String, InputArray> data) {
    Map<Input, InputArray> paired = InputPairing.pair(inputs, Input::name, data, "");
    long samples = -1;
    List<Feed> feeds = new java.util.ArrayList<>();
    for (var e : paired.entrySet()) {
      Input input = e.getKey();
      if (!FEEDABLE.contains(input.elemType())) {
        throw new InvalidInputException("--inputs", input.name(), "the model takes "
            + OnnxProto.typeName(input.elemType()) + "; bncheck feeds float32, float16, float64, int32, int64, uint8 and bool");
      }
      if (!(e.getValue() instanceof InputArray.Numbers numbers)) {
        throw new InvalidInputException("--inputs", input.name(), "the model takes "
            + OnnxProto.typeName(input.elemType()) + ", the data holds strings");
      }
      Tensor t = numbers.tensor();
      int[] shape = t.shape();
      boolean fits = shape.length > 0 && (input.dims() == null || input.dims().length == shape.length);
      for (int d = 1; fits && input.dims() != null && d < shape.length; d++) {
        fits = input.dims()[d] < 0 || input.dims()[d] == shape[d];
      }
      if (!fits) {
        throw new InvalidInputException("--inputs", input.name(), "data of shape " + Arrays.toString(shape)
            + " does not fit the model's input of shape " + describe(input.dims())
            + " (the data's first axis lists the samples)");
      }
      if (shape[0] == 0) {
        throw new InvalidInputException("--inputs", input.name(), "holds no samples; calibration needs at least one");
      }
      if (samples >= 0 && shape[0] != samples) {
        throw new InvalidInputException("--inputs", input.name(), shape[0] + " samples, but another input has "
            + samples);
      }
      samples = shape[0];
      requireWholeNumbers(input, t);
      feeds.add(new Feed(input, t, null));
    }
    return feeds;
  }

  /** Standard-normal samples for float inputs, zeros for integer ones (an index or a mask more often than a number). */
  static Map<String, InputArray> synthetic(List<Input> inputs, int samples) {
    SplittableRandom random = new SplittableRandom(SEED);
    Map<String, InputArray> out = new LinkedHashMap<>();
    String option = "--synthetic " + samples;
    for (Input input : inputs) {
      if (input.dims() == null || input.dims().length == 0) {
        throw new InvalidInputException("--synthetic", input.name(),
            "the input's shape is not declared; give real data with --inputs");
      }
      int[] shape = new int[input.dims().length];
      shape[0] = samples;
      for (int d = 1; d < shape.length; d++) {
        if (input.dims()[d] < 0 || input.dims()[d] > Integer.MAX_VALUE) {
          throw new InvalidInputException("--synthetic", input.name(),
              "dimension " + d + " of the input is symbolic; give real data with --inputs");
        }
        shape[d] = (int) input.dims()[d];
      }
      long count = Tensor.elementCount(shape);
      if (count < 0 || !JavaHeap.fits(count * 4)) {
        throw new InvalidOptionException(option, "input " + input.name() + ": " + samples
            + " samples do not fit in memory; use fewer");
      }
      float[] values = new float[(int) count];
      boolean floats = input.elemType() == OnnxProto.FLOAT || input.elemType() == OnnxProto.DOUBLE
          || input.elemType() == OnnxProto.FLOAT16;
      for (int i = 0; i < values.length && floats; i++) {
        values[i] = (float) random.nextGaussian();
      }
      out.put(input.name(), new InputArray.Numbers(new Tensor.Float32(shape, values)));
    }
    return out;
  }

  /**
   * An integer or boolean input takes whole numbers within its type's range, held exactly
   * ({@link WholeNumbers}). A half input takes finite values up to 65504: beyond, the value would
   * reach the model as infinity.
   */
  private static void requireWholeNumbers(Input input, Tensor t) {
    if (input.elemType() == OnnxProto.FLOAT16) {
      for (int i = 0; i < t.size(); i++) {
        double v = t.get(i);
        if (Double.isFinite(v) && Math.abs(v) > Float16.MAX_VALUE) {
          throw new InvalidInputException("--inputs", input.name(), "the model takes float16, whose largest value is"
              + " 65504, but the data holds " + v);
        }
      }
      return;
    }
    double[] range = switch (input.elemType()) {
      case OnnxProto.INT32 -> new double[] {Integer.MIN_VALUE, Integer.MAX_VALUE};
      case OnnxProto.INT64 -> new double[] {-0x1p63, 0x1p63 - 1024};
      case OnnxProto.UINT8 -> new double[] {0, 255};
      case OnnxProto.BOOL -> new double[] {0, 1};
      default -> null;
    };
    if (range == null) {
      return;
    }
    WholeNumbers.misfit(t, range[0], range[1]).ifPresent(why -> {
      throw new InvalidInputException("--inputs", input.name(), "the model takes "
          + OnnxProto.typeName(input.elemType()) + ", but " + why);
    });
  }

  static String describe(long[] dims) {
    if (dims == null) {
      return "of unknown rank";
    }
    return Arrays.stream(dims).mapToObj(d -> d < 0 ? "?" : String.valueOf(d)).toList().toString();
  }
}
