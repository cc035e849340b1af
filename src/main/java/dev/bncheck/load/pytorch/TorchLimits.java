package dev.bncheck.load.pytorch;

/**
 * Bounds on what bncheck reads from a checkpoint: generous for real models, small enough that a
 * hostile file cannot exhaust the heap or the stack, whatever its headers declare.
 */
final class TorchLimits {

  /**
   * The pickle of a torch.save file: it holds the structure only (tensor data lies in storages
   * beside it), a few MB even for a whole pickled model of hundreds of layers.
   */
  static final int MAX_PICKLE_BYTES = 64 << 20;

  /** Containers inside containers in a pickle; a module tree is some tens deep. */
  static final int MAX_NESTING = 200;

  /**
   * Values on the pickle machine's stack and in its memo together, and containers created: a
   * tensor costs some ten of each, so this is hundreds of thousands of tensors, in some hundred MB
   * of heap at most.
   */
  static final int MAX_PICKLE_OBJECTS = 2_000_000;

  /** Channels of one BN layer: the widest real layers have some thousands. */
  static final long MAX_CHANNELS = 1 << 22;

  /**
   * The bytes one BN parameter's view may span in its storage: a vector of the most channels in
   * float64 is 32 MB; a stride that spreads a few values over gigabytes is refused.
   */
  static final int MAX_SPAN_BYTES = 256 << 20;

  /** Dimensions of one tensor. */
  static final int MAX_RANK = 16;

  /** Entries in a checkpoint archive or tensors in a safetensors header. */
  static final int MAX_ENTRIES = 1_000_000;

  /**
   * A zip entry declaring more than this is absurd for a checkpoint bncheck can read and is
   * refused before anything is inflated.
   */
  static final long MAX_ENTRY_BYTES = 1L << 40;

  /** The safetensors header; the reference implementation refuses more than 100 MB too. */
  static final int MAX_SAFETENSORS_HEADER_BYTES = 100_000_000;

  private TorchLimits() {}
}
