package dev.bncheck.analysis;

import dev.bncheck.analysis.CheckDeclaration.DataNeed;

import dev.bncheck.engine.BatchSizeConsistency;
import dev.bncheck.model.Numbers;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * BN005: the serving signature gives a sample a different output when it runs alone than when
 * it runs in a batch. A model-level check: it looks at the model's outputs, not at one layer.
 */
@Declares(code = BatchSizeDependence.CODE, title = "outputs at batch size 1 differ from batched outputs", data = DataNeed.VALUES)
public final class BatchSizeDependence implements ModelCheck {

  static final String CODE = "BN005";

  /** One finding per output whose results depend on the batch, in the order the backend measured them. */
  @Override
  public List<Finding> check(ModelContext context) {
    return context.calibration().batchSizeChecks().stream()
        .flatMap(c -> finding(context.index(), c, context.run().output(c.output())).stream())
        .toList();
  }

  /** @param output the output as the backend names it ({@link RunInfo#output}) */
  private static Optional<Finding> finding(int index, BatchSizeConsistency c, String output) {
    if (c.consistent()) {
      return Optional.empty();
    }
    String message = String.format(Locale.ROOT,
        "output %s of sample %d differs by %s (%s%% of the output's RMS) between a batch of %d and batch size 1:"
            + " the serving graph's results depend on the other samples in the batch",
        c.output(), c.worstSample(), Numbers.brief(c.maxAbsDifference()), Numbers.brief(100 * c.relativeDifference()),
        c.batchSize());
    String fix = "a graph in inference mode computes each sample alone; look for BN002 (training-mode BN) in"
        + " this report, or other batch-level ops (batch statistics, cross-sample pooling) on the serving path,"
        + " and re-export the model in inference mode.";
    return Optional.of(new Finding(CODE, Severity.ERROR, index, output, message,
        List.of(new Evidence("output", c.output()), new Evidence("batch_size", c.batchSize()),
            new Evidence("samples_compared", c.samplesCompared()), new Evidence("worst_sample", c.worstSample()),
            new Evidence("max_abs_difference", c.maxAbsDifference()),
            new Evidence("relative_difference", c.relativeDifference())),
        fix));
  }
}
