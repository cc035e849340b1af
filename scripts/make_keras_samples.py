"""Make the Keras 3 SavedModel samples in samples/ (needs tensorflow-cpu; see docs/exporters.md
for the virtual environment that scripts/test_exporters.sh sets up).

    python scripts/make_keras_samples.py

Writes, with fixed seeds:
  samples/keras-cnn-trained/     a small CNN trained with model.fit, exported with model.export
  samples/keras-cnn-untrained/   the same architecture exported without training (BN001)
  samples/keras-cnn-inputs.npy   128 calibration images from the training distribution
  samples/keras-cnn-labels.npy   their classes (int64)
Keras 3 writes every BatchNormalization as the decomposed pattern (Rsqrt, Mul, ...) inside the
SavedModel's functions: the case bncheck must find without any FusedBatchNorm op.
"""

import os
import shutil
import sys

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from fixture_files import drop_fingerprint  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "samples")
SIZE = 12
CLASSES = 3


def data(n, seed):
    """Images whose class is a bright blob in one of three places, on a per-channel offset."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, CLASSES, n)
    x = rng.normal(0.0, 0.3, (n, SIZE, SIZE, 3)).astype("float32") + np.array([0.5, -0.2, 1.0], "float32")
    for i, label in enumerate(labels):
        r = 2 + 4 * label
        x[i, r:r + 3, r:r + 3, :] += 1.5
    return x, labels


def model():
    keras.utils.set_random_seed(7)
    return keras.Sequential([
        keras.Input((SIZE, SIZE, 3)),
        keras.layers.Conv2D(8, 3, name="conv1"),
        keras.layers.BatchNormalization(momentum=0.9, name="bn1"),
        keras.layers.ReLU(),
        keras.layers.Conv2D(16, 3, strides=2, name="conv2"),
        keras.layers.BatchNormalization(momentum=0.9, name="bn2"),
        keras.layers.ReLU(),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(CLASSES, name="logits"),
    ], name="keras_cnn")


def export(m, name):
    path = os.path.join(ROOT, name)
    shutil.rmtree(path, ignore_errors=True)
    m.export(path, verbose=False)
    drop_fingerprint(path)
    print("wrote", os.path.relpath(path))


def main():
    x, y = data(2048, seed=1)
    trained = model()
    trained.compile(optimizer=keras.optimizers.Adam(0.01), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                    metrics=["accuracy"])
    trained.fit(x, y, batch_size=64, epochs=4, verbose=0, shuffle=False)
    xc, yc = data(128, seed=2)
    accuracy = trained.evaluate(xc, yc, verbose=0)[1]
    print(f"trained: accuracy {accuracy:.3f} on the calibration images")
    export(trained, "keras-cnn-trained")
    untrained = model()
    untrained(x[:1])
    export(untrained, "keras-cnn-untrained")
    np.save(os.path.join(ROOT, "keras-cnn-inputs.npy"), xc)
    np.save(os.path.join(ROOT, "keras-cnn-labels.npy"), yc.astype("int64"))
    print("wrote samples/keras-cnn-inputs.npy and samples/keras-cnn-labels.npy")
    print("tensorflow", tf.__version__, "keras", keras.__version__, file=sys.stderr)


if __name__ == "__main__":
    main()
