"""Make the test fixtures of the textbook TF1 BatchNormalization pattern: the layer inside
tf.cond(is_training, training branch, inference branch) with is_training a
placeholder_with_default(False) that the serving signature does not feed, trained 300 steps with
the moving-average updates in the training branch, saved with simple_save (needs
tensorflow-cpu; see docs/exporters.md for the virtual environment).

    python scripts/make_tf_cond_bn.py

Writes, with fixed seeds, to src/test/resources/tf-cond-bn/:
  v1/        control flow v1 (Switch/Merge in the graph)
  v2/        control flow v2 (If with the branches as functions, as TensorFlow 2 builds it; the
             branches rewritten for gradients hold Optional ops)
  v2-data/   the same with a predicate that also depends on the data (is_training or the batch's
             mean above 100, which these samples never reach): neither branch is always taken
  v1-fed/    control flow v1 with is_training a plain bool placeholder that the serving
             signature takes as an input beside x: the caller chooses the branch
  v1-unfused-never/  the same, BN written with tf.nn.moments and tf.nn.batch_normalization (as
             tf.layers with fused=False and slim write it) and moving averages that never move
             (decay 1): the training graph kept beside the serving path consumes the pattern's
             tensors too
  v1-case/   control flow v1, tf.case([(mode == 0, training branch)], default=inference branch)
             with mode an int32 placeholder among the signature's inputs (0 trains)
  data.npy   16 samples [8, 8, 3], float32, mean 2 and standard deviation 3
"""

import os
import shutil

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "tf-cond-bn")


def make(out, data, data_predicate=False, fed_predicate=False, unfused_never=False, case_mode=False):
    g = tf.Graph()
    with g.as_default():
        tf.compat.v1.set_random_seed(0)
        x = tf.compat.v1.placeholder(tf.float32, [None, 8, 8, 3], name="x")
        if case_mode:
            is_training = tf.compat.v1.placeholder(tf.int32, [], name="mode")
        elif fed_predicate:
            is_training = tf.compat.v1.placeholder(tf.bool, [], name="is_training")
        else:
            is_training = tf.compat.v1.placeholder_with_default(False, [], name="is_training")
        k = tf.compat.v1.get_variable("conv/kernel", [3, 3, 3, 4])
        h = tf.nn.conv2d(x, k, 1, "VALID")
        with tf.compat.v1.variable_scope("bn"):
            gamma = tf.compat.v1.get_variable("gamma", initializer=tf.ones([4]))
            beta = tf.compat.v1.get_variable("beta", initializer=tf.zeros([4]))
            mm = tf.compat.v1.get_variable("moving_mean", initializer=tf.zeros([4]), trainable=False)
            mv = tf.compat.v1.get_variable("moving_variance", initializer=tf.ones([4]), trainable=False)

        decay = 1.0 if unfused_never else 0.9

        def train_branch():
            if unfused_never:
                m, v = tf.nn.moments(h, [0, 1, 2])
                y = tf.nn.batch_normalization(h, m, v, beta, gamma, 1e-3)
            else:
                y, m, v = tf.compat.v1.nn.fused_batch_norm(h, gamma, beta, epsilon=1e-3, is_training=True)
            u1 = tf.compat.v1.assign(mm, mm * decay + m * (1 - decay))
            u2 = tf.compat.v1.assign(mv, mv * decay + v * (1 - decay))
            with tf.control_dependencies([u1, u2]):
                return tf.identity(y)

        def infer_branch():
            if unfused_never:
                return tf.nn.batch_normalization(h, mm, mv, beta, gamma, 1e-3)
            y, _, _ = tf.compat.v1.nn.fused_batch_norm(h, gamma, beta, mm, mv, epsilon=1e-3, is_training=False)
            return y

        predicate = tf.logical_or(is_training, tf.reduce_mean(x) > 100.0) if data_predicate else is_training
        if case_mode:
            y = tf.case([(tf.equal(is_training, 0), train_branch)], default=infer_branch)
        else:
            y = tf.cond(predicate, train_branch, infer_branch)
        out_t = tf.identity(tf.reduce_mean(y, axis=[1, 2]), name="out")
        loss = tf.reduce_mean(tf.square(out_t - 1.0))
        train = tf.compat.v1.train.GradientDescentOptimizer(0.01).minimize(loss)
        with tf.compat.v1.Session(graph=g) as s:
            s.run(tf.compat.v1.global_variables_initializer())
            for i in range(300):
                start = (i * 8) % len(data)
                s.run(train, {x: data[start:start + 8], is_training: 0 if case_mode else True})
            inputs = {"x": x, is_training.op.name: is_training} if fed_predicate or case_mode else {"x": x}
            tf.compat.v1.saved_model.simple_save(s, out, inputs, {"out": out_t})


def main():
    tf.compat.v1.disable_eager_execution()
    data = np.random.default_rng(0).normal(2.0, 3.0, size=(16, 8, 8, 3)).astype("float32")
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    np.save(os.path.join(OUT, "data.npy"), data)
    make(os.path.join(OUT, "v2"), data)
    make(os.path.join(OUT, "v2-data"), data, data_predicate=True)
    tf.compat.v1.disable_control_flow_v2()
    make(os.path.join(OUT, "v1"), data)
    make(os.path.join(OUT, "v1-fed"), data, fed_predicate=True)
    make(os.path.join(OUT, "v1-unfused-never"), data, fed_predicate=True, unfused_never=True)
    make(os.path.join(OUT, "v1-case"), data, case_mode=True)
    print("wrote", os.path.relpath(OUT))


if __name__ == "__main__":
    main()
