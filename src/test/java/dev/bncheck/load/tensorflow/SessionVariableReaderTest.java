package dev.bncheck.load.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.LoadOptions;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.AssignVariableOp;
import org.tensorflow.op.core.VarHandleOp;
import org.tensorflow.types.TFloat32;

/**
 * Layers are resolved, and their statistics ops prepared, on the shapes the graph declares for
 * their variables; the values read afterwards must have those shapes.
 */
class SessionVariableReaderTest {

  /**
   * A session holding variable {@code v}, declared with {@code declared} and holding
   * {@code values}: written through a second handle of the same resource that declares no
   * shape, as a hostile model can, since the graph refuses a write of another shape through
   * the declaring handle itself.
   */
  private static void withVariable(Shape declared, float[] values, java.util.function.Consumer<CheckedSession> use) {
    try (Graph graph = new Graph(); Session session = new Session(graph)) {
      Ops tf = Ops.create(graph);
      VarHandleOp writer = tf.withName("writer").varHandleOp(TFloat32.class, Shape.unknown(),
          VarHandleOp.sharedName("v"));
      tf.withName("v").varHandleOp(TFloat32.class, declared, VarHandleOp.sharedName("v"));
      AssignVariableOp assign = tf.assignVariableOp(writer, tf.constant(values));
      session.runner().addTarget(assign).run();
      use.accept(new CheckedSession(graph, session, "model", LoadOptions.DEFAULTS.withSafety(Set.of(), true)));
    }
  }

  private static final List<Origin.Variable> V = List.of(new Origin.Variable("v", "v", "VarHandleOp"));

  @Test
  void aDeclaredShapeGivesZerosOfItsLengthAndTheValueReadLater() {
    withVariable(Shape.of(3), new float[] {1, 2, 3}, session -> {
      SessionVariableReader reader = new SessionVariableReader(session, "model");
      Map<String, double[]> declared = reader.declared(V).orElseThrow();
      assertThat(declared.get("v")).containsExactly(0, 0, 0);

      assertThat(reader.read(V).get("v")).containsExactly(1, 2, 3);
    });
  }

  /** The caller loads the model again and reads the values first (DeclaredShapesTest). */
  @Test
  void aValueOfAnotherLengthThanDeclaredIsToldApart() {
    withVariable(Shape.of(3), new float[] {1, 2, 3, 4}, session -> {
      SessionVariableReader reader = new SessionVariableReader(session, "model");
      assertThat(reader.declared(V)).isPresent();

      assertThatThrownBy(() -> reader.read(V)).isInstanceOf(SessionVariableReader.NotAsDeclared.class)
          .hasMessage("variable v holds 4 value(s), where its graph declares the shape [3]");
    });
  }

  @Test
  void aVariableThatCannotBeReadIsAnErrorNamingTheModelsVariables() {
    withVariable(Shape.of(3), new float[] {1, 2, 3}, session -> {
      SessionVariableReader reader = new SessionVariableReader(session, "model");
      List<Origin.Variable> uninitialized = List.of(new Origin.Variable("u", "u", "VarHandleOp"));
      Ops.create(session.graph()).withName("u").varHandleOp(TFloat32.class, Shape.of(2));

      assertThatThrownBy(() -> reader.read(uninitialized)).isInstanceOf(InvalidInputException.class)
          .hasMessageStartingWith("model: variables: cannot read the BN variables: ");
    });
  }

  /** A hostile graph cannot have bncheck allocate what it declares and does not hold. */
  @Test
  void aDeclaredShapeOfMoreThanAMillionValuesLeavesTheValuesToTell() {
    withVariable(Shape.of(1 << 15, 1 << 15), new float[] {1, 2}, session -> {
      SessionVariableReader reader = new SessionVariableReader(session, "model");
      assertThat(reader.declared(V)).isEmpty();

      assertThat(reader.read(V).get("v")).containsExactly(1, 2);
    });
  }

  @Test
  void aShapeNotFullyDeclaredLeavesTheValuesToTell() {
    withVariable(Shape.of(-1), new float[] {1, 2, 3, 4}, session -> {
      SessionVariableReader reader = new SessionVariableReader(session, "model");
      assertThat(reader.declared(V)).isEmpty();

      assertThat(reader.read(V).get("v")).containsExactly(1, 2, 3, 4);
    });
  }
}
