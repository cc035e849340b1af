package dev.bncheck.analysis;

import java.util.ArrayList;

import dev.bncheck.model.BnModel;

import dev.bncheck.analysis.CheckDeclaration.DataNeed;
import dev.bncheck.model.GraphFacts;
import dev.bncheck.model.UnresolvedLayer;
import java.util.List;
import java.util.Optional;

/**
 * BN002: the graph the serving signature runs normalizes with the batch's own statistics
 * ({@code is_training=true}, or moments of its own input), so every output depends on the rest
 * of the batch and, at batch size 1, collapses to beta.
 */
@Declares(code = "BN002", title = "training-mode BN in the inference graph", data = DataNeed.NONE)
public final class TrainingModeInGraph implements Check, ModelCheck {

  static final String FIX_TENSORFLOW =
      "export the inference graph in inference mode: TF1: build the serving graph with"
          + " is_training=False (tf.layers.batch_normalization(training=False), slim/contrib"
          + " is_training=False), or tf.keras.backend.set_learning_phase(0) before building it; Keras:"
          + " do not call the layers with training=True in the serving function (model(x, training=False))."
          + " Re-export; recalibrating statistics cannot fix this.";

  /** An ONNX export of a PyTorch model in training mode. */
  static final String FIX_PYTORCH =
      "export the model in inference mode: call model.eval() before torch.onnx.export, and do not pass"
          + " training=torch.onnx.TrainingMode.TRAINING. For the ONNX file at hand, bncheck recalibrate"
          + " --to-inference-mode switches these nodes to inference mode with moving statistics computed on"
          + " calibration data.";

  static final String FIX_NO_RUNNING_STATISTICS_PYTORCH =
      "construct the layer with track_running_stats=True (nn.BatchNorm2d(C, track_running_stats=True)) and retrain;"
          + " or set module.track_running_stats = True, give it the buffers module.running_mean = torch.zeros(C),"
          + " module.running_var = torch.ones(C) and module.num_batches_tracked = torch.tensor(0), compute them over"
          + " the training data with torch.optim.swa_utils.update_bn(train_loader, model) (a pass in train() with"
          + " momentum=None), then re-export. If per-sample normalization was intended, use nn.InstanceNorm,"
          + " nn.GroupNorm or nn.LayerNorm instead.";

  static final String FIX_NO_RUNNING_STATISTICS =
      "give the layer running statistics computed over the training data and normalize with them at inference,"
          + " then re-export; recalibrating cannot help a layer that keeps none. If per-sample normalization was"
          + " intended, use instance, group or layer normalization instead.";

  @Override
  public Optional<Finding> check(LayerContext context) {
    Optional<GraphFacts> graph = context.layer().graph();
    if (graph.isEmpty() || !graph.get().trainingMode()) {
      return Optional.empty();
    }
    List<String> nodes = graph.get().trainingModeNodes();
    List<String> choosing = graph.get().choosingInputs();
    return Optional.of(choosing.isEmpty() ? finding(context.index(), context.layer().name(), nodes, graph.get().op(),
        context.framework())
        : chosenByInput(context.index(), context.layer().name(), nodes, graph.get().op(), choosing));
  }

  static final String FIX_CHOSEN_BY_INPUT =
      "feed the inference value (false) to the mode input in every serving call; better, export the serving signature without it:"
          + " TF1: make is_training a tf.compat.v1.placeholder_with_default(False, []) that the signature does not"
          + " list, or build the serving graph with is_training=False; Keras: call the model with training=False"
          + " in the serving function. To analyse the inference branch, run check with --inputs NAME=false for"
          + " the mode input beside the data.";

  /**
   * The training-mode node runs only when the caller feeds a signature input true: the textbook
   * {@code tf.cond(is_training, ...)} exported with is_training among the signature's inputs. The
   * model may be right; whether it serves right is the caller's choice, so a warning, not an error.
   */
  private static Finding chosenByInput(int index, String layer, List<String> nodes, String op, List<String> inputs) {
    String names = String.join(", ", inputs);
    String message = "the serving graph normalizes with batch statistics in the branch the signature input " + names
        + " chooses (" + op + " in training mode at " + nodes.get(0)
        + (nodes.size() > 1 ? " and " + (nodes.size() - 1) + " more" : "") + "): whenever a caller feeds " + names
        + " the value that takes it, outputs depend on the other samples of the batch and collapse to beta at batch"
        + " size 1";
    return new Finding("BN002", Severity.WARNING, index, layer, message, List.of(new Evidence("training_mode_nodes",
        nodes), new Evidence("op", op), new Evidence("chosen_by_inputs", inputs)), FIX_CHOSEN_BY_INPUT);
  }

  /** The finding for a training-mode node whose parameters could not be read. */
  @Override
  public CheckDeclaration declaration() {
    return Check.super.declaration();
  }

  @Override
  public String code() {
    return Check.super.code();
  }

  /**
   * BN002 also on the layers found in training mode whose parameters could not be read: they are
   * not analysed, yet normalize with batch statistics all the same.
   */
  @Override
  public List<Finding> check(ModelContext context) {
    BnModel model = context.model();
    List<Finding> found = new ArrayList<>();
    for (int u = 0; u < model.unresolved().size(); u++) {
      UnresolvedLayer layer = model.unresolved().get(u);
      if (layer.keepsNoRunningStatistics()) {
        found.add(withoutRunningStatistics(model.layers().size() + u, layer.name(), layer.reason()));
      } else if (layer.trainingMode()) {
        found.add(finding(model.layers().size() + u, layer.name(), List.of(layer.node()), layer.op(),
            Framework.of(null, model.framework())));
      }
    }
    return found;
  }

  /**
   * The finding where bncheck ran the signature and measured its outputs the same at batch size 1
   * as in a batch: the training-mode node does not reach them, or its branch does not run for them.
   * Saying the outputs depend on the batch would contradict the measurement; the node remains a
   * hazard for anyone who runs it directly, so the finding stays, as a warning.
   */
  static Finding measuredConsistent(Finding f, double worstRelativeDifference) {
    String message = f.message().replace("): outputs depend on the other samples of the batch and collapse to beta at"
        + " batch size 1", "), yet the signature's outputs measured the same alone as in a batch (worst difference "
        + dev.bncheck.model.Numbers.brief(100 * worstRelativeDifference) + "% of their RMS): this node's results do not"
        + " reach them, or its branch does not run for them; it still normalizes with batch statistics for whatever"
        + " runs it");
    List<Evidence> evidence = new java.util.ArrayList<>(f.evidence());
    evidence.add(new Evidence("outputs_worst_relative_difference", worstRelativeDifference));
    return new Finding(f.code(), Severity.WARNING, f.layerIndex(), f.layer(), message, evidence, f.fix(), f.suppressed());
  }

  /**
   * A layer with no running statistics at all is no graph exported in the wrong mode: the model
   * itself has nothing else to normalize with, so the message and the fix speak of the layer, in
   * the words of the framework its recorded reason names.
   */
  private static Finding withoutRunningStatistics(int index, String layer, String reason) {
    boolean pytorch = reason.equals(UnresolvedLayer.TRACK_RUNNING_STATS_FALSE);
    String message = "the layer keeps no running statistics (" + reason + "), so it normalizes with each batch's own"
        + " statistics " + (pytorch ? "even in eval()" : "at inference as well") + ": outputs depend on the other"
        + " samples of the batch, and at batch size 1 a dense layer's collapse to beta (a convolution's are normalized"
        + " over the one image's positions)";
    return new Finding("BN002", Severity.ERROR, index, layer, message, List.of(new Evidence("reason", reason)),
        pytorch ? FIX_NO_RUNNING_STATISTICS_PYTORCH : FIX_NO_RUNNING_STATISTICS);
  }

  private static Finding finding(int index, String layer, List<String> nodes, String op, Framework framework) {
    String message = "the serving graph normalizes with batch statistics (" + op + " in training mode at "
        + nodes.get(0) + (nodes.size() > 1 ? " and " + (nodes.size() - 1) + " more" : "")
        + "): outputs depend on the other samples of the batch and collapse to beta at batch size 1";
    return new Finding("BN002", Severity.ERROR, index, layer, message,
        List.of(new Evidence("training_mode_nodes", nodes), new Evidence("op", op)),
        framework.pick(FIX_TENSORFLOW, FIX_PYTORCH));
  }
}
