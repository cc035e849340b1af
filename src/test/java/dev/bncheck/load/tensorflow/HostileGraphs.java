package dev.bncheck.load.tensorflow;

import com.google.protobuf.ByteString;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.NameAttrList;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Hand-written graph pieces an attacker would put into a model: a function that writes a file,
 * functional control flow that calls it, and call structures meant to crash TensorFlow. Node
 * inputs are written for the scope the nodes go into: {@code node:output:0} inside a function,
 * {@code node} in the top-level graph.
 */
final class HostileGraphs {

  private HostileGraphs() {}

  /** Where new nodes go: the top-level graph or a function body. */
  record Scope(boolean function) {
    static final Scope TOP = new Scope(false);
    static final Scope FUNCTION = new Scope(true);

    String out(String node) {
      return function ? node + ":output:0" : node;
    }
  }

  static AttrValue type(DataType t) {
    return AttrValue.newBuilder().setType(t).build();
  }

  static AttrValue types(DataType... ts) {
    AttrValue.ListValue.Builder list = AttrValue.ListValue.newBuilder();
    for (DataType t : ts) {
      list.addType(t);
    }
    return AttrValue.newBuilder().setList(list).build();
  }

  static AttrValue func(String name) {
    return AttrValue.newBuilder().setFunc(NameAttrList.newBuilder().setName(name)).build();
  }

  static AttrValue funcs(String... names) {
    AttrValue.ListValue.Builder list = AttrValue.ListValue.newBuilder();
    for (String n : names) {
      list.addFunc(NameAttrList.newBuilder().setName(n));
    }
    return AttrValue.newBuilder().setList(list).build();
  }

  static NodeDef constant(String name, DataType dtype, TensorProto.Builder value) {
    return NodeDef.newBuilder().setName(name).setOp("Const").putAttr("dtype", type(dtype))
        .putAttr("value", AttrValue.newBuilder().setTensor(value.setDtype(dtype)
            .setTensorShape(TensorShapeProto.getDefaultInstance())).build()).build();
  }

  static NodeDef stringConst(String name, String value) {
    return constant(name, DataType.DT_STRING, TensorProto.newBuilder().addStringVal(ByteString.copyFromUtf8(value)));
  }

  static NodeDef boolConst(String name, boolean value) {
    return constant(name, DataType.DT_BOOL, TensorProto.newBuilder().addBoolVal(value));
  }

  static NodeDef intConst(String name, int value) {
    return constant(name, DataType.DT_INT32, TensorProto.newBuilder().addIntVal(value));
  }

  /** The nodes that write {@code marker}: two constants and the WriteFile {@code prefix + "write"}. */
  static List<NodeDef> writeFile(Scope scope, String prefix, Path marker) {
    return List.of(stringConst(prefix + "filename", marker.toString()),
        stringConst(prefix + "contents", "written by the model"),
        NodeDef.newBuilder().setName(prefix + "write").setOp("WriteFile")
            .addInput(scope.out(prefix + "filename")).addInput(scope.out(prefix + "contents")).build());
  }

  /** A function without arguments or results whose body writes {@code marker} (a control output). */
  static FunctionDef writer(String name, Path marker) {
    FunctionDef.Builder f = FunctionDef.newBuilder()
        .setSignature(OpDef.newBuilder().setName(name).setIsStateful(true).addControlOutput("write"));
    writeFile(Scope.FUNCTION, "", marker).forEach(f::addNodeDef);
    return f.putControlRet("write", "write").build();
  }

  /** A function without arguments or results that does nothing. */
  static FunctionDef nothing(String name) {
    return FunctionDef.newBuilder().setSignature(OpDef.newBuilder().setName(name)).build();
  }

  /** While's condition over one int32: {@code i < 1}, so the body runs once. */
  static FunctionDef lessThanOne(String name) {
    return FunctionDef.newBuilder()
        .setSignature(OpDef.newBuilder().setName(name)
            .addInputArg(OpDef.ArgDef.newBuilder().setName("i").setType(DataType.DT_INT32))
            .addOutputArg(OpDef.ArgDef.newBuilder().setName("r").setType(DataType.DT_BOOL)))
        .addNodeDef(intConst("one", 1))
        .addNodeDef(NodeDef.newBuilder().setName("less").setOp("Less").addInput("i").addInput("one:output:0")
            .putAttr("T", type(DataType.DT_INT32)))
        .putRet("r", "less:z:0").build();
  }

  /** While's body over one int32 that writes {@code marker} and adds one. */
  static FunctionDef writingIncrement(String name, Path marker) {
    FunctionDef.Builder f = FunctionDef.newBuilder()
        .setSignature(OpDef.newBuilder().setName(name).setIsStateful(true)
            .addInputArg(OpDef.ArgDef.newBuilder().setName("i").setType(DataType.DT_INT32))
            .addOutputArg(OpDef.ArgDef.newBuilder().setName("o").setType(DataType.DT_INT32))
            .addControlOutput("write"));
    writeFile(Scope.FUNCTION, "", marker).forEach(f::addNodeDef);
    return f.addNodeDef(intConst("one", 1))
        .addNodeDef(NodeDef.newBuilder().setName("next").setOp("AddV2").addInput("i").addInput("one:output:0")
            .putAttr("T", type(DataType.DT_INT32)))
        .putRet("o", "next:z:0").putControlRet("write", "write").build();
  }

  /** A function whose body calls {@code callee} {@code times} times. */
  static FunctionDef caller(String name, String callee, int times) {
    FunctionDef.Builder f = FunctionDef.newBuilder().setSignature(OpDef.newBuilder().setName(name));
    for (int i = 0; i < times; i++) {
      f.addNodeDef(call("call" + i, callee));
    }
    return f.build();
  }

  /** A StatefulPartitionedCall of a function without arguments or results (a stateless call of it would be pruned). */
  static NodeDef call(String name, String function) {
    return NodeDef.newBuilder().setName(name).setOp("StatefulPartitionedCall").putAttr("Tin", types())
        .putAttr("Tout", types()).putAttr("f", func(function)).build();
  }

  /** The nodes of a control-flow op {@code op} (If, While, Case and their stateless forms) that calls {@code writer}. */
  static List<NodeDef> controlFlow(Scope scope, String op, String prefix, String writer, String harmless,
      String condition) {
    List<NodeDef> out = new ArrayList<>();
    NodeDef.Builder node = NodeDef.newBuilder().setName(prefix + op).setOp(op);
    switch (op) {
      case "If", "StatelessIf" -> {
        out.add(boolConst(prefix + "cond", true));
        node.addInput(scope.out(prefix + "cond")).putAttr("Tcond", type(DataType.DT_BOOL))
            .putAttr("Tin", types()).putAttr("Tout", types())
            .putAttr("then_branch", func(writer)).putAttr("else_branch", func(harmless));
      }
      case "Case", "StatelessCase" -> {
        out.add(intConst(prefix + "branch", 1));
        node.addInput(scope.out(prefix + "branch")).putAttr("Tin", types()).putAttr("Tout", types())
            .putAttr("branches", funcs(harmless, writer));
      }
      case "While", "StatelessWhile" -> {
        out.add(intConst(prefix + "start", 0));
        node.addInput(scope.out(prefix + "start")).putAttr("T", types(DataType.DT_INT32))
            .putAttr("cond", func(condition)).putAttr("body", func(writer));
      }
      default -> throw new IllegalArgumentException(op);
    }
    out.add(node.build());
    return out;
  }
}
