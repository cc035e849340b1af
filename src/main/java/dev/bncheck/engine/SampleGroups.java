package dev.bncheck.engine;

import java.util.List;

/**
 * The moments of equal groups of samples cut from the first batches of a layer's calibration
 * data. With fewer than four batches, their spread is what shows how heavy the data's tails are
 * (see {@code SamplingError.varianceInflation}).
 *
 * @param groups the moments of each group, in the order the samples arrived
 * @param samplesPerGroup the samples in each group
 */
public record SampleGroups(List<ChannelMoments> groups, int samplesPerGroup) {

  /** No groups: the data arrived as moments, or in batches too small to cut. */
  public static final SampleGroups NONE = new SampleGroups(List.of(), 0);

  public SampleGroups {
    groups = List.copyOf(groups);
  }
}
