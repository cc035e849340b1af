"""Make the test fixtures of models whose graphs hold recurrent loops, to keep them loadable
under bncheck's op check (needs tensorflow-cpu; see docs/exporters.md for the virtual environment).

    python scripts/make_keras_rnn_bn.py

Writes, with fixed seeds, to src/test/resources/rnn-bn/:
  keras-lstm/   Keras 3, exported with model.export: Input(12, 6) -> BatchNormalization "bn_in"
                -> LSTM(8, sequences) -> BatchNormalization "bn_seq" -> GRU(4) -> Dense(3). The
                recurrent layers run as While loops over TensorList ops. Trained for a few steps
                on data.npy, then every BN layer's moving statistics set to its training-mode statistics on
                data.npy (momentum 0 for one training-mode call), so bncheck passes it.
  tf1-tensorarray/  a TF1 graph (tf.compat.v1, control flow v1) saved with simple_save: a
                TensorArrayV3 loop (Enter/Merge/Switch/Exit) whose stacked result goes through a
                fused BatchNormalization "bn" with is_training=False.
  data.npy      64 sequences [12, 6], float32
"""

import os
import shutil

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from fixture_files import drop_fingerprint  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "rnn-bn")


def keras_lstm(data):
    keras.utils.set_random_seed(0)
    inp = keras.Input((12, 6))
    x = keras.layers.BatchNormalization(name="bn_in")(inp)
    x = keras.layers.LSTM(8, return_sequences=True, name="lstm")(x)
    x = keras.layers.BatchNormalization(name="bn_seq")(x)
    x = keras.layers.GRU(4, name="gru")(x)
    model = keras.Model(inp, keras.layers.Dense(3, name="head")(x))
    labels = (data[:, :, 0].sum(axis=1) > 0).astype("int32") + (data[:, :, 1].sum(axis=1) > 0).astype("int32")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(data, labels, epochs=20, batch_size=16, verbose=0, shuffle=False)
    # Statistics of the whole data set, so that the model is healthy and bncheck passes it
    for bn in [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]:
        bn.momentum = 0.0
    model(data, training=True)
    model.export(os.path.join(OUT, "keras-lstm"), verbose=False)


def tf1_tensorarray(data):
    tf.compat.v1.disable_control_flow_v2()
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.set_random_seed(0)
        x = tf.compat.v1.placeholder(tf.float32, [None, 12, 6], name="x")
        steps = tf.unstack(tf.transpose(x, [1, 0, 2]))
        ta = tf.TensorArray(tf.float32, size=12, element_shape=tf.TensorShape([None, 6]))
        ta = ta.unstack(tf.stack(steps))
        out = tf.TensorArray(tf.float32, size=12)

        def body(i, acc, out):
            acc = acc * 0.5 + ta.read(i)
            return i + 1, acc, out.write(i, acc)

        _, _, out = tf.compat.v1.while_loop(lambda i, *_: i < 12, body,
                                            [tf.constant(0), tf.zeros_like(steps[0]), out])
        seq = tf.transpose(out.stack(), [1, 0, 2])[:, :, None, :]
        with tf.compat.v1.variable_scope("bn"):
            gamma = tf.compat.v1.get_variable("gamma", initializer=tf.ones([6]))
            beta = tf.compat.v1.get_variable("beta", initializer=tf.zeros([6]))
            mean = tf.compat.v1.get_variable("moving_mean", initializer=tf.constant(
                data.mean(axis=(0, 1)).astype("float32") * 2), trainable=False)
            var = tf.compat.v1.get_variable("moving_variance", initializer=tf.constant(
                data.var(axis=(0, 1)).astype("float32") * 1.4), trainable=False)
            y, _, _ = tf.compat.v1.nn.fused_batch_norm(seq, gamma, beta, mean, var, epsilon=1e-3,
                                                       is_training=False)
        logits = tf.identity(tf.reduce_mean(y, axis=[1, 2]), name="logits")
        with tf.compat.v1.Session(graph=graph) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            tf.compat.v1.saved_model.simple_save(sess, os.path.join(OUT, "tf1-tensorarray"), {"x": x},
                                                 {"logits": logits})


def main():
    data = np.random.default_rng(0).normal(size=(64, 12, 6)).astype("float32")
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    np.save(os.path.join(OUT, "data.npy"), data)
    keras_lstm(data)
    tf1_tensorarray(data)
    for model in ("keras-lstm", "tf1-tensorarray"):
        drop_fingerprint(os.path.join(OUT, model))
    print("wrote", os.path.relpath(OUT))


if __name__ == "__main__":
    main()
