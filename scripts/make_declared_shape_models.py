"""Makes the SavedModels of src/test/resources/declared-shapes (run with TensorFlow 2.x).

bncheck resolves a SavedModel's BN layers on the shapes its graph declares for their
variables, prepares its statistics ops for them, and reads the values after; these models'
values are not as declared:

- unknown-mean: a tf.Module whose moving mean is a tf.Variable of unknown shape;
- tf1-unknown-mean: the same in a TF1 graph, a reference variable with validate_shape=False;
- more-channels-than-declared: the graph declares 4 channels, the checkpoint holds a consistent
  model of 8 (convolution kernel and every BN variable), which TensorFlow restores and runs;
- scalar-mean: the checkpoint's moving mean is a scalar where the graph declares 4 values;
- unknown-rank-input: a tf.Module whose input's rank is not declared, so that the graph knows
  no shape of the convolution's and BN's tensors; fed data of rank 2 (inputs-rank2.npy),
  TensorFlow's convolution kernel aborted the process on a failed CHECK;
- unknown-rank-input.pb: the same frozen (convert_variables_to_constants_v2).

Also writes x.npy, 16 samples of 6x6x3. Usage: python make_declared_shape_models.py
"""
import os
import shutil

import numpy as np
import tensorflow as tf

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources",
                   "declared-shapes")


def module(channels, unknown_mean=False, input_shape=(None, 6, 6, 3)):
    class Model(tf.Module):
        def __init__(self):
            super().__init__()
            rng = np.random.RandomState(1)
            self.k = tf.Variable((rng.randn(3, 3, 3, channels) * 0.3).astype(np.float32), name="k")
            self.gamma = tf.Variable(np.linspace(0.5, 1.5, channels).astype(np.float32), name="gamma")
            self.beta = tf.Variable(np.linspace(-0.2, 0.2, channels).astype(np.float32), name="beta")
            mean = np.linspace(-0.1, 0.1, channels).astype(np.float32)
            self.mean = (tf.Variable(mean, name="moving_mean", shape=tf.TensorShape(None)) if unknown_mean
                         else tf.Variable(mean, name="moving_mean"))
            self.var = tf.Variable(np.linspace(0.5, 2, channels).astype(np.float32), name="moving_variance")

        @tf.function(input_signature=[tf.TensorSpec(input_shape, tf.float32)])
        def __call__(self, x):
            y = tf.nn.conv2d(x, self.k, 1, "SAME")
            y = tf.nn.batch_normalization(y, self.mean, self.var, self.beta, self.gamma, 1e-3)
            return {"out": tf.nn.relu(y)}

    return Model()


def save(name, model):
    path = os.path.join(OUT, name)
    shutil.rmtree(path, ignore_errors=True)
    tf.saved_model.save(model, path, signatures={"serving_default": model.__call__})
    return path


def with_checkpoint_of(name, graph_from, variables):
    """The SavedModel graph_from with its checkpoint replaced by one of the given variables."""
    path = os.path.join(OUT, name)
    shutil.rmtree(path, ignore_errors=True)
    shutil.copytree(graph_from, path)
    shutil.rmtree(os.path.join(path, "variables"))
    tf.train.Checkpoint(**variables).write(os.path.join(path, "variables", "variables"))


def freeze_unknown_rank_input():
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2
    loaded = tf.saved_model.load(os.path.join(OUT, "unknown-rank-input"))
    frozen = convert_variables_to_constants_v2(loaded.signatures["serving_default"])
    tf.io.write_graph(frozen.graph.as_graph_def(), OUT, "unknown-rank-input.pb", as_text=False)


def tf1_unknown_mean():
    tf1 = tf.compat.v1
    path = os.path.join(OUT, "tf1-unknown-mean")
    shutil.rmtree(path, ignore_errors=True)
    graph = tf.Graph()
    with graph.as_default():
        x = tf1.placeholder(tf.float32, [None, 6, 6, 3], name="x")
        k = tf1.Variable((np.random.RandomState(1).randn(3, 3, 3, 4) * 0.3).astype(np.float32), name="k",
                         use_resource=False)
        y = tf.nn.conv2d(x, k, [1, 1, 1, 1], "SAME")
        with tf1.variable_scope("bn"):
            gamma = tf1.Variable(np.linspace(0.5, 1.5, 4).astype(np.float32), name="gamma", use_resource=False)
            beta = tf1.Variable(np.linspace(-0.2, 0.2, 4).astype(np.float32), name="beta", use_resource=False)
            mean = tf1.Variable(np.linspace(-0.1, 0.1, 4).astype(np.float32), name="moving_mean",
                                use_resource=False, validate_shape=False)
            var = tf1.Variable(np.linspace(0.5, 2, 4).astype(np.float32), name="moving_variance",
                               use_resource=False)
        out = tf.identity(tf.nn.relu(tf.nn.batch_normalization(y, mean, var, beta, gamma, 1e-3)), name="out")
        with tf1.Session() as session:
            session.run(tf1.global_variables_initializer())
            builder = tf1.saved_model.Builder(path)
            builder.add_meta_graph_and_variables(session, ["serve"], signature_def_map={
                "serving_default": tf1.saved_model.predict_signature_def({"x": x}, {"out": out})})
            builder.save()


def main():
    os.makedirs(OUT, exist_ok=True)
    np.save(os.path.join(OUT, "x.npy"),
            np.random.default_rng(0).normal(size=(16, 6, 6, 3)).astype(np.float32))
    save("unknown-mean", module(4, unknown_mean=True))
    save("unknown-rank-input", module(4, input_shape=None))
    freeze_unknown_rank_input()
    np.save(os.path.join(OUT, "inputs-rank2.npy"), np.random.default_rng(1).normal(size=(10, 3)).astype(np.float32))
    tf1_unknown_mean()
    declares_four = save("declares-four", module(4))
    eight = module(8)
    with_checkpoint_of("more-channels-than-declared", declares_four,
                       {"k": eight.k, "gamma": eight.gamma, "beta": eight.beta, "mean": eight.mean, "var": eight.var})
    four = module(4)
    with_checkpoint_of("scalar-mean", declares_four,
                       {"k": four.k, "gamma": four.gamma, "beta": four.beta, "mean": tf.Variable(np.float32(0.5)),
                        "var": four.var})
    shutil.rmtree(declares_four)


if __name__ == "__main__":
    main()
