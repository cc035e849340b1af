"""Write weights-only Keras files (model.save_weights) of the committed Keras test models, which
bncheck reads without a config (Keras's defaults assumed).

Run from the repository root with a Python that has Keras 3 (TensorFlow backend) and h5py:

    python scripts/make_keras_weights_only.py

It reads src/test/resources/keras-files/{healthy,untrained,frozen}.keras (written by
make_keras_checkpoints.py, whose expected.json holds their values) and writes beside them:
- NAME.weights.h5: Keras 3's save_weights layout (layers/<class group>/vars/0..n);
- NAME-keras2.weights.h5: the save_weights layout of Keras 2 (a layer_names attribute, each
  layer's variables listed in weight_names), written by Keras 3's own legacy HDF5 writer.
The models' values are those of the .keras files, so expected.json serves for both.

Besides, a channels-first model (BatchNormalization(axis=1, epsilon=0.01, momentum=0.9) on
[batch, 3, 4, 4] inputs, trained 200 steps), which a weights-only file cannot describe:
- channels-first.weights.h5: its save_weights file;
- channels-first.bn.json: its dump by scripts/bn_dump_keras.py on 2 batches of 16, which records
  the axis, epsilon and momentum the weights file lacks (check --inputs pairs them).
And odd-norms.weights.h5: a Functional model whose other layers look like BN by name or shape,
a LayerNormalization named "batch_normalization", a GroupNormalization named
"batch_normalization_7" and a custom layer of four vectors, before one real BatchNormalization.
"""

import os

import sys

import h5py
import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras  # noqa: E402
from keras.src.legacy.saving import legacy_h5_format  # noqa: E402

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
DIR = os.path.join(SCRIPTS, "..", "src", "test", "resources", "keras-files")
sys.path.insert(0, SCRIPTS)
sys.dont_write_bytecode = True
from bn_dump_keras import dump_bn  # noqa: E402


def channels_first():
    keras.utils.set_random_seed(7)
    rng = np.random.default_rng(7)
    inputs = keras.Input((3, 4, 4))
    h = keras.layers.BatchNormalization(axis=1, epsilon=0.01, momentum=0.9, name="bn_cf")(inputs)
    outputs = keras.layers.Dense(2)(keras.layers.Flatten()(h))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    # channels of different means and spreads, so that a wrong axis shows
    scale = np.array([1.0, 3.0, 0.5], "float32")[None, :, None, None]
    offset = np.array([2.0, -1.0, 0.0], "float32")[None, :, None, None]
    x = (rng.standard_normal((6400, 3, 4, 4)).astype("float32") * scale + offset)
    y = rng.integers(0, 2, 6400)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    model.save_weights(os.path.join(DIR, "channels-first.weights.h5"))
    calibration = [rng.standard_normal((16, 3, 4, 4)).astype("float32") * scale + offset for _ in range(2)]
    dump_bn(model, calibration, os.path.join(DIR, "channels-first.bn.json"), model_name="channels_first")


class FourVectors(keras.layers.Layer):
    """A custom layer with four one-dimensional weights, as many as a BN layer has."""

    def build(self, shape):
        self.vectors = [self.add_weight(shape=(shape[-1],), initializer="ones", name=n) for n in "abcd"]

    def call(self, x):
        return x * self.vectors[0]


def odd_norms():
    inputs = keras.Input((4,))
    h = keras.layers.LayerNormalization(name="batch_normalization")(inputs)
    h = keras.layers.GroupNormalization(groups=2, name="batch_normalization_7")(h)
    h = FourVectors(name="my_four")(h)
    h = keras.layers.BatchNormalization(name="bn_real")(h)
    keras.Model(inputs, h).save_weights(os.path.join(DIR, "odd-norms.weights.h5"))


def main():
    for name in ["healthy", "untrained", "frozen"]:
        model = keras.models.load_model(os.path.join(DIR, name + ".keras"))
        model.save_weights(os.path.join(DIR, name + ".weights.h5"))
        with h5py.File(os.path.join(DIR, name + "-keras2.weights.h5"), "w") as f:
            legacy_h5_format.save_weights_to_hdf5_group(f, model)
        print("wrote", name)
    channels_first()
    print("wrote channels-first")
    odd_norms()
    print("wrote odd-norms")


if __name__ == "__main__":
    main()
