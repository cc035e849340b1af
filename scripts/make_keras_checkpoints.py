"""Write the Keras model files that bncheck's native Keras reader is tested on.

Run from the repository root with a Python that has Keras 3 (TensorFlow backend) and h5py:

    python scripts/make_keras_checkpoints.py

It writes into src/test/resources/keras-files/, each model as a Keras 3 archive (.keras) and as
a legacy HDF5 file (.h5, the Keras 2 layout Keras 3 still writes), plus:

- dump-*.json: bncheck dumps of the healthy and the untrained model with calibration activations
  (two batches of 5 samples, written by the project's exporter, scripts/bn_dump_keras.py), to pair
  with the model files in `check --inputs`;
- expected.json: the values Keras itself holds for every BN layer (axis, epsilon, momentum,
  center, scale, trainable, the moving statistics, gamma and beta), which the Java tests compare
  bncheck's reading with.

The models (a small CNN, 8x8x3 inputs, synthetic data):
- healthy: trained 300 steps at momentum 0.9; its statistics describe its data.
- untrained: saved right after it was built; statistics still 0 and 1.
- few-steps: trained 4 steps at the default momentum 0.99; statistics barely moved.
- frozen: a base model (trained first) nested in a Sequential model and frozen
  (trainable=False) for fine-tuning, with a trainable BN in the head.

Keras's files are not byte-for-byte reproducible (timestamps, HDF5 object order): the files are
committed once and only rewritten when the models change.
"""

import json
import os
import sys

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bn_dump_keras import dump_bn  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "keras-files")


def data(seed, n=256):
    rng = np.random.default_rng(seed)
    # channels with distinct means and spreads, so that trained statistics are far from 0/1
    x = rng.normal(loc=[0.5, -1.0, 2.0], scale=[1.0, 0.5, 2.0], size=(n, 8, 8, 3)).astype("float32")
    y = (x[:, :, :, 0].mean(axis=(1, 2)) > 0.5).astype("int32") + (x[:, :, :, 2].mean(axis=(1, 2)) > 2.0)
    return x, y


def cnn(momentum):
    inputs = keras.Input((8, 8, 3), name="image")
    h = keras.layers.Conv2D(8, 3, padding="same", name="conv1")(inputs)
    h = keras.layers.BatchNormalization(momentum=momentum, epsilon=1e-3, name="bn1")(h)
    h = keras.layers.ReLU(name="relu1")(h)
    h = keras.layers.Conv2D(16, 3, padding="same", name="conv2")(h)
    # no learned scale: the weights hold beta and the statistics only
    h = keras.layers.BatchNormalization(momentum=momentum, epsilon=0.01, scale=False, name="bn2")(h)
    h = keras.layers.ReLU(name="relu2")(h)
    h = keras.layers.GlobalAveragePooling2D(name="pool")(h)
    outputs = keras.layers.Dense(3, name="logits")(h)
    return keras.Model(inputs, outputs, name="small_cnn")


def compiled(model):
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def train(model, steps, seed):
    x, y = data(seed, n=32 * steps)
    compiled(model).fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False)
    return model


def frozen():
    base_in = keras.Input((8, 8, 3), name="base_input")
    h = keras.layers.Conv2D(8, 3, padding="same", name="base_conv")(base_in)
    h = keras.layers.BatchNormalization(momentum=0.9, name="base_bn")(h)
    h = keras.layers.ReLU(name="base_relu")(h)
    base = keras.Model(base_in, h, name="base")
    pretrain = keras.Sequential([base, keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3)],
                                name="pretrain")
    pretrain.build((None, 8, 8, 3))
    train(pretrain, 200, seed=11)
    base.trainable = False
    model = keras.Sequential([
        keras.Input((8, 8, 3)),
        base,
        keras.layers.Conv2D(16, 3, padding="same", name="head_conv"),
        keras.layers.BatchNormalization(momentum=0.9, name="head_bn"),
        keras.layers.ReLU(name="head_relu"),
        keras.layers.GlobalAveragePooling2D(name="head_pool"),
        keras.layers.Dense(3, name="head_logits"),
    ], name="fine_tune")
    return train(model, 100, seed=12)


def bn_layers(model, prefix=""):
    """(qualified name, layer) for every BN layer, nested models included, as the exporter names them."""
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            found.append((prefix + layer.name, layer))
        elif isinstance(layer, keras.Model):
            found.extend(bn_layers(layer, prefix + layer.name + "/"))
    return found


def expected(model):
    layers = {}
    for name, layer in bn_layers(model):
        layers[name] = {
            "axis": layer.axis, "epsilon": layer.epsilon, "momentum": layer.momentum,
            "center": layer.center, "scale": layer.scale, "trainable": layer.trainable,
            "moving_mean": np.asarray(layer.moving_mean, dtype="float64").tolist(),
            "moving_variance": np.asarray(layer.moving_variance, dtype="float64").tolist(),
            "gamma": np.asarray(layer.gamma, dtype="float64").tolist() if layer.scale else None,
            "beta": np.asarray(layer.beta, dtype="float64").tolist() if layer.center else None,
        }
    return {"model": model.name, "layers": layers}


def main():
    os.makedirs(OUT, exist_ok=True)
    keras.utils.set_random_seed(7)
    models = {
        "healthy": train(cnn(0.9), 300, seed=1),
        "untrained": cnn(0.99),
        "few-steps": train(cnn(0.99), 4, seed=2),
        "frozen": frozen(),
    }
    calibration, _ = data(99, n=10)
    truth = {"keras_version": keras.__version__, "models": {}}
    for name, model in models.items():
        model.save(os.path.join(OUT, name + ".keras"))
        model.save(os.path.join(OUT, name + ".h5"))
        if name in ("healthy", "untrained"):
            dump_bn(model, [calibration[:5], calibration[5:]], os.path.join(OUT, "dump-" + name + ".json"),
                    model_name=name)
        truth["models"][name] = expected(model)
    with open(os.path.join(OUT, "expected.json"), "w", encoding="utf-8") as out:
        json.dump(truth, out, indent=1)
        out.write("\n")


if __name__ == "__main__":
    main()
