"""Make the test fixture of a TF1 graph whose training-mode BN node does not reach the serving
output: the output is the input plus zero times the node's mean (needs tensorflow-cpu; see
docs/exporters.md for the virtual environment).

    python scripts/make_tf1_unreached_training_bn.py

Writes src/test/resources/tf1-unreached-training-bn/model, saved with simple_save (input x
[None, 4, 4, 2], output out). bncheck finds the training-mode node (BN002) and measures the
outputs the same alone as in a batch.
"""

import os
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources",
                   "tf1-unreached-training-bn", "model")


def main():
    tf.compat.v1.disable_eager_execution()
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, 4, 4, 2], name="x")
        y, _, _ = tf.compat.v1.nn.fused_batch_norm(x, tf.constant([1.0, 1.0]), tf.constant([0.0, 0.0]),
                                                   epsilon=1e-3, is_training=True, name="bn")
        out = tf.identity(x + 0.0 * tf.reduce_mean(y, axis=[1, 2, 3], keepdims=True), name="out")
        with tf.compat.v1.Session(graph=graph) as session:
            shutil.rmtree(OUT, ignore_errors=True)
            tf.compat.v1.saved_model.simple_save(session, OUT, {"x": x}, {"out": out})
    print("wrote", os.path.relpath(OUT))


if __name__ == "__main__":
    main()
