package dev.bncheck;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import dev.bncheck.load.Loaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The package layout is the pipeline: load → model → engine → analysis → report → app → cli. */
class ArchitectureTest {

  static final JavaClasses MAIN = new ClassFileImporter()
      .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
      .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
      .importPackages("dev.bncheck");

  @Test
  void numericsAnalysisAndReportsKnowNoFrameworkAndNoCommandLine() {
    noClasses().that().resideInAnyPackage("dev.bncheck.model..", "dev.bncheck.engine..",
            "dev.bncheck.analysis..", "dev.bncheck.report..")
        .should().dependOnClassesThat().resideInAnyPackage("picocli..", "org.tensorflow..", "org.nd4j..",
            "ai.onnxruntime..")
        .check(MAIN);
  }

  @Test
  void tensorFlowStaysInsideItsLoader() {
    noClasses().that().resideOutsideOfPackage("dev.bncheck.load.tensorflow..")
        .should().dependOnClassesThat().resideInAnyPackage("org.tensorflow..")
        .check(MAIN);
  }

  @Test
  void onnxRuntimeStaysInsideItsLoader() {
    noClasses().that().resideOutsideOfPackage("dev.bncheck.load.onnx..")
        .should().dependOnClassesThat().resideInAnyPackage("ai.onnxruntime..")
        .check(MAIN);
  }

  /**
   * A backend is reached through {@link dev.bncheck.load.ModelLoader} and
   * {@link dev.bncheck.load.ModelSession} alone: only the registry names its classes, so that
   * {@code check}, {@code recalibrate} (cli, repair) and the other backends work with any of them.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"dev.bncheck.load.tensorflow..", "dev.bncheck.load.onnx.."})
  void backendsAreReachedThroughTheRegistryAndTheSessionInterfaceOnly(String backend) {
    noClasses().that().resideOutsideOfPackage(backend)
        .and().doNotHaveFullyQualifiedName(Loaders.class.getName())
        .should().dependOnClassesThat().resideInAPackage(backend)
        .check(MAIN);
  }

  @Test
  void modelDependsOnNothingElseOfBncheck() {
    noClasses().that().resideInAPackage("dev.bncheck.model..")
        .should().dependOnClassesThat().resideInAnyPackage("dev.bncheck.load..", "dev.bncheck.engine..",
            "dev.bncheck.analysis..", "dev.bncheck.report..", "dev.bncheck.cli..")
        .check(MAIN);
  }

  @Test
  void loadersProduceTheModelAndKnowNothingDownstream() {
    noClasses().that().resideInAPackage("dev.bncheck.load..")
        .should().dependOnClassesThat().resideInAnyPackage("dev.bncheck.engine..", "dev.bncheck.analysis..",
            "dev.bncheck.report..", "dev.bncheck.cli..")
        .check(MAIN);
  }

  @Test
  void engineKnowsNoChecksOrReports() {
    noClasses().that().resideInAPackage("dev.bncheck.engine..")
        .should().dependOnClassesThat().resideInAnyPackage("dev.bncheck.analysis..", "dev.bncheck.report..",
            "dev.bncheck.cli..", "dev.bncheck.load..")
        .check(MAIN);
  }

  /** The application layer under the commands reads, runs and analyses; parsing and printing stay above it. */
  @Test
  void theApplicationLayerKnowsNoCommandLine() {
    noClasses().that().resideInAnyPackage("dev.bncheck.app..", "dev.bncheck.repair..")
        .should().dependOnClassesThat().resideInAnyPackage("dev.bncheck.cli..", "picocli..")
        .check(MAIN);
  }

  @Test
  void analysisAndReportsDoNotReachBackToTheCommandLine() {
    noClasses().that().resideInAnyPackage("dev.bncheck.analysis..", "dev.bncheck.report..")
        .should().dependOnClassesThat().resideInAnyPackage("dev.bncheck.cli..", "dev.bncheck.load..")
        .check(MAIN);
  }

  /** The pipeline runs one way: no package, and no reader or backend under load, reaches back to one that reaches it. */
  @Test
  void packagesAreFreeOfCycles() {
    slices().matching("dev.bncheck.(*)..").should().beFreeOfCycles().check(MAIN);
    slices().matching("dev.bncheck.load.(*)..").should().beFreeOfCycles().check(MAIN);
  }

  /**
   * Commands parse and print: what they run is the application layer's (app, and repair below
   * it), reached with the registry's loader; no reader, backend, numeric code or repair step.
   */
  @Test
  void commandsReachTheWorkThroughTheApplicationLayerOnly() {
    noClasses().that().resideInAPackage("dev.bncheck.cli..")
        .should().dependOnClassesThat().resideInAnyPackage("dev.bncheck.repair..", "dev.bncheck.engine..",
            "dev.bncheck.load.*..")
        .check(MAIN);
  }
}
