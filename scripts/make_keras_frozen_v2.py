"""Make the test fixture of a Keras 3 model frozen the TensorFlow 2 way: a concrete function
converted with convert_variables_to_constants_v2, whose constants are named after the
ReadVariableOp they replaced (needs tensorflow-cpu; see docs/exporters.md for the virtual
environment).

    python scripts/make_keras_frozen_v2.py

Writes, with fixed seeds, src/test/resources/keras-frozen-v2/frozen.pb: Input(8, 8, 3) ->
Conv2D "conv1" -> BatchNormalization "bn1" -> GlobalAveragePooling2D -> Dense "head", model "cnn",
never trained (moving statistics 0 and 1).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "keras-frozen-v2")


def main():
    keras.utils.set_random_seed(0)
    inp = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, name="conv1")(inp)
    x = keras.layers.BatchNormalization(name="bn1")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inp, keras.layers.Dense(2, name="head")(x), name="cnn")
    function = tf.function(lambda t: model(t, training=False)).get_concrete_function(
        tf.TensorSpec([None, 8, 8, 3], tf.float32))
    frozen = convert_variables_to_constants_v2(function)
    os.makedirs(OUT, exist_ok=True)
    tf.io.write_graph(frozen.graph.as_graph_def(), OUT, "frozen.pb", as_text=False)
    print("wrote", os.path.relpath(OUT))


if __name__ == "__main__":
    main()
