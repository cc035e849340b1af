"""Make the test fixture of an untrained Keras CNN (needs tensorflow-cpu with Keras 3; see
docs/exporters.md for the virtual environment). From the repository root:

    python scripts/make_keras_untrained_cnn.py

Writes, with fixed seeds, to src/test/resources/keras-untrained-cnn/:
  model/  a Sequential CNN on float32 [None, 32, 32, 3]: Conv2D(32) -> BatchNormalization ->
          MaxPool -> Conv2D(64) -> BatchNormalization -> MaxPool -> Flatten -> Dense(10),
          exported with model.export right after it was built, never trained: both BN layers
          keep their initial moving statistics 0 and 1 (BN001 on both)

It stands in for a third-party Keras 2 SavedModel of the same architecture that carried no
licence and so cannot be part of the repository. Keras 2 (tf_keras) is not installed here, so
this is the Keras 3 layout: no keras_metadata.pb (so no momentum), one traced serving function,
and BN spelled out as tf.nn.batch_normalization (the Rsqrt pattern) instead of FusedBatchNormV3.
"""

import os
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402
from fixture_files import drop_fingerprint  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "keras-untrained-cnn")


def main():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.BatchNormalization(),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.BatchNormalization(),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(10),
        ],
        name="sequential",
    )
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    model.export(os.path.join(OUT, "model"), verbose=False)
    drop_fingerprint(os.path.join(OUT, "model"))
    print("wrote", os.path.relpath(OUT))


if __name__ == "__main__":
    main()
