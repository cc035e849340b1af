"""Make the test fixtures of a Keras 3 model wrapped in a tf.Module whose @tf.function calls it,
saved with tf.saved_model.save: the usual TensorFlow 2 way to give a model a custom serving
signature (needs tensorflow-cpu; see docs/exporters.md for the virtual environment).

    python scripts/make_tf_module_keras_bn.py

Writes, with fixed seeds, to src/test/resources/tf-module-keras/:
  healthy/   Sequential Conv2D(4) -> BatchNormalization -> GlobalAveragePooling2D -> Dense(2),
             served with training=False; the BN statistics are the training-mode statistics of
             data.npy (momentum 0 for one training-mode call), so bncheck passes it
  stale/     the same after one training-mode call at Keras' default momentum 0.99: the moving
             statistics moved 1% of the way to the data
  training/  the healthy model served with training=True: BN normalizes with batch statistics
  data.npy   32 samples [8, 8, 3], float32, mean 2 and standard deviation 3
Such a graph holds two handle ops per variable: one named after the layer, which the serving
functions capture and nothing restores, and one (Variable_N) that the restore op fills.
"""

import os
import shutil

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from fixture_files import drop_fingerprint  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "tf-module-keras")


class Serving(tf.Module):
    def __init__(self, model, training):
        super().__init__()
        self.model = model
        self.training = training

    @tf.function(input_signature=[tf.TensorSpec([None, 8, 8, 3], tf.float32)])
    def serve(self, x):
        return {"y": self.model(x, training=self.training)}


def make(name, data, momentum, training):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3), keras.layers.BatchNormalization(),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2)])
    model.layers[1].momentum = momentum
    model(data, training=True)
    module = Serving(model, training)
    tf.saved_model.save(module, os.path.join(OUT, name), signatures={"serving_default": module.serve})
    drop_fingerprint(os.path.join(OUT, name))


def main():
    data = np.random.default_rng(0).normal(2.0, 3.0, size=(32, 8, 8, 3)).astype("float32")
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    np.save(os.path.join(OUT, "data.npy"), data)
    make("healthy", data, 0.0, False)
    make("stale", data, 0.99, False)
    make("training", data, 0.0, True)
    print("wrote", os.path.relpath(OUT))


if __name__ == "__main__":
    main()
