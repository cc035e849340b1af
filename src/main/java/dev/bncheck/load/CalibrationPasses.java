package dev.bncheck.load;

import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import java.util.List;
import java.util.function.Predicate;

/**
 * The passes {@code check} runs over its calibration data, for every backend: the inference view,
 * then the training view (a whole second forward pass) only where the model offers it and the
 * caller, having seen the inference view, still wants it.
 */
public final class CalibrationPasses {

  private CalibrationPasses() {}

  /**
   * @param trainingViewWanted asked after the inference view, with the model's layers, whether
   *     the training view is worth its pass (the analysis decides: {@code check --training-view auto})
   */
  public static void run(ModelSession session, CalibrationSink sink, Predicate<List<BnLayer>> trainingViewWanted) {
    session.calibrate(ModelSession.View.INFERENCE, sink);
    if (session.offersTrainingView() && trainingViewWanted.test(session.model().layers())) {
      session.calibrate(ModelSession.View.TRAINING, sink);
    }
  }

  /** Both views on the session's data, the training view wherever it is offered; closes the session. */
  public static BnModel runAll(ModelSession opened, CalibrationSink sink) {
    try (ModelSession session = opened) {
      run(session, sink, layers -> true);
      return session.model();
    }
  }
}
