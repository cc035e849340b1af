package dev.bncheck.cli;

import dev.bncheck.load.CalibrationPasses;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.ModelLoader;
import dev.bncheck.load.ModelSession;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Opens {@link FakeSession}s and keeps them, so that tests can see what the commands ran. */
final class FakeLoader implements ModelLoader {

  final List<FakeSession> opened = new ArrayList<>();

  @Override
  public String description() {
    return "a fake model";
  }

  @Override
  public boolean accepts(Path input) {
    return true;
  }

  @Override
  public boolean runsModel() {
    return true;
  }

  @Override
  public boolean writesStatistics() {
    return true;
  }

  @Override
  public ModelSession open(Path input, LoadOptions options) {
    FakeSession session = new FakeSession(input, options);
    opened.add(session);
    return session;
  }

  @Override
  public BnModel load(Path input, LoadOptions options, CalibrationSink sink) {
    ModelSession session = open(input, options);
    return options.runsOnData() && sink.wantsActivations() ? CalibrationPasses.runAll(session, sink) : session.model();
  }
}
