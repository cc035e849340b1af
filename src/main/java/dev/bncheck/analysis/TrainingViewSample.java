package dev.bncheck.analysis;

import dev.bncheck.engine.ChannelMoments;
import dev.bncheck.engine.LayerCalibration;
import dev.bncheck.model.Numbers;
import java.util.Locale;
import java.util.Optional;

/**
 * Whether a training view recorded in a dump ran on a sample of the whole calibration set. The
 * exporters record it on the batches they are given first; from a file sorted by class those hold
 * one or two classes, whose batch statistics normalize the layers after the first unlike the mixed
 * batches of training, and the layers judged on that view look stale. Two healthy models of an
 * outside tester (a Keras and a PyTorch CNN, BN after ReLU) got BN003 errors on dumps of 1,024
 * samples sorted by class, and passed on the same samples shuffled.
 *
 * <p>The first layer with data sees the same inputs in both views (no BN layer before it
 * normalizes), so its training view's means differ from the whole data's only through which
 * samples it holds. Drawn at random, n of the N samples put a channel's mean within chance of the
 * whole's: its standard error is at most {@code s sqrt(1/n - 1/N)} (sampling without replacement;
 * {@code s}, the deviation of single values, bounds that of a sample's mean over several positions,
 * which are correlated). Beyond that, at the family-wise rate over the channels, the view's
 * samples were chosen otherwise.
 */
public final class TrainingViewSample {

  private TrainingViewSample() {}

  /**
   * Why {@code view}, the training view of the first layer with data, is no sample of {@code whole},
   * its inference view; empty when it may be one, or when it holds every sample.
   */
  public static Optional<String> notASample(LayerCalibration whole, LayerCalibration view) {
    long n = view.samples();
    long total = whole.samples();
    if (n < 2 || n >= total) {
      return Optional.empty();
    }
    ChannelMoments all = whole.population();
    ChannelMoments part = view.population();
    int channels = all.channels();
    double critical = SamplingError.criticalValue(SamplingError.FAMILY_WISE_ALPHA / (2.0 * channels));
    double worst = 0;
    int worstChannel = -1;
    for (int c = 0; c < channels; c++) {
      double variance = all.biasedVariance(c);
      if (all.count()[c] == 0 || part.count()[c] == 0 || !(variance > 0)) {
        continue;
      }
      double z = Math.abs(part.mean()[c] - all.mean()[c]) / Math.sqrt(variance * (1.0 / n - 1.0 / total));
      if (z > worst) {
        worst = z;
        worstChannel = c;
      }
    }
    if (worst <= critical) {
      return Optional.empty();
    }
    return Optional.of(String.format(Locale.ROOT, "its first layer's means differ from those of all %d samples by"
        + " more than chance allows a sample of %d (channel %d, by %s standard errors; at most %s by chance): its"
        + " batches are no sample of the whole (a file sorted by class?), and the layers after the first are judged"
        + " on the inference view", total, n, worstChannel, Numbers.brief(worst), Numbers.brief(critical)));
  }
}
