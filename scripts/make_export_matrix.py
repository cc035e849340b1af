"""Make the export matrix: for each way of exporting a TensorFlow model with BN that the other
fixtures do not cover, a healthy model and broken variants, each with its calibration data, and
the verdict bncheck must give on each (needs tensorflow-cpu; see docs/exporters.md for the
virtual environment).

    python scripts/make_export_matrix.py

Writes, with fixed seeds, to src/test/resources/export-matrix/:
  <path>/<variant>/model/      the SavedModel (or model.pb, a frozen graph)
  <path>/<variant>/<input>.npy calibration data for the signature input of that name: 32
                               samples from the distribution the model was trained on
  expected.tsv                 path, variant, BN layers, exit code of `bncheck check`, finding
                               codes at error level, and whether every layer's self-check runs
                               and passes (ExportMatrixTest holds bncheck to it)

A rerun rewrites the TF1, tf.Module and tf.saved_model.save models byte for byte; Keras 3's
model.export lists the same variables in another order each run.

Variants: `healthy` is trained a few hundred steps with momentum 0.9 (decay 0.9), so its moving
statistics converged on the data; `never-updated` is trained the same way, but the moving
averages never receive an update (TF1: the train op does not run UPDATE_OPS; tf.Module: the step
does not assign them; Keras: the BN layers are frozen from the start), so they stay 0 and 1;
`training` serves the healthy model's BN in training mode.

TF1 layers: tf.compat.v1.layers.batch_normalization needs the tf_keras package next to Keras 3
(TensorFlow raises "`batch_normalization` is not available with Keras 3" without it), so
tf1_batch_norm builds what that layer builds in graph mode, from tf.compat.v1 ops: the variables
gamma, beta, moving_mean and moving_variance under the layer's variable scope, FusedBatchNormV3
(fused=True; in training with exponential_avg_factor, whose outputs are assigned to the moving
averages) or tf.nn.moments and tf.nn.batch_normalization (fused=False; AssignSub updates), the
updates in the UPDATE_OPS collection, and constants for a gamma or beta left out by scale=False
or center=False. Graphs with use_resource=False hold reference variables (VariableV2), as
TensorFlow 1.x made them; the others resource variables, as TensorFlow 2 makes them.
"""

import os
import shutil
import tempfile

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from fixture_files import drop_fingerprint  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "export-matrix")

MOMENTUM = 0.9
EPSILON = 1e-3
STEPS = 300
BATCH = 32
CALIBRATION_SAMPLES = 32
TRAINING_SAMPLES = 512

NHWC = (8, 8, 3)
NCHW = (3, 8, 8)

# What bncheck must say about each kind of variant: exit code, finding codes at error level
VERDICTS = {
    "healthy": (0, ""),
    "never-updated": (1, "BN001,BN004"),
    "training": (1, "BN002,BN005"),
}

ROWS = []


def images(n, shape, seed):
    """Images with mean 2 and standard deviation 3, far from the 0 and 1 of never-updated statistics."""
    return np.random.default_rng(seed).normal(2.0, 3.0, size=(n,) + shape).astype("float32")


def targets(x, channel_axis):
    """A regression target the models can learn: a fixed mix of each channel's mean."""
    axes = tuple(a for a in range(1, 4) if a != channel_axis)
    mix = np.random.default_rng(7).normal(size=(x.shape[channel_axis], 2)).astype("float32")
    return (x.mean(axis=axes) @ mix).astype("float32")


def variant_dir(path, variant):
    d = os.path.join(OUT, path, variant)
    os.makedirs(d)
    return d


def record(path, variant, layers, inputs):
    """One row of expected.tsv (every layer's self-check must pass); the calibration data, by
    input name, goes beside the model."""
    code, findings = VERDICTS[variant]
    d = os.path.join(OUT, path, variant)
    for name, array in inputs.items():
        np.save(os.path.join(d, name + ".npy"), array)
    ROWS.append((path, variant, str(layers), str(code), findings or "-", "passed"))


# ---------------------------------------------------------------- TF1 (tf.compat.v1, graph mode)

def tf1_variable(name, shape, initializer, use_resource, trainable=True):
    return tf.compat.v1.get_variable(name, shape, initializer=initializer, use_resource=use_resource,
                                     trainable=trainable)


def tf1_batch_norm(x, name, training, fused, use_resource, axis=3, center=True, scale=True):
    """What tf.compat.v1.layers.batch_normalization(momentum=0.9, epsilon=1e-3) builds in graph mode."""
    channels = x.shape[axis]
    with tf.compat.v1.variable_scope(name, reuse=tf.compat.v1.AUTO_REUSE):
        gamma = tf1_variable("gamma", [channels], tf.compat.v1.ones_initializer(), use_resource) if scale else None
        beta = tf1_variable("beta", [channels], tf.compat.v1.zeros_initializer(), use_resource) if center else None
        mean = tf1_variable("moving_mean", [channels], tf.compat.v1.zeros_initializer(), use_resource, False)
        variance = tf1_variable("moving_variance", [channels], tf.compat.v1.ones_initializer(), use_resource, False)
    with tf.compat.v1.name_scope(name):
        if fused:
            data_format = "NCHW" if axis == 1 else "NHWC"
            g = gamma if scale else tf.constant(1.0, shape=[channels])
            b = beta if center else tf.constant(0.0, shape=[channels])
            if not training:
                y, _, _ = tf.compat.v1.nn.fused_batch_norm(x, g, b, mean, variance, EPSILON, data_format=data_format,
                                                           is_training=False)
                return y
            y, new_mean, new_variance = tf.compat.v1.nn.fused_batch_norm(
                x, g, b, mean, variance, EPSILON, data_format=data_format, is_training=True,
                exponential_avg_factor=1.0 - MOMENTUM)
            updates = [tf.compat.v1.assign(mean, new_mean, name="AssignMovingAvg"),
                       tf.compat.v1.assign(variance, new_variance, name="AssignMovingAvg_1")]
        else:
            axes = [a for a in range(4) if a != axis]
            broadcast = [1, channels, 1, 1] if axis == 1 else [channels]

            def shaped(t):
                return None if t is None else tf.reshape(t, broadcast)

            if not training:
                return tf.nn.batch_normalization(x, shaped(mean), shaped(variance), shaped(beta), shaped(gamma),
                                                 EPSILON)
            batch_mean, batch_variance = tf.nn.moments(x, axes)
            y = tf.nn.batch_normalization(x, shaped(batch_mean), shaped(batch_variance), shaped(beta), shaped(gamma),
                                          EPSILON)
            updates = [tf.compat.v1.assign_sub(mean, (mean - batch_mean) * (1.0 - MOMENTUM), name="AssignMovingAvg"),
                       tf.compat.v1.assign_sub(variance, (variance - batch_variance) * (1.0 - MOMENTUM),
                                               name="AssignMovingAvg_1")]
    for update in updates:
        tf.compat.v1.add_to_collection(tf.compat.v1.GraphKeys.UPDATE_OPS, update)
    return y


def tf1_conv(x, name, out_channels, use_resource, nchw=False):
    """A 3x3 convolution (NHWC), or a 1x1 one written as an einsum for NCHW, which the CPU's Conv2D refuses."""
    in_channels = x.shape[1 if nchw else 3]
    with tf.compat.v1.variable_scope(name, reuse=tf.compat.v1.AUTO_REUSE):
        if nchw:
            kernel = tf1_variable("kernel", [in_channels, out_channels], tf.compat.v1.glorot_uniform_initializer(),
                                  use_resource)
            return tf.einsum("nchw,cd->ndhw", x, kernel)
        kernel = tf1_variable("kernel", [3, 3, in_channels, out_channels], tf.compat.v1.glorot_uniform_initializer(),
                              use_resource)
        return tf.nn.conv2d(x, kernel, 1, "VALID")


def tf1_head(x, use_resource, nchw=False):
    pooled = tf.reduce_mean(x, axis=[2, 3] if nchw else [1, 2])
    with tf.compat.v1.variable_scope("head", reuse=tf.compat.v1.AUTO_REUSE):
        kernel = tf1_variable("kernel", [pooled.shape[1], 2], tf.compat.v1.glorot_uniform_initializer(), use_resource)
        bias = tf1_variable("bias", [2], tf.compat.v1.zeros_initializer(), use_resource)
    return tf.matmul(pooled, kernel) + bias


def tf1_cnn(x, training, use_resource, fused=(True, True), center=(True, True), scale=(True, True), mask=None):
    """conv -> bn1 -> relu -> conv -> bn2 -> relu -> mean -> dense (NHWC), the mask multiplying the input."""
    if mask is not None:
        x = x * tf.expand_dims(tf.cast(mask, tf.float32), -1)
    h = tf1_conv(x, "conv1", 4, use_resource)
    h = tf.nn.relu(tf1_batch_norm(h, "bn1", training, fused[0], use_resource, center=center[0], scale=scale[0]))
    h = tf1_conv(h, "conv2", 4, use_resource)
    h = tf.nn.relu(tf1_batch_norm(h, "bn2", training, fused[1], use_resource, center=center[1], scale=scale[1]))
    return tf1_head(h, use_resource)


def tf1_nchw(x, training, use_resource):
    """bn0 on the NCHW input (fused) -> 1x1 conv -> bn1 (unfused, statistics reshaped to [1, C, 1, 1])."""
    h = tf1_batch_norm(x, "bn0", training, True, use_resource, axis=1)
    h = tf1_conv(h, "conv1", 4, use_resource, nchw=True)
    h = tf.nn.relu(tf1_batch_norm(h, "bn1", training, False, use_resource, axis=1))
    return tf1_head(h, use_resource, nchw=True)


def tf1_train_op(loss, update_ops_run):
    """Plain gradient descent; the update ops run with each step only when update_ops_run (call it
    before building a serving tower, whose training-mode BN would add its own)."""
    optimizer = tf.compat.v1.train.GradientDescentOptimizer(0.02)
    if not update_ops_run:
        return optimizer.minimize(loss)
    with tf.control_dependencies(tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)):
        return optimizer.minimize(loss)


def tf1_train(session, x_train, y_train, step, x, y, extra=None):
    session.run(tf.compat.v1.global_variables_initializer())
    for i in range(STEPS):
        start = (i * BATCH) % len(x)
        feed = {x_train: x[start:start + BATCH], y_train: y[start:start + BATCH]}
        for placeholder, values in (extra or {}).items():
            feed[placeholder] = values[start:start + BATCH]
        session.run(step, feed)


def tf1_placeholders(shape):
    x_train = tf.compat.v1.placeholder(tf.float32, (None,) + shape, name="x_train")
    y_train = tf.compat.v1.placeholder(tf.float32, [None, 2], name="y_train")
    return x_train, y_train


def tf1_builder(path, variant, fused=True, nchw=False):
    """One graph: a training tower and the serving tower sharing its reference variables, saved
    with SavedModelBuilder and a signature built by predict_signature_def. fused applies to the
    NHWC network; the NCHW one has a layer of each kind."""
    shape = NCHW if nchw else NHWC
    x_data = images(TRAINING_SAMPLES, shape, 1)
    y_data = targets(x_data, 1 if nchw else 3)
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.set_random_seed(0)
        network = (lambda t, training: tf1_nchw(t, training, False)) if nchw else (
            lambda t, training: tf1_cnn(t, training, False, fused=(fused, fused)))
        x_train, y_train = tf1_placeholders(shape)
        loss = tf.reduce_mean(tf.square(network(x_train, True) - y_train))
        step = tf1_train_op(loss, variant != "never-updated")
        x = tf.compat.v1.placeholder(tf.float32, (None,) + shape, name="x")
        y = tf.identity(network(x, variant == "training"), name="y")
        with tf.compat.v1.Session(graph=graph) as session:
            tf1_train(session, x_train, y_train, step, x_data, y_data)
            builder = tf.compat.v1.saved_model.Builder(os.path.join(variant_dir(path, variant), "model"))
            signature = tf.compat.v1.saved_model.predict_signature_def({"x": x}, {"y": y})
            builder.add_meta_graph_and_variables(session, [tf.compat.v1.saved_model.SERVING],
                                                 signature_def_map={"serving_default": signature})
            builder.save()
    record(path, variant, 2, inputs={"x": images(CALIBRATION_SAMPLES, shape, 2)})


def tf1_trained_checkpoint(shape, network, update_ops_run, checkpoint, mask_data=None):
    """Trains the training graph and saves its variables, for a serving graph rebuilt from them."""
    x_data = images(TRAINING_SAMPLES, shape, 1)
    y_data = targets(x_data, 3)
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.set_random_seed(0)
        x_train, y_train = tf1_placeholders(shape)
        extra = {}
        if mask_data is not None:
            mask_train = tf.compat.v1.placeholder(tf.int32, [None, 8, 8], name="mask_train")
            extra[mask_train] = mask_data
            out = network(x_train, True, mask_train)
        else:
            out = network(x_train, True)
        step = tf1_train_op(tf.reduce_mean(tf.square(out - y_train)), update_ops_run)
        with tf.compat.v1.Session(graph=graph) as session:
            tf1_train(session, x_train, y_train, step, x_data, y_data, extra)
            tf.compat.v1.train.Saver().save(session, checkpoint)


def tf1_rebuilt(path, variant, use_resource, save, **network_options):
    """The TF1 way without a training tower in the export: train, save a checkpoint, rebuild the
    network for serving in a new graph, restore the checkpoint into it, and export that."""
    def network(t, training, mask=None):
        return tf1_cnn(t, training, use_resource, mask=mask, **network_options)

    with tempfile.TemporaryDirectory() as scratch:
        checkpoint = os.path.join(scratch, "model.ckpt")
        tf1_trained_checkpoint(NHWC, network, variant != "never-updated", checkpoint)
        graph = tf.Graph()
        with graph.as_default():
            tf.compat.v1.set_random_seed(0)
            x = tf.compat.v1.placeholder(tf.float32, (None,) + NHWC, name="x")
            y = tf.identity(network(x, variant == "training"), name="y")
            with tf.compat.v1.Session(graph=graph) as session:
                tf.compat.v1.train.Saver().restore(session, checkpoint)
                save(session, x, y, variant_dir(path, variant))
    record(path, variant, 2, inputs={"x": images(CALIBRATION_SAMPLES, NHWC, 2)})


def simple_save(session, x, y, out):
    tf.compat.v1.saved_model.simple_save(session, os.path.join(out, "model"), {"x": x}, {"y": y})


def freeze(session, x, y, out):
    """What freeze_graph does: variables to constants (their reads keep the _class colocation attribute)."""
    frozen = tf.compat.v1.graph_util.convert_variables_to_constants(session, session.graph.as_graph_def(), ["y"])
    tf.io.write_graph(frozen, out, "model.pb", as_text=False)


def tf1_several_inputs(path, variant):
    """A float image and an int32 mask in, a dict of two outputs out, saved with simple_save."""
    mask_data = np.random.default_rng(3).binomial(1, 0.8, size=(TRAINING_SAMPLES, 8, 8)).astype("int32")

    def network(t, training, mask):
        return tf1_cnn(t, training, True, mask=mask)

    with tempfile.TemporaryDirectory() as scratch:
        checkpoint = os.path.join(scratch, "model.ckpt")
        tf1_trained_checkpoint(NHWC, network, True, checkpoint, mask_data)
        graph = tf.Graph()
        with graph.as_default():
            tf.compat.v1.set_random_seed(0)
            x = tf.compat.v1.placeholder(tf.float32, (None,) + NHWC, name="x")
            mask = tf.compat.v1.placeholder(tf.int32, [None, 8, 8], name="mask")
            logits = network(x, variant == "training", mask)
            with tf.compat.v1.Session(graph=graph) as session:
                tf.compat.v1.train.Saver().restore(session, checkpoint)
                tf.compat.v1.saved_model.simple_save(
                    session, os.path.join(variant_dir(path, variant), "model"), {"x": x, "mask": mask},
                    {"logits": logits, "probabilities": tf.nn.softmax(logits)})
    calibration_mask = np.random.default_rng(4).binomial(1, 0.8, size=(CALIBRATION_SAMPLES, 8, 8)).astype("int32")
    record(path, variant, 2, inputs={"x": images(CALIBRATION_SAMPLES, NHWC, 2), "mask": calibration_mask})


# ---------------------------------------------------------------- TF2 (tf.Module, tf.saved_model.save)

class BnParameters(tf.Module):
    def __init__(self, name, channels):
        super().__init__(name=name)
        self.gamma = tf.Variable(tf.ones([channels]), name="gamma")
        self.beta = tf.Variable(tf.zeros([channels]), name="beta")
        self.moving_mean = tf.Variable(tf.zeros([channels]), trainable=False, name="moving_mean")
        self.moving_variance = tf.Variable(tf.ones([channels]), trainable=False, name="moving_variance")


class LowLevelCnn(tf.Module):
    """tf.Variables and tf.nn ops only: conv -> bn1 -> relu -> conv -> bn2 -> relu -> mean -> dense,
    NHWC; or, with nchw, bn1 on the NCHW input -> 1x1 conv (an einsum) -> bn2, both fused."""

    def __init__(self, fused, nchw=False, serve_training=False):
        super().__init__(name="cnn")
        init = tf.random.stateless_normal
        self.fused = fused
        self.nchw = nchw
        if nchw:
            self.kernel = tf.Variable(init([3, 4], seed=[0, 1]) * 0.5, name="kernel")
            self.bn1 = BnParameters("bn1", 3)
        else:
            self.kernel1 = tf.Variable(init([3, 3, 3, 4], seed=[0, 1]) * 0.3, name="kernel1")
            self.kernel2 = tf.Variable(init([3, 3, 4, 4], seed=[0, 2]) * 0.3, name="kernel2")
            self.bn1 = BnParameters("bn1", 4)
        self.bn2 = BnParameters("bn2", 4)
        self.dense = tf.Variable(init([4, 2], seed=[0, 3]) * 0.5, name="dense")
        # the serving function, with the BN mode it serves in and the input layout
        self.serve = tf.function(lambda x: {"y": self.forward(x, serve_training, False)},
                                 input_signature=[tf.TensorSpec((None,) + (NCHW if nchw else NHWC), tf.float32)])

    def batch_norm(self, x, p, training, update):
        data_format = "NCHW" if self.nchw else "NHWC"
        if self.fused:
            if not training:
                y, _, _ = tf.compat.v1.nn.fused_batch_norm(x, p.gamma, p.beta, p.moving_mean, p.moving_variance,
                                                           EPSILON, data_format=data_format, is_training=False)
                return y
            y, new_mean, new_variance = tf.compat.v1.nn.fused_batch_norm(
                x, p.gamma, p.beta, p.moving_mean, p.moving_variance, EPSILON, data_format=data_format,
                is_training=True, exponential_avg_factor=1.0 - MOMENTUM)
            if update:
                p.moving_mean.assign(new_mean)
                p.moving_variance.assign(new_variance)
            return y
        if not training:
            return tf.nn.batch_normalization(x, p.moving_mean, p.moving_variance, p.beta, p.gamma, EPSILON)
        mean, variance = tf.nn.moments(x, [0, 1, 2])
        if update:
            p.moving_mean.assign(p.moving_mean * MOMENTUM + mean * (1.0 - MOMENTUM))
            p.moving_variance.assign(p.moving_variance * MOMENTUM + variance * (1.0 - MOMENTUM))
        return tf.nn.batch_normalization(x, mean, variance, p.beta, p.gamma, EPSILON)

    def forward(self, x, training, update):
        if self.nchw:
            h = self.batch_norm(x, self.bn1, training, update)
            h = tf.einsum("nchw,cd->ndhw", h, self.kernel)
            h = tf.nn.relu(self.batch_norm(h, self.bn2, training, update))
            return tf.reduce_mean(h, axis=[2, 3]) @ self.dense
        h = tf.nn.conv2d(x, self.kernel1, 1, "VALID")
        h = tf.nn.relu(self.batch_norm(h, self.bn1, training, update))
        h = tf.nn.conv2d(h, self.kernel2, 1, "VALID")
        h = tf.nn.relu(self.batch_norm(h, self.bn2, training, update))
        return tf.reduce_mean(h, axis=[1, 2]) @ self.dense


def tf2_module(path, variant, fused, nchw=False):
    shape = NCHW if nchw else NHWC
    tf.random.set_seed(0)
    x_data = images(TRAINING_SAMPLES, shape, 1)
    y_data = targets(x_data, 1 if nchw else 3)
    module = LowLevelCnn(fused, nchw, serve_training=variant == "training")
    update = variant != "never-updated"
    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(module.forward(x, True, update) - y))
        variables = module.trainable_variables
        for variable, gradient in zip(variables, tape.gradient(loss, variables)):
            variable.assign_sub(0.02 * gradient)

    for i in range(STEPS):
        start = (i * BATCH) % TRAINING_SAMPLES
        step(x_data[start:start + BATCH], y_data[start:start + BATCH])
    out = os.path.join(variant_dir(path, variant), "model")
    tf.saved_model.save(module, out, signatures={"serving_default": module.serve})
    drop_fingerprint(out)
    record(path, variant, 2, inputs={"x": images(CALIBRATION_SAMPLES, shape, 2)})


# ---------------------------------------------------------------- Keras 3

def keras_cnn(bn_options=({}, {}), channels_first=False, frozen_bn=False):
    """Input "x" -> conv -> bn1 -> relu -> conv -> bn2 -> relu -> pooling -> dense."""
    keras.utils.set_random_seed(0)
    data_format = "channels_first" if channels_first else "channels_last"
    axis = 1 if channels_first else -1
    inp = keras.Input(NCHW if channels_first else NHWC, name="x")
    h = inp
    for i, options in enumerate(bn_options, start=1):
        h = keras.layers.Conv2D(4, 3, data_format=data_format, name=f"conv{i}")(h)
        bn = keras.layers.BatchNormalization(axis=axis, momentum=MOMENTUM, epsilon=EPSILON, name=f"bn{i}", **options)
        bn.trainable = not frozen_bn
        h = keras.layers.ReLU()(bn(h))
    h = keras.layers.GlobalAveragePooling2D(data_format=data_format)(h)
    return keras.Model(inp, keras.layers.Dense(2, name="head")(h), name="cnn")


def keras_fit(model, inputs, y):
    model.compile(optimizer=keras.optimizers.SGD(0.02), loss="mse")
    model.fit(inputs, y, batch_size=BATCH, epochs=STEPS * BATCH // TRAINING_SAMPLES, shuffle=False, verbose=0)


def keras_saved_model_save(path, variant):
    """A Keras 3 model passed to tf.saved_model.save itself (no model.export, no wrapping module)."""
    x_data = images(TRAINING_SAMPLES, NHWC, 1)
    model = keras_cnn(frozen_bn=variant == "never-updated")
    keras_fit(model, x_data, targets(x_data, 3))
    out = os.path.join(variant_dir(path, variant), "model")
    tf.saved_model.save(model, out)
    drop_fingerprint(out)
    record(path, variant, 2, inputs={"inputs": images(CALIBRATION_SAMPLES, NHWC, 2)})


def keras_exported(path, variant, layers=2, channels_first=False, bn_options=({}, {})):
    """Keras 3's own export, model.export."""
    shape = NCHW if channels_first else NHWC
    x_data = images(TRAINING_SAMPLES, shape, 1)
    model = keras_cnn(bn_options, channels_first, frozen_bn=variant == "never-updated")
    keras_fit(model, x_data, targets(x_data, 1 if channels_first else 3))
    out = os.path.join(variant_dir(path, variant), "model")
    model.export(out, verbose=False)
    drop_fingerprint(out)
    record(path, variant, layers, inputs={"x": images(CALIBRATION_SAMPLES, shape, 2)})


def keras_several_inputs(path, variant):
    """Inputs image (float32), mask (int32, multiplies the image) and index (int32, an embedding
    lookup); outputs a dict of logits and features; model.export."""
    keras.utils.set_random_seed(0)
    image = keras.Input(NHWC, name="image")
    mask = keras.Input((8, 8), dtype="int32", name="mask")
    index = keras.Input((), dtype="int32", name="index")
    masked = keras.layers.Multiply()([image, keras.layers.Reshape((8, 8, 1))(keras.ops.cast(mask, "float32"))])
    h = masked
    for i in (1, 2):
        h = keras.layers.Conv2D(4, 3, name=f"conv{i}")(h)
        bn = keras.layers.BatchNormalization(momentum=MOMENTUM, epsilon=EPSILON, name=f"bn{i}")
        bn.trainable = variant != "never-updated"
        h = keras.layers.ReLU()(bn(h))
    features = keras.layers.GlobalAveragePooling2D(name="features")(h)
    joined = keras.layers.Concatenate()([features, keras.layers.Embedding(5, 2, name="embedding")(index)])
    logits = keras.layers.Dense(2, name="logits")(joined)
    model = keras.Model({"image": image, "mask": mask, "index": index}, {"logits": logits, "features": features},
                        name="several")

    def data(n, seed):
        rng = np.random.default_rng(seed)
        return {"image": images(n, NHWC, seed), "mask": rng.binomial(1, 0.8, size=(n, 8, 8)).astype("int32"),
                "index": rng.integers(0, 5, size=(n,)).astype("int32")}

    train = data(TRAINING_SAMPLES, 1)
    model.compile(optimizer=keras.optimizers.SGD(0.02), loss={"logits": "mse", "features": None})
    model.fit(train, {"logits": targets(train["image"], 3)}, batch_size=BATCH,
              epochs=STEPS * BATCH // TRAINING_SAMPLES, shuffle=False, verbose=0)
    out = os.path.join(variant_dir(path, variant), "model")
    model.export(out, verbose=False)
    drop_fingerprint(out)
    record(path, variant, 2, inputs=data(CALIBRATION_SAMPLES, 2))


def main():
    tf.get_logger().setLevel("ERROR")  # the tf.compat.v1 APIs' deprecation warnings
    tf.config.experimental.enable_op_determinism()
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)

    for variant in ("healthy", "never-updated"):
        keras_saved_model_save("keras-saved-model-save", variant)
    for variant in ("healthy", "never-updated", "training"):
        tf2_module("tf2-module-nn", variant, fused=False)
        tf2_module("tf2-module-fused", variant, fused=True)
    for variant in ("healthy", "never-updated", "training"):
        tf1_builder("tf1-builder-fused", variant, fused=True)
        tf1_builder("tf1-builder-unfused", variant, fused=False)
        tf1_rebuilt("tf1-simple-save", variant, True, simple_save)
    for variant in ("healthy", "never-updated"):
        tf1_rebuilt("tf1-frozen", variant, False, freeze)
    for variant in ("healthy", "training"):
        tf1_several_inputs("several-inputs-tf1", variant)
    for variant in ("healthy", "never-updated"):
        keras_several_inputs("several-inputs-keras", variant)
        keras_exported("center-scale-keras", variant, bn_options=({"center": False}, {"scale": False}))
        tf1_rebuilt("center-scale-tf1", variant, True, simple_save, fused=(True, False), center=(False, True),
                    scale=(True, False))
        keras_exported("nchw-keras", variant, channels_first=True)
    for variant in ("healthy", "never-updated", "training"):
        tf1_builder("nchw-tf1", variant, nchw=True)
        tf2_module("nchw-tf2-fused", variant, fused=True, nchw=True)

    with open(os.path.join(OUT, "expected.tsv"), "w") as f:
        f.write("path\tvariant\tlayers\texit\tfindings\tself_check\n")
        for row in sorted(ROWS, key=lambda r: (r[0], list(VERDICTS).index(r[1]))):
            f.write("\t".join(row) + "\n")
    print("wrote", os.path.relpath(OUT))


if __name__ == "__main__":
    main()
