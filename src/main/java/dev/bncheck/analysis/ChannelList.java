package dev.bncheck.analysis;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntPredicate;

/** Channel indices selected by a predicate, their short description for messages, and per-channel medians. */
final class ChannelList {

  private static final int SHOWN = 8;

  private ChannelList() {}

  /** The median of one value per channel (at least one). */
  static double median(double[] perChannel) {
    double[] sorted = perChannel.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  }

  static List<Integer> where(int channels, IntPredicate predicate) {
    List<Integer> out = new ArrayList<>();
    for (int c = 0; c < channels; c++) {
      if (predicate.test(c)) {
        out.add(c);
      }
    }
    return out;
  }

  /** "channel 3", "channels 0, 5, 9", or "channels 0, 1, ... 7 and 12 more". */
  static String describe(List<Integer> channels) {
    StringBuilder out = new StringBuilder(channels.size() == 1 ? "channel " : "channels ");
    for (int i = 0; i < Math.min(SHOWN, channels.size()); i++) {
      if (i > 0) {
        out.append(", ");
      }
      out.append(channels.get(i));
    }
    if (channels.size() > SHOWN) {
      out.append(" and ").append(channels.size() - SHOWN).append(" more");
    }
    return out.toString();
  }

  /** The first few channels, for evidence; the count is given beside it. */
  static List<Integer> head(List<Integer> channels) {
    return List.copyOf(channels.subList(0, Math.min(SHOWN, channels.size())));
  }
}
