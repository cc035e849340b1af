package dev.bncheck.load.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.TestFiles;
import dev.bncheck.cli.CliRun;
import dev.bncheck.load.tensorflow.HostileGraphs.Scope;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.CollectionDef;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;

/**
 * One hostile model per attack class and per place it hides (the init op that loading runs, the
 * signature's outermost function, a function nested in it, a frozen graph), each run through
 * every command as a user would: {@code inspect}, {@code check --synthetic}, {@code check
 * --inputs} and {@code recalibrate}. Whatever the command, the file the model would write is
 * never written and the JVM survives; a command that would run the hostile part ends with exit
 * code 3 and one line naming the node and the functions it hides in. {@code inspect} runs only
 * loading's restore and init ops: an op attack in the signature is not run, so it passes, while
 * a call structure that bncheck could not even walk is refused by every command.
 */
class HostileModelSuiteTest {

  @TempDir static Path shared;
  static TfTestModels.Model base;
  static Path frozen;
  static Path data;

  @BeforeAll
  static void buildModels() throws IOException {
    base = TfTestModels.functionSavedModel(shared.resolve("base"), TfTestModels.FunctionVariant.NESTED);
    frozen = TfTestModels.frozenGraph(shared.resolve("frozen"), TfTestModels.FrozenVariant.FUSED).path();
    data = shared.resolve("inputs.npy");
    Files.write(data, TestFiles.randomNpy(16, 6, 6, 3));
  }

  enum Placement { INIT, SIGNATURE, NESTED, FROZEN }

  enum Command { INSPECT, CHECK_SYNTHETIC, CHECK_INPUTS, RECALIBRATE }

  /** Where an attack's nodes and functions go. */
  interface Target {
    Scope scope();

    void node(NodeDef node);

    void function(FunctionDef function);
  }

  /**
   * An attack: what it adds, whether bncheck refuses it by its call structure alone (then even
   * {@code inspect}, which walks the signature without running it, refuses), and what the
   * refusal names.
   */
  record Attack(String name, boolean structural, String refusedNode, AttackBody body) {
    /** Whether the refusal names the function the attack hides in: not when the whole call tree is too large. */
    boolean namesItsFunction() {
      return !name.startsWith("calls doubling");
    }

    @Override
    public String toString() {
      return name;
    }
  }

  @FunctionalInterface
  interface AttackBody {
    void add(Target target, Path marker);
  }

  static List<Attack> attacks() {
    List<Attack> attacks = new ArrayList<>();
    attacks.add(new Attack("WriteFile not feeding any output", false, "node hostile_write",
        (t, marker) -> HostileGraphs.writeFile(t.scope(), "hostile_", marker).forEach(t::node)));
    for (String op : List.of("If", "StatelessIf", "While", "StatelessWhile", "Case", "StatelessCase")) {
      attacks.add(new Attack(op + " calling a writer", false, "node write in ", (t, marker) -> {
        boolean loop = op.endsWith("While");
        t.function(loop ? HostileGraphs.writingIncrement("hostile_writer", marker)
            : HostileGraphs.writer("hostile_writer", marker));
        t.function(HostileGraphs.nothing("hostile_nothing"));
        t.function(HostileGraphs.lessThanOne("hostile_less"));
        HostileGraphs.controlFlow(t.scope(), op, "hostile_", "hostile_writer", "hostile_nothing", "hostile_less")
            .forEach(t::node);
      }));
    }
    attacks.add(new Attack("writer two calls deep", false, "node write in ", (t, marker) -> {
      t.function(HostileGraphs.writer("hostile_writer", marker));
      t.function(HostileGraphs.caller("hostile_middle", "hostile_writer", 1));
      t.node(HostileGraphs.call("hostile_call", "hostile_middle"));
    }));
    attacks.add(new Attack("call of a primitive op by name", true, "node hostile_call", (t, marker) -> {
      HostileGraphs.writeFile(t.scope(), "hostile_", marker).stream().filter(n -> n.getOp().equals("Const"))
          .forEach(t::node);
      t.node(NodeDef.newBuilder().setName("hostile_call").setOp("PartitionedCall")
          .addInput(t.scope().out("hostile_filename")).addInput(t.scope().out("hostile_contents"))
          .putAttr("Tin", HostileGraphs.types(DataType.DT_STRING, DataType.DT_STRING))
          .putAttr("Tout", HostileGraphs.types()).putAttr("f", HostileGraphs.func("WriteFile")).build());
    }));
    attacks.add(new Attack("function bound by the caller", true, "node hostile_call", (t, marker) -> {
      t.function(HostileGraphs.writer("hostile_writer", marker));
      t.node(HostileGraphs.call("hostile_call", "hostile_writer").toBuilder()
          .putAttr("f", AttrValue.newBuilder().setPlaceholder("g").build()).build());
    }));
    attacks.add(new Attack("function calling itself", true, "node call0 in ", (t, marker) -> {
      t.function(HostileGraphs.caller("hostile_loop", "hostile_loop", 1));
      t.node(HostileGraphs.call("hostile_call", "hostile_loop"));
    }));
    attacks.add(new Attack("20,000 nested functions", true, "node call0 in ", (t, marker) -> {
      int depth = 20_000;
      for (int i = 0; i < depth - 1; i++) {
        t.function(HostileGraphs.caller("hostile_deep_" + i, "hostile_deep_" + (i + 1), 1));
      }
      t.function(HostileGraphs.writer("hostile_deep_" + (depth - 1), marker));
      t.node(HostileGraphs.call("hostile_call", "hostile_deep_0"));
    }));
    attacks.add(new Attack("calls doubling at each of 40 levels", true, "nodes once each call has its own copy", (t, marker) -> {
      int levels = 40;
      for (int i = 0; i < levels - 1; i++) {
        t.function(HostileGraphs.caller("hostile_twice_" + i, "hostile_twice_" + (i + 1), 2));
      }
      t.function(HostileGraphs.nothing("hostile_twice_" + (levels - 1)));
      t.node(HostileGraphs.call("hostile_call", "hostile_twice_0"));
    }));
    return attacks;
  }

  static Stream<Arguments> cases() {
    List<Arguments> out = new ArrayList<>();
    for (Attack attack : attacks()) {
      for (Placement placement : Placement.values()) {
        for (Command command : Command.values()) {
          if (placement == Placement.FROZEN && command == Command.RECALIBRATE) {
            continue;
          }
          out.add(Arguments.of(attack, placement, command));
        }
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} in {1}, {2}")
  @MethodSource("cases")
  void hostileModelNeverRunsItsAttack(Attack attack, Placement placement, Command command, @TempDir Path dir)
      throws IOException {
    Path marker = dir.resolve("marker");
    Path model = placement == Placement.FROZEN ? frozenWith(attack, marker, dir) : savedModelWith(attack, placement,
        marker, dir);
    CliRun run = run(command, model, dir);

    assertThat(marker).as("the file the model writes").doesNotExist();
    boolean runsTheAttack = placement == Placement.INIT || command != Command.INSPECT;
    if (attack.structural() || runsTheAttack) {
      assertThat(run.exitCode()).as(run.err()).isEqualTo(3);
      assertThat(run.err().strip()).as("one line").doesNotContain("\n").startsWith("bncheck: error: " + model)
          .contains(attack.refusedNode()).contains("refused before running");
      if ((placement == Placement.SIGNATURE || placement == Placement.NESTED) && attack.namesItsFunction()) {
        assertThat(run.err()).contains(functionOf(placement));
      }
    } else {
      assertThat(run.exitCode()).as(run.err()).isZero();
    }
  }

  static Stream<Attack> opAttacks() {
    return attacks().stream().filter(a -> !a.structural());
  }

  /** The attacks are real: a model trusted with {@code --trust-model} writes its file while loading. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("opAttacks")
  void trustedHostileInitOpWritesItsFile(Attack attack, @TempDir Path dir) throws IOException {
    Path marker = dir.resolve("marker");
    Path model = savedModelWith(attack, Placement.INIT, marker, dir);
    CliRun run = CliRun.of("inspect", model.toString(), "--trust-model");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(marker).hasContent("written by the model");
  }

  private static String functionOf(Placement placement) {
    List<String> functions = List.copyOf(base.functionNodes().keySet());
    return placement == Placement.SIGNATURE ? functions.get(0) : functions.get(functions.size() - 1);
  }

  /** The base SavedModel with the attack in the given place. */
  private static Path savedModelWith(Attack attack, Placement placement, Path marker, Path dir) throws IOException {
    Path model = dir.resolve("model");
    TestFiles.copyTree(base.path(), model);
    HostileModelsTest.edit(model, meta -> {
      var graph = meta.getGraphDefBuilder();
      var library = graph.getLibraryBuilder();
      List<String> added = new ArrayList<>();
      String inFunction = placement == Placement.INIT ? null : functionOf(placement);
      attack.body().add(new Target() {
        @Override
        public Scope scope() {
          return inFunction == null ? Scope.TOP : Scope.FUNCTION;
        }

        @Override
        public void node(NodeDef node) {
          if (inFunction == null) {
            graph.addNode(node);
            added.add(node.getName());
          } else {
            for (FunctionDef.Builder f : library.getFunctionBuilderList()) {
              if (f.getSignature().getName().equals(inFunction)) {
                f.addNodeDef(node);
              }
            }
          }
        }

        @Override
        public void function(FunctionDef function) {
          library.addFunction(function);
        }
      }, marker);
      if (inFunction == null) {
        NodeDef.Builder init = NodeDef.newBuilder().setName("hostile_init").setOp("NoOp");
        added.forEach(n -> init.addInput("^" + n));
        graph.addNode(init);
        meta.putCollectionDef("saved_model_main_op", CollectionDef.newBuilder()
            .setNodeList(CollectionDef.NodeList.newBuilder().addValue("hostile_init")).build());
      }
      return meta;
    });
    return model;
  }

  /** The frozen graph with the attack's nodes at its top level, reading nothing else. */
  private static Path frozenWith(Attack attack, Path marker, Path dir) throws IOException {
    GraphDef.Builder graph = GraphDef.parseFrom(Files.readAllBytes(frozen)).toBuilder();
    attack.body().add(new Target() {
      @Override
      public Scope scope() {
        return Scope.TOP;
      }

      @Override
      public void node(NodeDef node) {
        graph.addNode(node);
      }

      @Override
      public void function(FunctionDef function) {
        graph.getLibraryBuilder().addFunction(function);
      }
    }, marker);
    Path file = dir.resolve("hostile.pb");
    Files.write(file, graph.build().toByteArray());
    return file;
  }

  private static CliRun run(Command command, Path model, Path dir) {
    List<String> args = new ArrayList<>();
    switch (command) {
      case INSPECT -> args.addAll(List.of("inspect", model.toString()));
      case CHECK_SYNTHETIC -> args.addAll(List.of("check", model.toString(), "--synthetic", "4"));
      case CHECK_INPUTS -> args.addAll(List.of("check", model.toString(), "--inputs", data.toString()));
      case RECALIBRATE -> args.addAll(List.of("recalibrate", model.toString(), "--inputs", data.toString(), "--out",
          dir.resolve("out").toString()));
    }
    if (command != Command.RECALIBRATE) {
      args.addAll(List.of("--format", "json", "--output", dir.resolve("report.json").toString()));
    }
    return CliRun.of(args.toArray(new String[0]));
  }
}
