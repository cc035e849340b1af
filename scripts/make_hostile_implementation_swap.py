"""Make the hostile test models in which Grappler's implementation selector, not the graph, calls
the attack (needs tensorflow-cpu; see docs/exporters.md for the virtual environment).

    python scripts/make_hostile_implementation_swap.py

Writes to src/test/resources/hostile/implementation-swap/{write,read}: a tf.Module with one
fused BatchNormalization, saved with tf.saved_model.save, whose init op calls `wrapper`, which
calls `good`. `good` and `bad` both declare api_implements "scale"; `bad` prefers the CPU, so when
TensorFlow optimizes the body of `wrapper` at the call it runs `bad` instead, which nothing in the
graph names. In `write`, `bad` writes the file named by the string BNCHECK_MARKER (tests replace
it); in `read`, it reads /etc/hostname into an Assert message. bncheck must walk `bad` too.
"""

import os
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf  # noqa: E402
from tensorflow.core.framework import types_pb2  # noqa: E402
from tensorflow.core.protobuf import saved_model_pb2  # noqa: E402
from fixture_files import drop_fingerprint  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "hostile",
                   "implementation-swap")
SPEC = tf.TensorSpec([None, 1, 1, 4], tf.float32)


def implementation(device):
    return dict(experimental_attributes={"api_implements": "scale", "api_preferred_device": device},
                input_signature=[SPEC])


def make(mode, out):
    @tf.function(**implementation("GPU"))
    def good(x):
        return x * 1.0

    @tf.function(**implementation("CPU"))
    def bad(x):
        if mode == "write":
            tf.io.write_file("BNCHECK_MARKER", "written by the model")
        else:
            tf.debugging.Assert(False, [tf.io.read_file("/etc/hostname")])
        return x * 1.0

    @tf.function(input_signature=[SPEC])
    def wrapper(x):
        return good(x)

    class Model(tf.Module):
        def __init__(self):
            super().__init__()
            self.gamma = tf.Variable(tf.ones(4), name="bn/gamma")
            self.beta = tf.Variable(tf.zeros(4), name="bn/beta")
            self.mean = tf.Variable(tf.fill([4], 0.5), name="bn/moving_mean")
            self.variance = tf.Variable(tf.fill([4], 2.0), name="bn/moving_variance")

        @tf.function(input_signature=[SPEC])
        def serve(self, x):
            bad.get_concrete_function().add_to_graph()
            wrapper.get_concrete_function().add_to_graph()
            y, _, _ = tf.compat.v1.nn.fused_batch_norm(x, self.gamma, self.beta, self.mean, self.variance,
                                                       is_training=False)
            return {"output": y}

    model = Model()
    tf.saved_model.save(model, out, signatures={"serving_default": model.serve})
    path = os.path.join(out, "saved_model.pb")
    saved = saved_model_pb2.SavedModel()
    with open(path, "rb") as f:
        saved.ParseFromString(f.read())
    meta = saved.meta_graphs[0]
    graph = meta.graph_def
    x = graph.node.add(name="hostile_x", op="Const")
    x.attr["dtype"].type = types_pb2.DT_FLOAT
    x.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(tf.zeros([1, 1, 1, 4])))
    call = graph.node.add(name="hostile_call", op="StatefulPartitionedCall", input=["hostile_x"])
    call.attr["f"].func.name = next(f.signature.name for f in graph.library.function
                                    if f.signature.name.startswith("__inference_wrapper_"))
    call.attr["Tin"].list.type.append(types_pb2.DT_FLOAT)
    call.attr["Tout"].list.type.append(types_pb2.DT_FLOAT)
    for key in ("config", "config_proto", "executor_type"):
        call.attr[key].s = b""
    graph.node.add(name="hostile_init", op="NoOp", input=["^hostile_call"])
    meta.signature_def["__saved_model_init_op"].outputs["__saved_model_init_op"].name = "hostile_init"
    with open(path, "wb") as f:
        f.write(saved.SerializeToString())
    drop_fingerprint(out)


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    for mode in ("write", "read"):
        make(mode, os.path.join(OUT, mode))
    print("wrote", os.path.relpath(OUT))


if __name__ == "__main__":
    main()
