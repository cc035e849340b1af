"""Make the test fixture of a Keras 3 model whose first BatchNormalization normalizes the model's
input directly (needs tensorflow-cpu; see docs/exporters.md for the virtual environment).

    python scripts/make_keras_input_bn.py

Writes, with fixed seeds, to src/test/resources/keras-input-bn/:
  model/      Input(8) -> BatchNormalization "input_bn" -> Dense(4) -> BatchNormalization "bn2"
              -> Dense(2), exported with model.export; every BN layer's moving statistics are its
              training-mode statistics on data.npy (momentum 0 for one training-mode call), so
              bncheck passes it
  data.npy    100 samples, float32, mean 5 and standard deviation 3
  nan.npy     the same with one NaN (sample 40, feature 3)
A BN layer reading the model's input reads a tensor that bncheck feeds: TensorFlow refuses to
fetch a fed tensor, the case this fixture keeps covered.
"""

import os
import shutil

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402
from fixture_files import drop_fingerprint  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "keras-input-bn")


def main():
    keras.utils.set_random_seed(0)
    inp = keras.Input((8,))
    x = keras.layers.BatchNormalization(name="input_bn")(inp)
    x = keras.layers.Dense(4)(x)
    x = keras.layers.BatchNormalization(name="bn2")(x)
    model = keras.Model(inp, keras.layers.Dense(2)(x))
    data = np.random.default_rng(0).normal(size=(100, 8)).astype("float32") * 3 + 5
    for bn in [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]:
        bn.momentum = 0.0
    model(data, training=True)
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    model.export(os.path.join(OUT, "model"), verbose=False)
    drop_fingerprint(os.path.join(OUT, "model"))
    np.save(os.path.join(OUT, "data.npy"), data)
    with_nan = data.copy()
    with_nan[40, 3] = np.nan
    np.save(os.path.join(OUT, "nan.npy"), with_nan)
    print("wrote", os.path.relpath(OUT))


if __name__ == "__main__":
    main()
