"""Make the test fixture of a Keras 3 model whose graph holds the ops of common preprocessing and
activation layers, to keep them accepted by bncheck's op check (needs tensorflow-cpu; see
docs/exporters.md for the virtual environment).

    python scripts/make_keras_preprocessing_bn.py

Writes, with fixed seeds, to src/test/resources/keras-preprocessing-bn/:
  model/     Input(32, 32, 3) -> RandomFlip, RandomRotation, RandomZoom, RandomContrast (kept in the
             model; inactive at inference) -> Resizing bicubic, area, lanczos3 -> Conv2D(4, gelu)
             -> BatchNormalization "bn" -> GlobalAveragePooling2D -> Dense(2), exported with
             model.export; the BN layer's moving statistics are its training-mode statistics on
             data.npy (momentum 0 for one training-mode call), so bncheck passes it
  data.npy   16 images, float32
  attention/ Input(6, 8) -> Dense(8) -> BatchNormalization -> MultiHeadAttention(2, 4) with a causal
             mask -> one_hot(argmax), exported with model.export (MatrixBandPart, BitwiseAnd)
  conv3d/    Input(4, 4, 4, 2) -> Conv3DTranspose(2, 3) -> BatchNormalization, exported with
             model.export (Conv3DBackpropInputV2)
"""

import os
import shutil

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402
from fixture_files import drop_fingerprint  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources",
                   "keras-preprocessing-bn")


def main():
    keras.utils.set_random_seed(0)
    inp = keras.Input((32, 32, 3))
    x = keras.layers.RandomFlip()(inp)
    x = keras.layers.RandomRotation(0.1)(x)
    x = keras.layers.RandomZoom(0.1)(x)
    x = keras.layers.RandomContrast(0.2)(x)
    x = keras.layers.Resizing(28, 28, interpolation="bicubic")(x)
    x = keras.layers.Resizing(24, 24, interpolation="area")(x)
    x = keras.layers.Resizing(20, 20, interpolation="lanczos3")(x)
    x = keras.layers.Conv2D(4, 3, activation="gelu")(x)
    bn = keras.layers.BatchNormalization(name="bn")
    x = bn(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inp, keras.layers.Dense(2)(x))
    data = np.random.default_rng(0).uniform(size=(16, 32, 32, 3)).astype("float32")
    # statistics of the data the inference path computes (augmentation off), so that bncheck passes it
    features = keras.Model(inp, bn.input)(data, training=False)
    bn.momentum = 0.0
    bn(features, training=True)
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    export(model, "model")
    np.save(os.path.join(OUT, "data.npy"), data)
    export_small_models()
    print("wrote", os.path.relpath(OUT))


def export(model, name):
    model.export(os.path.join(OUT, name), verbose=False)
    drop_fingerprint(os.path.join(OUT, name))


def export_small_models():
    keras.utils.set_random_seed(0)
    inp = keras.Input((6, 8))
    x = keras.layers.BatchNormalization()(keras.layers.Dense(8)(inp))
    x = keras.layers.MultiHeadAttention(2, 4)(x, x, use_causal_mask=True)
    export(keras.Model(inp, keras.ops.one_hot(keras.ops.argmax(x, -1), 4)), "attention")
    inp = keras.Input((4, 4, 4, 2))
    export(keras.Model(inp, keras.layers.BatchNormalization()(keras.layers.Conv3DTranspose(2, 3)(inp))), "conv3d")


if __name__ == "__main__":
    main()
