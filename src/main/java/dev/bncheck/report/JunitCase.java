package dev.bncheck.report;

import dev.bncheck.analysis.CheckDeclaration;
import dev.bncheck.analysis.CheckOutcome;
import dev.bncheck.analysis.Checks;
import dev.bncheck.analysis.Finding;
import dev.bncheck.analysis.LayerResult;
import dev.bncheck.analysis.Report;
import dev.bncheck.analysis.Subject;
import dev.bncheck.model.UnresolvedLayer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * One testcase of the JUnit report: one check on one layer (the class, to CI systems), or on the
 * model's outputs, and how it ended.
 *
 * @param result what CI systems count: passed, failed or skipped
 * @param message the failure's or skip's one-line message; empty for a passed case
 * @param type the failing finding's severity; empty otherwise
 * @param text the failure's evidence and fix, or for a passed case a finding below {@code --fail-on};
 *     empty when there is nothing to say
 */
record JunitCase(String classname, String name, Result result, String message, String type, String text) {

  /** How a testcase ended. */
  enum Result {
    PASSED,
    FAILED,
    SKIPPED
  }

  private static final Map<String, String> TITLES = Checks.DECLARATIONS.stream()
      .collect(Collectors.toUnmodifiableMap(CheckDeclaration::code, CheckDeclaration::title));

  /**
   * Every check on every layer in network order, then the findings on no analysed layer (BN002 of a
   * layer whose parameters could not be read, BN005), those layers, and the outputs that passed BN005.
   */
  static List<JunitCase> of(Report report) {
    List<JunitCase> cases = new ArrayList<>();
    for (LayerResult layer : report.layers()) {
      String classname = layer.layer().name();
      for (CheckOutcome check : layer.checks()) {
        cases.add(switch (check.status()) {
          case PASSED -> passed(classname, check.code(), "");
          case SKIPPED -> new JunitCase(classname, name(check.code()), Result.SKIPPED, check.reason(), "", "");
          case FIRED -> of(report, report.findings().stream()
              .filter(f -> f.layerIndex() == layer.index() && f.code().equals(check.code()))
              .findFirst().orElseThrow());
        });
      }
    }
    report.findings().stream().filter(f -> report.subjectOf(f) != Subject.LAYER)
        .forEach(f -> cases.add(of(report, f)));
    for (UnresolvedLayer u : report.model().unresolved()) {
      cases.add(new JunitCase(u.name(), "not analysed", Result.SKIPPED,
          "parameters could not be read (" + u.op() + " at " + u.node() + "): " + u.reason(), "", ""));
    }
    // Named as BN005 names the output when it fires, so that a CI system's history of the case continues.
    report.batchSizeChecks().stream().filter(c -> c.consistent())
        .forEach(c -> cases.add(passed(report.run().output(c.output()), "BN005", "")));
    return cases;
  }

  /** A finding fails its testcase only at or above --fail-on, so that CI agrees with the exit code. */
  private static JunitCase of(Report report, Finding f) {
    // The text's own lines are bncheck's; the model's text in them is escaped, not split.
    String message = ControlCharacters.escape(f.message());
    String details = "evidence: " + ControlCharacters.escape(ReportText.evidence(f)) + "\nfix: "
        + ControlCharacters.escape(f.fix()) + "\nsee " + f.docsLink();
    if (f.suppressed().isEmpty() && report.run().failOn().fails(f.severity())) {
      return new JunitCase(f.layer(), name(f.code()), Result.FAILED, "[" + f.code() + "] " + message,
          f.severity().label(), details);
    }
    return passed(f.layer(), f.code(), "[" + f.code() + "] " + f.severity().label() + ": " + message
        + f.suppressed().map(s -> " (suppressed: " + ControlCharacters.escape(s.reason()) + ")").orElse("")
        + "\n" + details);
  }

  private static JunitCase passed(String classname, String code, String systemOut) {
    return new JunitCase(classname, name(code), Result.PASSED, "", "", systemOut);
  }

  private static String name(String code) {
    return (code + " " + TITLES.getOrDefault(code, "")).strip();
  }
}
