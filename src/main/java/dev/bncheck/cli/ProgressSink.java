package dev.bncheck.cli;

import dev.bncheck.model.BatchMoments;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.CalibrationSink;
import dev.bncheck.model.Precision;
import dev.bncheck.model.Tensor;
import java.io.PrintStream;

/**
 * Passes everything to the real sink and shows progress on one stderr line, rewritten in place,
 * at most a few times a second. Only for people at a terminal: machines read stdout, and CI logs
 * should not fill with progress lines.
 */
final class ProgressSink implements CalibrationSink {

  private static final long INTERVAL_NANOS = 200_000_000L;

  private final CalibrationSink delegate;
  private final PrintStream err;
  private long lastShown;
  private boolean shown;

  ProgressSink(CalibrationSink delegate, PrintStream err) {
    this.delegate = delegate;
    this.err = err;
  }

  /** The sink itself when progress is not wanted (quiet, or stderr is not a terminal). */
  static CalibrationSink around(CalibrationSink sink, boolean quiet) {
    return around(sink, quiet, Terminal.stderrIsTerminal());
  }

  static CalibrationSink around(CalibrationSink sink, boolean quiet, boolean stderrIsTerminal) {
    return quiet || !stderrIsTerminal ? sink : new ProgressSink(sink, System.err);
  }

  @Override
  public void progress(String what, long done, long total) {
    long now = System.nanoTime();
    // nanoTime has an arbitrary origin: the first update is shown whatever it reads
    if (shown && now - lastShown < INTERVAL_NANOS) {
      return;
    }
    lastShown = now;
    shown = true;
    err.print("\rbncheck: " + what + " " + (done + 1) + (total > 0 ? " of " + total : "") + "   ");
    err.flush();
  }

  /** Clears the progress line before the report is written. */
  @Override
  public void progressEnded() {
    if (shown) {
      err.print("\r" + " ".repeat(60) + "\r");
      err.flush();
    }
  }

  @Override
  public boolean wantsActivations() {
    return delegate.wantsActivations();
  }

  @Override
  public void accept(int layerIndex, Tensor batch, int channelAxis) {
    delegate.accept(layerIndex, batch, channelAxis);
  }

  @Override
  public void expectBatches() {
    delegate.expectBatches();
  }

  @Override
  public void acceptPart(int layerIndex, Tensor part, int channelAxis, int batchSamples, boolean endsBatch) {
    delegate.acceptPart(layerIndex, part, channelAxis, batchSamples, endsBatch);
  }

  @Override
  public int samplesPerGroup(int batchSamples) {
    return delegate.samplesPerGroup(batchSamples);
  }

  @Override
  public void acceptMoments(int layerIndex, BatchMoments moments) {
    delegate.acceptMoments(layerIndex, moments);
  }

  @Override
  public void acceptTrainingViewMoments(int layerIndex, BatchMoments moments) {
    delegate.acceptTrainingViewMoments(layerIndex, moments);
  }

  @Override
  public void frameworkStatistics(int layerIndex, double[] mean, double[] variance) {
    delegate.frameworkStatistics(layerIndex, mean, variance);
  }

  @Override
  public void frameworkOutput(int layerIndex, BnLayer layer, Tensor input, Tensor output, int channelAxis,
      boolean trainingMode, Precision precision) {
    delegate.frameworkOutput(layerIndex, layer, input, output, channelAxis, trainingMode, precision);
  }

  @Override
  public void acceptTrainingView(int layerIndex, Tensor batch, int channelAxis) {
    delegate.acceptTrainingView(layerIndex, batch, channelAxis);
  }

  @Override
  public void batchSizeConsistency(String output, int batchSize, int samplesCompared, double maxAbsDifference,
      double outputRms, int worstSample) {
    delegate.batchSizeConsistency(output, batchSize, samplesCompared, maxAbsDifference, outputRms, worstSample);
  }

  @Override
  public void distinctSamples(long samples, long distinct) {
    delegate.distinctSamples(samples, distinct);
  }

  @Override
  public void notCaptured(int layerIndex, String reason) {
    delegate.notCaptured(layerIndex, reason);
  }

  @Override
  public void maskedSteps(String note) {
    delegate.maskedSteps(note);
  }

  @Override
  public void fixedBatch(int batchSize, long samplesLeftOut) {
    delegate.fixedBatch(batchSize, samplesLeftOut);
  }

}
