package dev.bncheck.load.pytorch;

import java.util.Optional;
import java.util.OptionalDouble;

/**
 * What a whole pickled module records about one submodule beyond its tensors, where a state_dict
 * records nothing.
 *
 * @param type the submodule's class, by name only
 * @param epsilon its {@code eps} attribute, if it has a number there
 * @param momentum its {@code momentum} attribute: empty when absent, an empty value for
 *     {@code None} (a cumulative average, which has no momentum)
 * @param tracksRunningStatistics its {@code track_running_stats} attribute, if it has a boolean there
 */
record ModuleFacts(PyGlobal type, OptionalDouble epsilon, Optional<OptionalDouble> momentum,
    Optional<Boolean> tracksRunningStatistics) {

  /**
   * Whether it is one of torch.nn's BN classes built with {@code track_running_stats=False}: it
   * keeps no running statistics, so a state_dict has no tensors to find it by, and it normalizes
   * with each batch's own statistics in eval() too.
   */
  boolean isBatchNormWithoutRunningStatistics() {
    return isTorchBatchNorm() && tracksRunningStatistics.equals(Optional.of(false));
  }

  /** Whether the class keeps running statistics but is not batch normalization: InstanceNorm with {@code track_running_stats}. */
  boolean isOtherNorm() {
    return type.name().contains("InstanceNorm");
  }

  /**
   * Whether the class is one of torch.nn's own BN classes. A subclass pickles under its own name
   * alone, and an InstanceNorm subclass that tracks running statistics holds exactly what a BN
   * layer holds: such a module is read as BN, and the report says on what grounds.
   */
  boolean isTorchBatchNorm() {
    return type.module().equals("torch.nn.modules.batchnorm") && type.name().contains("BatchNorm");
  }
}
