package dev.bncheck.load.tensorflow;

import dev.bncheck.load.FailingSample;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.model.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;
import org.tensorflow.Result;

/** Runs a model on some of its fed samples and returns outputs; says why a run failed. */
final class ModelOutputs {

  private ModelOutputs() {}

  /** The {@code outputs} on samples {@code [start, start + count)} of the feeds. */
  static List<Tensor> run(CheckedSession session, List<Feed> feeds, List<ModelRunner.Input> outputs, int start,
      int count, String dataLabel) {
    List<org.tensorflow.Tensor> fed = new ArrayList<>();
    try {
      CheckedSession.Runner runner = Feed.runner(session, feeds, start, count, fed);
      for (ModelRunner.Input output : outputs) {
        runner.fetch(output.tensor());
      }
      List<Tensor> out = new ArrayList<>();
      try (Result result = runner.run()) {
        for (int i = 0; i < outputs.size(); i++) {
          out.add(TensorConversions.toTensor(result.get(i)));
        }
      }
      return out;
    } catch (org.tensorflow.exceptions.TensorFlowException e) {
      boolean eachRunsAlone = count > 1
          && eachRunsAlone(feeds, start, count, dataLabel, sample -> run(session, feeds, outputs, sample, 1, dataLabel));
      throw new InvalidInputException(dataLabel, Feed.samples(feeds, start, count), cannotRun(dataLabel, e,
          eachRunsAlone), e);
    } finally {
      fed.forEach(org.tensorflow.Tensor::close);
    }
  }

  /**
   * Whether each sample of a failed run runs alone ({@link FailingSample#eachRunsAlone}, which
   * throws the failure of the first that does not, named as the file holds it).
   *
   * @param runSample runs one sample alone
   */
  static boolean eachRunsAlone(List<Feed> feeds, int start, int count, String dataLabel, IntConsumer runSample) {
    return FailingSample.eachRunsAlone(start, count, sample -> {
      try {
        runSample.accept(sample);
        return null;
      } catch (org.tensorflow.exceptions.TensorFlowException e) {
        return new InvalidInputException(dataLabel, Feed.samples(feeds, sample, 1), cannotRun(dataLabel, e, false), e);
      } catch (InvalidInputException named) {
        // a run that names its samples itself (count 1 here); any other refusal passes on
        if (named.getCause() instanceof org.tensorflow.exceptions.TensorFlowException) {
          return named;
        }
        throw named;
      }
    });
  }

  /**
   * Why a run failed ({@code onlyTogether}: its samples each run alone). Random samples fit the
   * declared shapes only: inputs that must agree with each other (a ragged tensor's values and row
   * splits, ids and their lengths) make the model fail on them, which is the synthetic data's
   * fault, not the model's or the user's.
   */
  static String cannotRun(String dataLabel, org.tensorflow.exceptions.TensorFlowException e, boolean onlyTogether) {
    String why = TensorFlowRuntime.firstLine(e.getMessage());
    if (why.contains("only supports the NHWC tensor format on the CPU")) {
      // not the data's fault: the CPU kernels without oneDNN refuse channels-first layouts
      return "the model cannot run on this CPU without oneDNN: " + why + " (set TF_ENABLE_ONEDNN_OPTS=1, as"
          + " bin/bncheck does, to run channels-first models)";
    }
    return "the model cannot run on this data" + (onlyTogether ? " (these samples run together; each runs alone)" : "")
        + ": " + why
        + (dataLabel.startsWith("--synthetic") && !why.startsWith("You must feed")
            ? " (random samples fit the declared shapes only; inputs that must agree with each other, as a ragged"
                + " tensor's parts do, need real data: give it with --inputs)" : "");
  }
}
