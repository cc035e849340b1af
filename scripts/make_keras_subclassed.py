"""Write subclassed Keras models (a keras.Model subclass, whose config lists no layers), which
bncheck reads by finding the BN layers among the weights.

Run from the repository root with a Python that has Keras 3 (TensorFlow backend):

    python scripts/make_keras_subclassed.py

It writes into src/test/resources/keras-files/:
- subclassed.keras: trained 40 steps at momentum 0.9 on synthetic data; three BN layers, one
  named by Keras's default (`self.bn`, "batch_normalization"), one named by the user
  (`self.norm`, "norm": found by its four variables alone), one inside a Sequential block
  (`self.block`, "sequential/inner_bn");
- subclassed.weights.h5: the same model's save_weights;
- subclassed-untrained.keras: the model saved right after it was built (statistics 0/1);
- expected-subclassed.json: the values Keras held for each BN layer of the trained model, under the
  names bncheck gives them.
"""

import json
import os

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "keras-files")


@keras.saving.register_keras_serializable(package="bncheck_tests")
class Net(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.conv = keras.layers.Conv2D(4, 3, padding="same")
        self.bn = keras.layers.BatchNormalization(momentum=0.9)
        self.conv2 = keras.layers.Conv2D(6, 3, padding="same")
        self.norm = keras.layers.BatchNormalization(momentum=0.9, name="norm")
        self.block = keras.Sequential([keras.layers.Conv2D(5, 3, padding="same"),
                                       keras.layers.BatchNormalization(momentum=0.9, name="inner_bn")])
        self.head = keras.layers.Dense(2)

    def call(self, x, training=False):
        h = keras.ops.relu(self.bn(self.conv(x), training=training))
        h = keras.ops.relu(self.norm(self.conv2(h), training=training))
        h = self.block(h, training=training)
        return self.head(keras.ops.mean(h, axis=(1, 2)))


def main():
    keras.utils.set_random_seed(7)
    rng = np.random.default_rng(7)
    x = rng.normal(loc=1.5, scale=2.0, size=(320, 8, 8, 3)).astype("float32")
    y = rng.normal(size=(320, 2)).astype("float32")

    untrained = Net()
    untrained(x[:2])
    untrained.save(os.path.join(OUT, "subclassed-untrained.keras"))

    model = Net()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    model.save(os.path.join(OUT, "subclassed.keras"))
    model.save_weights(os.path.join(OUT, "subclassed.weights.h5"))

    def values(layer):
        return {"moving_mean": [float(v) for v in layer.moving_mean.numpy()],
                "moving_variance": [float(v) for v in layer.moving_variance.numpy()],
                "gamma": [float(v) for v in layer.gamma.numpy()],
                "beta": [float(v) for v in layer.beta.numpy()]}

    expected = {"keras_version": keras.__version__, "layers": {
        model.bn.name: values(model.bn),
        model.norm.name: values(model.norm),
        model.block.name + "/" + model.block.layers[1].name: values(model.block.layers[1]),
    }}
    with open(os.path.join(OUT, "expected-subclassed.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    print("wrote", sorted(expected["layers"]))


if __name__ == "__main__":
    main()
