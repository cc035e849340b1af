package dev.bncheck.load.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.bncheck.model.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Buffers, allocated once, that ONNX Runtime writes float outputs into run after run, for a loop
 * of batches whose consumer reduces each output and keeps nothing. Without them every run
 * allocates its outputs anew, in ONNX Runtime's arena and again on the Java heap: for
 * ResNet-50's 53 BN inputs 1.35 GB a batch of 32, and on a virtual machine first touching fresh
 * memory cost more than the run itself. An output is pinned where a run of two samples showed a
 * float32 tensor whose first dimension is those samples ({@link OrtRunner#perSampleShapes}), so
 * that a batch of {@code count} samples has the same shape with {@code count} first.
 */
final class PinnedOutputs {

  /** Pins nothing: every output is allocated by the run. */
  static final PinnedOutputs NONE = new PinnedOutputs(Map.of(), 0);

  private record Slot(long[] oneSample, ByteBuffer buffer) {}

  private final Map<String, Slot> slots;
  private final int maxCount;
  private boolean disabled;

  private PinnedOutputs(Map<String, Slot> slots, int maxCount) {
    this.slots = slots;
    this.maxCount = maxCount;
  }

  /**
   * Buffers for batches of up to {@code maxCount} samples, for the outputs whose shape on one
   * sample is given; outputs that do not fit one direct buffer, or beyond the direct memory the
   * JVM grants, stay allocated by the run.
   */
  static PinnedOutputs allocate(Map<String, long[]> oneSampleShapes, int maxCount) {
    Map<String, Slot> slots = new LinkedHashMap<>();
    for (Map.Entry<String, long[]> e : oneSampleShapes.entrySet()) {
      long[] shape = e.getValue();
      if (shape.length == 0 || shape[0] != 1) {
        continue;
      }
      long bytes = (long) Float.BYTES * maxCount;
      for (long d : shape) {
        bytes *= d;
      }
      if (bytes <= 0 || bytes > Integer.MAX_VALUE) {
        continue;
      }
      try {
        ByteBuffer buffer = ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.nativeOrder());
        slots.put(e.getKey(), new Slot(shape.clone(), buffer));
      } catch (OutOfMemoryError full) {
        // the JVM's direct memory is spent: the remaining outputs are allocated run by run
        break;
      }
    }
    return new PinnedOutputs(slots, maxCount);
  }

  /** Whether runs of {@code count} samples write {@code name} into a buffer of this set. */
  boolean pins(String name, int count) {
    return !disabled && count <= maxCount && slots.containsKey(name);
  }

  /** Stops pinning: a run refused the buffers, and later runs allocate their outputs. */
  void disable() {
    disabled = true;
  }

  /** The output {@code name} of a run of {@code count} samples, as a tensor over this set's buffer; the caller closes it. */
  OnnxTensor tensor(OrtEnvironment environment, String name, int count) throws OrtException {
    Slot slot = slots.get(name);
    long[] shape = shape(slot, count);
    return OnnxTensor.createTensor(environment, region(slot, shape).asFloatBuffer(), shape);
  }

  /**
   * What the last run of {@code count} samples wrote for {@code name}, read in place: the consumer
   * reads it before the next run writes the buffer again.
   */
  Tensor read(String name, int count) {
    Slot slot = slots.get(name);
    long[] shape = shape(slot, count);
    int[] dims = new int[shape.length];
    for (int i = 0; i < shape.length; i++) {
      dims[i] = (int) shape[i];
    }
    return new Tensor.NativeFloat32(dims, region(slot, shape));
  }

  /** The start of the slot's buffer that a run of this shape fills, in native byte order. */
  private static ByteBuffer region(Slot slot, long[] shape) {
    return slot.buffer().duplicate().position(0).limit((int) (elements(shape) * Float.BYTES)).slice()
        .order(ByteOrder.nativeOrder());
  }

  private static long[] shape(Slot slot, int count) {
    long[] shape = slot.oneSample().clone();
    shape[0] = count;
    return shape;
  }

  private static long elements(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }
}
