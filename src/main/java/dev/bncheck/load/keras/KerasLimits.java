package dev.bncheck.load.keras;

/**
 * Bounds on what bncheck reads from a Keras file: generous for real models (a ResNet-152's
 * config.json is about 1 MB, its weights a few hundred MB; the widest BN layers have a few
 * thousand channels), small enough that a forged size, shape or nesting cannot exhaust the heap
 * or the stack before bncheck has read what it claims.
 */
final class KerasLimits {

  /** config.json of a .keras archive, or the model_config attribute of a .h5 file. */
  static final long MAX_CONFIG_BYTES = 64L << 20;

  /** metadata.json of a .keras archive: a version and a date. */
  static final long MAX_METADATA_BYTES = 1L << 20;

  /** The weights file, read into memory whole: the HDF5 reader works on the bytes. */
  static final long MAX_WEIGHTS_BYTES = Integer.MAX_VALUE - 8;

  /** Deflate cannot expand data more than 1032-fold; a larger claim is a corrupt or forged size. */
  static final long MAX_DEFLATE_RATIO = 1032;

  /** Entries in a .keras archive: three files, plus assets some layers save. */
  static final int MAX_ARCHIVE_ENTRIES = 10_000;

  /** Channels of one BN layer; a larger declared shape is refused before anything is allocated. */
  static final int MAX_CHANNELS = 1 << 20;

  /** Models used as layers inside models; each level is a recursion of the config reader. */
  static final int MAX_MODEL_NESTING = 32;

  /** Names in a weight_names attribute of a legacy .h5 layer group. */
  static final int MAX_WEIGHT_NAMES = 1 << 20;

  private KerasLimits() {}
}
