package dev.bncheck.load.tensorflow;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.model.Tensor;
import java.util.ArrayList;
import java.util.List;
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
      throw new InvalidInputException(dataLabel, Feed.samples(feeds, start, count),
          cannotRun(dataLabel, e), e);
    } finally {
      fed.forEach(org.tensorflow.Tensor::close);
    }
  }

  /**
   * Why a run failed. Random samples fit the declared shapes only: inputs that must agree with
   * each other (a ragged tensor's values and row splits, ids and their lengths) make the model
   * fail on them, which is the synthetic data's fault, not the model's or the user's.
   */
  static String cannotRun(String dataLabel, org.tensorflow.exceptions.TensorFlowException e) {
    String why = TensorFlowRuntime.firstLine(e.getMessage());
    if (why.contains("only supports the NHWC tensor format on the CPU")) {
      // not the data's fault: the CPU kernels without oneDNN refuse channels-first layouts
      return "the model cannot run on this CPU without oneDNN: " + why + " (set TF_ENABLE_ONEDNN_OPTS=1, as"
          + " bin/bncheck does, to run channels-first models)";
    }
    return "the model cannot run on this data: " + why
        + (dataLabel.startsWith("--synthetic") && !why.startsWith("You must feed")
            ? " (random samples fit the declared shapes only; inputs that must agree with each other, as a ragged"
                + " tensor's parts do, need real data: give it with --inputs)" : "");
  }
}
