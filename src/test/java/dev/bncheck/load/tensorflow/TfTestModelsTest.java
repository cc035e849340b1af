package dev.bncheck.load.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.load.tensorflow.TfTestModels.BnParams;
import dev.bncheck.load.tensorflow.TfTestModels.DecomposedVariant;
import dev.bncheck.load.tensorflow.TfTestModels.Format;
import dev.bncheck.load.tensorflow.TfTestModels.FrozenVariant;
import dev.bncheck.load.tensorflow.TfTestModels.FunctionVariant;
import dev.bncheck.load.tensorflow.TfTestModels.FusedVariant;
import dev.bncheck.load.tensorflow.TfTestModels.Model;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.types.TFloat32;

/** Proves each {@link TfTestModels} model is what it claims: its output, its nodes, its values. */
class TfTestModelsTest {

  private static final int N = 2;
  private static final float[] X = TfTestModels.inputBatch(N, 11);
  private static final double[] CONV = TfTestReference.conv(X, N, TfTestModels.convKernel());
  private static final List<String> BN_VARIABLES = List.of("bn/gamma", "bn/beta", "bn/moving_mean", "bn/moving_variance");

  @TempDir
  Path tmp;

  // ---- 1 ----

  @ParameterizedTest(name = "{0}")
  @EnumSource(FusedVariant.class)
  void tf1FusedSavedModel(FusedVariant variant) {
    Model m = TfTestModels.tf1FusedSavedModel(tmp.resolve("fused"), variant);
    assertThat(m.servingTraining()).isEqualTo(variant == FusedVariant.IS_TRAINING);
    assertThat(m.params().movingMean()).containsExactly(
        variant == FusedVariant.NEVER_UPDATED ? new float[] {0, 0, 0, 0} : TfTestModels.trainedParams().movingMean());
    try (SavedModelBundle b = SavedModelBundle.load(m.path().toString(), m.tag())) {
      assertSignature(b, m);
      assertClose(runSignature(b, m), expected(m));
      GraphDef gd = b.metaGraphDef().getGraphDef();
      assertNodes(gd, m.graphNodes());
      NodeDef bn = node(gd, "bn/FusedBatchNormV3");
      assertFusedAttributes(bn, variant == FusedVariant.IS_TRAINING);
      assertThat(bn.getInputList()).containsExactly("conv2d/Conv2D", "bn/gamma/read", "bn/beta/read",
          "bn/moving_mean/read", "bn/moving_variance/read");
      assertThat(node(gd, "bn/gamma").getOp()).isEqualTo("VariableV2");
      assertThat(node(gd, "bn/gamma/read").getInputList()).containsExactly("bn/gamma");
      assertReachability(gd, m);
      assertStoredValues(b.session(), m.params(), name -> name + "/read:0");
      assertThat(b.metaGraphDef().getGraphDef().getLibrary().getFunctionCount()).isZero();
    }
  }

  // ---- 2 ----

  @ParameterizedTest(name = "{0}")
  @EnumSource(DecomposedVariant.class)
  void tf1DecomposedSavedModel(DecomposedVariant variant) {
    Model m = TfTestModels.tf1DecomposedSavedModel(tmp.resolve("decomposed"), variant);
    try (SavedModelBundle b = SavedModelBundle.load(m.path().toString(), m.tag())) {
      assertSignature(b, m);
      assertClose(runSignature(b, m), expected(m));
      GraphDef gd = b.metaGraphDef().getGraphDef();
      assertNodes(gd, m.graphNodes());
      boolean moments = variant == DecomposedVariant.MOMENTS;
      String mean = moments ? "bn/moments/Squeeze" : "bn/moving_mean/read";
      String var = moments ? "bn/moments/Squeeze_1" : "bn/moving_variance/read";
      assertThat(node(gd, "bn/batchnorm/add").getInputList()).containsExactly(var, "bn/batchnorm/add/y");
      assertThat(node(gd, "bn/batchnorm/Rsqrt").getInputList()).containsExactly("bn/batchnorm/add");
      assertThat(node(gd, "bn/batchnorm/mul").getInputList()).containsExactly("bn/batchnorm/Rsqrt", "bn/gamma/read");
      assertThat(node(gd, "bn/batchnorm/mul_1").getInputList()).containsExactly("conv2d/Conv2D", "bn/batchnorm/mul");
      assertThat(node(gd, "bn/batchnorm/mul_2").getInputList()).containsExactly(mean, "bn/batchnorm/mul");
      assertThat(node(gd, "bn/batchnorm/sub").getInputList()).containsExactly("bn/beta/read", "bn/batchnorm/mul_2");
      assertThat(node(gd, "bn/batchnorm/add_1").getInputList()).containsExactly("bn/batchnorm/mul_1", "bn/batchnorm/sub");
      assertThat(node(gd, "bn/batchnorm/add/y").getAttrMap().get("value").getTensor().getFloatVal(0))
          .isEqualTo(TfTestModels.EPSILON);
      assertThat(gd.getNodeList()).noneMatch(n -> n.getOp().startsWith("FusedBatchNorm"));
      if (moments) {
        assertThat(node(gd, "bn/moments/mean").getInputList()).containsExactly("conv2d/Conv2D",
            "bn/moments/mean/reduction_indices");
        assertThat(node(gd, "bn/moments/mean").getAttrMap().get("keep_dims").getB()).isTrue();
        assertThat(node(gd, "bn/moments/SquaredDifference").getInputList()).containsExactly("conv2d/Conv2D",
            "bn/moments/StopGradient");
        assertThat(node(gd, "bn/moments/variance").getInputList()).containsExactly("bn/moments/SquaredDifference",
            "bn/moments/variance/reduction_indices");
        assertThat(node(gd, "bn/AssignMovingAvg").getInputList()).containsExactly("bn/moving_mean",
            "bn/AssignMovingAvg/mul");
        Set<String> served = reachable(gd, m.outputName());
        assertThat(served).contains("bn/moments/Squeeze", "bn/moments/Squeeze_1")
            .doesNotContain("bn/AssignMovingAvg", "bn/AssignMovingAvg_1", "bn/moving_mean/read");
      } else {
        assertThat(reachable(gd, m.outputName())).contains("bn/moving_mean/read", "bn/moving_variance/read");
      }
      assertReachability(gd, m);
      assertStoredValues(b.session(), m.params(), name -> name + "/read:0");
    }
  }

  // ---- 3 ----

  @Test
  void tf1TrainingPathBesideServing() {
    Model m = TfTestModels.tf1TrainingPathBesideServing(tmp.resolve("beside"));
    assertThat(m.otherBnNodes()).containsExactly("bn_train/FusedBatchNormV3");
    try (SavedModelBundle b = SavedModelBundle.load(m.path().toString(), m.tag())) {
      assertSignature(b, m);
      assertClose(runSignature(b, m), expected(m));
      GraphDef gd = b.metaGraphDef().getGraphDef();
      assertNodes(gd, m.graphNodes());
      assertFusedAttributes(node(gd, "bn/FusedBatchNormV3"), false);
      NodeDef train = node(gd, "bn_train/FusedBatchNormV3");
      assertFusedAttributes(train, true);
      assertThat(train.getInputList()).containsExactly("conv2d/Conv2D", "bn/gamma/read", "bn/beta/read",
          "bn/moving_mean/read", "bn/moving_variance/read");
      assertReachability(gd, m);
      assertThat(reachable(gd, "train_op")).contains("bn_train/FusedBatchNormV3", "loss/Mean",
          "bn_train/AssignMovingAvg", "bn_train/AssignMovingAvg_1");
      // The training node really normalizes with the batch's statistics.
      try (TFloat32 in = input();
          Result r = b.session().runner().feed(m.inputTensor(), in).fetch("bn_train/FusedBatchNormV3:0").run()) {
        assertClose(values((TFloat32) r.get(0)), TfTestReference.bnTraining(CONV, m.params()));
      }
      assertStoredValues(b.session(), m.params(), name -> name + "/read:0");
    }
  }

  // ---- 4 ----

  @ParameterizedTest(name = "{0}")
  @EnumSource(FunctionVariant.class)
  void functionSavedModel(FunctionVariant variant) {
    Model m = TfTestModels.functionSavedModel(tmp.resolve("function"), variant);
    List<String> functions = List.copyOf(m.functionNodes().keySet());
    assertThat(functions).hasSize(variant == FunctionVariant.NESTED ? 2 : 1);
    try (SavedModelBundle b = SavedModelBundle.load(m.path().toString(), m.tag())) {
      assertSignature(b, m);
      assertClose(runSignature(b, m), expected(m));
      GraphDef gd = b.metaGraphDef().getGraphDef();
      assertNodes(gd, m.graphNodes());
      // Not in the top-level graph...
      assertThat(gd.getNodeList()).noneMatch(n -> n.getOp().startsWith("FusedBatchNorm"));
      String callType = variant == FunctionVariant.FLAT ? "PartitionedCall" : "StatefulPartitionedCall";
      NodeDef call = node(gd, callType);
      assertThat(call.getOp()).isEqualTo(callType);
      assertThat(call.getAttrMap().get("f").getFunc().getName()).isEqualTo(functions.get(0));
      assertThat(call.getInputList()).containsExactly("input", "conv2d/kernel", "bn/gamma", "bn/beta",
          "bn/moving_mean", "bn/moving_variance");
      assertThat(reachable(gd, m.outputName())).contains(callType, "bn/gamma", "bn/moving_variance");
      // ...but inside a function of the library, the innermost one for NESTED.
      Map<String, FunctionDef> library = new HashMap<>();
      for (FunctionDef f : gd.getLibrary().getFunctionList()) {
        library.put(f.getSignature().getName(), f);
      }
      assertThat(library).containsOnlyKeys(functions);
      for (String name : functions) {
        FunctionDef f = library.get(name);
        for (Map.Entry<String, String> e : m.functionNodes().get(name).entrySet()) {
          assertThat(fnNode(f, e.getKey()).getOp()).as(name + " " + e.getKey()).isEqualTo(e.getValue());
        }
      }
      FunctionDef withBn = library.get(functions.get(functions.size() - 1));
      assertFusedAttributes(fnNode(withBn, "bn/FusedBatchNormV3"), false);
      assertThat(fnNode(withBn, "bn/FusedBatchNormV3").getInputList()).element(1)
          .isEqualTo("bn/ReadVariableOp:value:0");
      assertThat(fnNode(withBn, "bn/FusedBatchNormV3/ReadVariableOp").getInputList())
          .containsExactly("bn_moving_mean");
      if (variant == FunctionVariant.NESTED) {
        FunctionDef outer = library.get(functions.get(0));
        assertThat(outer.getNodeDefList()).noneMatch(n -> n.getOp().startsWith("FusedBatchNorm"));
        NodeDef inner = fnNode(outer, "bn/PartitionedCall");
        assertThat(inner.getAttrMap().get("f").getFunc().getName()).isEqualTo(functions.get(1));
        assertThat(inner.getInputList()).containsExactly("conv2d/Conv2D:output:0", "bn_gamma", "bn_beta",
            "bn_moving_mean", "bn_moving_variance");
      }
      assertThat(b.metaGraphDef().getSaverDef().getRestoreOpName()).isEqualTo("save/restore_all");
      Ops tf = Ops.create(b.graph());
      Map<String, String> reads = new HashMap<>();
      for (String v : BN_VARIABLES) {
        String name = "check_" + v.replace('/', '_');
        tf.withName(name).readVariableOp(b.graph().operation(v).output(0), TFloat32.class);
        reads.put(v, name + ":0");
      }
      assertStoredValues(b.session(), m.params(), reads::get);
    }
  }

  // ---- 5 ----

  @ParameterizedTest(name = "{0}")
  @EnumSource(FrozenVariant.class)
  void frozenGraph(FrozenVariant variant) throws IOException {
    Model m = TfTestModels.frozenGraph(tmp.resolve("frozen"), variant);
    assertThat(m.format()).isEqualTo(Format.FROZEN_GRAPH);
    assertThat(m.path().getFileName().toString()).isEqualTo(TfTestModels.FROZEN_GRAPH_FILE);
    GraphDef gd = GraphDef.parseFrom(Files.readAllBytes(m.path()));
    assertNodes(gd, m.graphNodes());
    assertThat(gd.getNodeList()).noneMatch(n -> n.getOp().startsWith("Variable") || n.getOp().equals("VarHandleOp"));
    assertReachability(gd, m);
    if (variant == FrozenVariant.FUSED) {
      NodeDef bn = node(gd, "bn/FusedBatchNormV3");
      assertFusedAttributes(bn, false);
      assertThat(bn.getInputList()).containsExactly("conv2d/Conv2D", "bn/gamma/read", "bn/beta/read",
          "bn/moving_mean/read", "bn/moving_variance/read");
    } else {
      assertThat(node(gd, "bn/batchnorm/mul").getInputList()).containsExactly("bn/batchnorm/Rsqrt", "bn/gamma/read");
      assertThat(gd.getNodeList()).noneMatch(n -> n.getOp().startsWith("FusedBatchNorm"));
    }
    try (Graph g = new Graph()) {
      g.importGraphDef(gd);
      try (Session s = new Session(g)) {
        try (TFloat32 in = input(); Result r = s.runner().feed(m.inputTensor(), in).fetch(m.outputTensor()).run()) {
          assertClose(values((TFloat32) r.get(0)), expected(m));
        }
        assertStoredValues(s, m.params(), name -> name + ":0");
      }
    }
  }

  // ---- helpers ----

  private static double[] expected(Model m) {
    return m.servingTraining() ? TfTestReference.bnTraining(CONV, m.params()) : TfTestReference.bnInference(CONV, m.params());
  }

  private static TFloat32 input() {
    return TFloat32.tensorOf(Shape.of(N, TfTestModels.HEIGHT, TfTestModels.WIDTH, TfTestModels.IN_CHANNELS),
        DataBuffers.of(X, true, false));
  }

  private static float[] runSignature(SavedModelBundle b, Model m) {
    try (TFloat32 in = input(); Result r = b.function(m.signatureKey()).call(Map.of(m.inputName(), in))) {
      TFloat32 out = (TFloat32) r.get(m.outputName()).orElseThrow();
      assertThat(out.shape().asArray()).containsExactly(N, TfTestModels.HEIGHT, TfTestModels.WIDTH, TfTestModels.CHANNELS);
      return values(out);
    }
  }

  private static float[] values(TFloat32 t) {
    float[] a = new float[(int) t.size()];
    t.copyTo(DataBuffers.of(a, false, false));
    return a;
  }

  private static void assertClose(float[] actual, double[] expected) {
    assertThat(actual).hasSize(expected.length);
    double worst = 0;
    for (int i = 0; i < expected.length; i++) {
      worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / (1 + Math.abs(expected[i])));
    }
    assertThat(worst).as("largest relative difference from the reference").isLessThan(1e-5);
  }

  private static void assertSignature(SavedModelBundle b, Model m) {
    assertThat(b.metaGraphDef().getMetaInfoDef().getTagsList()).containsExactly(m.tag());
    SignatureDef sig = b.metaGraphDef().getSignatureDefMap().get(m.signatureKey());
    assertThat(sig).isNotNull();
    TensorInfo in = sig.getInputsMap().get(m.inputName());
    assertThat(in.getName()).isEqualTo(m.inputTensor());
    assertThat(in.getTensorShape().getDimList()).extracting(d -> d.getSize())
        .containsExactly(-1L, 6L, 6L, 3L);
    assertThat(m.inputShape()).containsExactly(-1, 6, 6, 3);
    assertThat(sig.getOutputsMap().get(m.outputName()).getName()).isEqualTo(m.outputTensor());
  }

  private static void assertNodes(GraphDef gd, Map<String, String> expected) {
    assertThat(expected).isNotEmpty();
    Map<String, String> actual = new HashMap<>();
    for (NodeDef n : gd.getNodeList()) {
      actual.put(n.getName(), n.getOp());
    }
    assertThat(actual).containsAllEntriesOf(expected);
  }

  private static void assertFusedAttributes(NodeDef bn, boolean training) {
    assertThat(bn.getOp()).isEqualTo("FusedBatchNormV3");
    assertThat(bn.getAttrMap().get("is_training").getB()).isEqualTo(training);
    assertThat(bn.getAttrMap().get("epsilon").getF()).isEqualTo(TfTestModels.EPSILON);
    assertThat(bn.getAttrMap().get("data_format").getS().toStringUtf8()).isEqualTo("NHWC");
  }

  /** The declared serving BN nodes are reached from the output, the others are not. */
  private static void assertReachability(GraphDef gd, Model m) {
    Set<String> served = reachable(gd, m.outputName());
    assertThat(served).containsAll(m.servingBnNodes());
    for (String other : m.otherBnNodes()) {
      assertThat(node(gd, other)).isNotNull();
      assertThat(served).doesNotContain(other);
    }
  }

  private static void assertStoredValues(Session s, BnParams expected, java.util.function.Function<String, String> tensor) {
    List<float[]> want = List.of(expected.gamma(), expected.beta(), expected.movingMean(), expected.movingVariance());
    for (int i = 0; i < BN_VARIABLES.size(); i++) {
      try (Result r = s.runner().fetch(tensor.apply(BN_VARIABLES.get(i))).run()) {
        assertThat(values((TFloat32) r.get(0))).as(BN_VARIABLES.get(i)).containsExactly(want.get(i));
      }
    }
  }

  /** Names of the nodes {@code from} depends on (data and control inputs), itself included. */
  private static Set<String> reachable(GraphDef gd, String from) {
    Map<String, NodeDef> byName = new HashMap<>();
    for (NodeDef n : gd.getNodeList()) {
      byName.put(n.getName(), n);
    }
    Set<String> seen = new HashSet<>();
    Deque<String> todo = new ArrayDeque<>(List.of(from));
    while (!todo.isEmpty()) {
      String name = todo.pop();
      if (!seen.add(name)) {
        continue;
      }
      for (String in : byName.get(name).getInputList()) {
        String n = in.startsWith("^") ? in.substring(1) : in;
        int colon = n.indexOf(':');
        todo.push(colon < 0 ? n : n.substring(0, colon));
      }
    }
    return seen;
  }

  private static NodeDef node(GraphDef gd, String name) {
    return gd.getNodeList().stream().filter(n -> n.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no node " + name));
  }

  private static NodeDef fnNode(FunctionDef f, String name) {
    return f.getNodeDefList().stream().filter(n -> n.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no node " + name + " in " + f.getSignature().getName()));
  }
}
