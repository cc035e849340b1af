"""Make the test fixtures of Keras sequence models that mask padded steps, saved as SavedModels
(needs tensorflow-cpu; see docs/exporters.md for the virtual environment).

    python scripts/make_keras_masked_savedmodels.py

Keras's BatchNormalization leaves masked steps out of its batch moments, so the moving
statistics of a healthy masked model never saw the padding; bncheck has to leave it out too.
Writes, with fixed seeds, to src/test/resources/keras-masked/:
  masking-export/     Input(16, 4) -> Masking(0.0) -> Dense 16 -> BatchNormalization -> ReLU
                      -> Dense 16 -> BatchNormalization -> ReLU -> GlobalAveragePooling1D -> Dense 4,
                      trained on sequences of 4 to 16 steps zero-padded to 16 (Keras 3 model.export)
  masking-tfsave/     the same model saved with tf.saved_model.save
  masking-bn2-var10/  the same model with its second BN layer's moving variance x10, exported
  masking-axis1/      Masking(0.0) -> Dense 16 -> BatchNormalization(axis=1) (normalizing the steps)
                      -> GlobalAveragePooling1D -> Dense 4, exported
  embedding-export/   Input(16 ids) -> Embedding(50, 8, mask_zero=True) -> Dense 16
                      -> BatchNormalization -> ReLU -> GlobalAveragePooling1D -> Dense 4, exported
  masking-conv1d/     Masking(0.0) -> Conv1D 12 -> BatchNormalization -> GlobalAveragePooling1D -> Dense 4:
                      Conv1D does not support masking and drops the mask, so the BN layer trained on
                      every step (an outside tester's model), exported
  lambda-notequal/    no mask: a Lambda's any(x != 0) over the features, concatenated to the input as
                      a feature -> Dense 12 -> BatchNormalization -> GlobalAveragePooling1D -> Dense 4
                      (an outside tester's model), exported
  two-masked-inputs/  inputs a and b, each Masking(0.0) -> Dense 12 -> BatchNormalization ->
                      GlobalAveragePooling1D, concatenated -> Dense 4, exported
  masking-gru/        Masking(0.0) -> Dense 12 -> BatchNormalization -> GRU(8) -> Dense 4: only the
                      recurrent layer reads the mask after the BN layer (an outside tester's model), exported
  masking-float64/    masking-export's layers in float64 (Keras casts the padding value), exported
  masking-mixed/      masking-export's layers under the mixed_float16 policy (Keras casts the input to
                      float16 before comparing it), exported
  sequences.npy       256 calibration sequences [16, 4], float32, 42% of the steps padding
  second-sequences.npy  256 more, for two-masked-inputs' input b
  ids.npy             256 id sequences [16], int32, 0 past each sequence's length
"""

import os
import shutil

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from fixture_files import drop_fingerprint, padded_sequences  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "keras-masked")
STEPS = 16


def ids(rng, n):
    """Ids 1 to 49, 4 to 16 of them, 0 after; the class from the first id."""
    values = rng.integers(1, 50, size=(n, STEPS))
    lengths = rng.integers(4, STEPS + 1, n)
    values[np.arange(STEPS)[None, :] >= lengths[:, None]] = 0
    return values.astype(np.int32), values[:, 0] % 4


def trained(layers, x, y, epochs):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(layers)
    model.compile(keras.optimizers.Adam(3e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, batch_size=32, epochs=epochs, verbose=0)
    return model


def export(model, name):
    model.export(os.path.join(OUT, name), verbose=False)


def main():
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    x, y = padded_sequences(np.random.default_rng(0), 6000)
    model = trained([keras.Input((STEPS, 4)), keras.layers.Masking(0.0),
                     keras.layers.Dense(16), keras.layers.BatchNormalization(), keras.layers.ReLU(),
                     keras.layers.Dense(16), keras.layers.BatchNormalization(), keras.layers.ReLU(),
                     keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(4)], x, y, 8)
    np.save(os.path.join(OUT, "sequences.npy"), padded_sequences(np.random.default_rng(7002), 256)[0])
    export(model, "masking-export")
    tf.saved_model.save(model, os.path.join(OUT, "masking-tfsave"))
    second = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)][1]
    second.moving_variance.assign(second.moving_variance * 10)
    export(model, "masking-bn2-var10")
    axis1 = trained([keras.Input((STEPS, 4)), keras.layers.Masking(0.0), keras.layers.Dense(16),
                     keras.layers.BatchNormalization(axis=1), keras.layers.GlobalAveragePooling1D(),
                     keras.layers.Dense(4)], x, y, 4)
    export(axis1, "masking-axis1")
    tokens, labels = ids(np.random.default_rng(1), 6000)
    embedding = trained([keras.Input((STEPS,), dtype="int32"), keras.layers.Embedding(50, 8, mask_zero=True),
                         keras.layers.Dense(16), keras.layers.BatchNormalization(), keras.layers.ReLU(),
                         keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(4)], tokens, labels, 4)
    np.save(os.path.join(OUT, "ids.npy"), ids(np.random.default_rng(7003), 256)[0])
    export(embedding, "embedding-export")
    conv = trained([keras.Input((STEPS, 4)), keras.layers.Masking(0.0),
                    keras.layers.Conv1D(12, 3, padding="same", activation="relu"), keras.layers.BatchNormalization(),
                    keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(4)], x, y, 4)
    export(conv, "masking-conv1d")
    inp = keras.Input((STEPS, 4))
    flag = keras.layers.Lambda(lambda t: keras.ops.cast(keras.ops.any(keras.ops.not_equal(t, 0.0), axis=-1,
                                                                      keepdims=True), "float32"))(inp)
    h = keras.layers.Dense(12, activation="relu")(keras.layers.Concatenate()([inp, flag]))
    h = keras.layers.GlobalAveragePooling1D()(keras.layers.BatchNormalization()(h))
    keras.utils.set_random_seed(0)
    lam = keras.Model(inp, keras.layers.Dense(4)(h))
    lam.compile(keras.optimizers.Adam(3e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    lam.fit(x, y, batch_size=32, epochs=4, verbose=0)
    export(lam, "lambda-notequal")
    keras.utils.set_random_seed(0)
    a, b = keras.Input((STEPS, 4), name="a"), keras.Input((STEPS, 4), name="b")
    pooled = [keras.layers.GlobalAveragePooling1D()(keras.layers.BatchNormalization()(
        keras.layers.Dense(12, activation="relu")(keras.layers.Masking(0.0)(t)))) for t in (a, b)]
    two = keras.Model([a, b], keras.layers.Dense(4)(keras.layers.Concatenate()(pooled)))
    two.compile(keras.optimizers.Adam(3e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x2, _ = padded_sequences(np.random.default_rng(3), 6000)
    two.fit([x, x2], y, batch_size=32, epochs=4, verbose=0)
    np.save(os.path.join(OUT, "second-sequences.npy"), padded_sequences(np.random.default_rng(7004), 256)[0])
    export(two, "two-masked-inputs")
    gru = trained([keras.Input((STEPS, 4)), keras.layers.Masking(0.0), keras.layers.Dense(12),
                   keras.layers.BatchNormalization(), keras.layers.GRU(8), keras.layers.Dense(4)], x, y, 4)
    export(gru, "masking-gru")
    for name, policy in (("masking-float64", "float64"), ("masking-mixed", "mixed_float16")):
        keras.mixed_precision.set_global_policy(policy)
        typed = trained([keras.Input((STEPS, 4)), keras.layers.Masking(0.0),
                         keras.layers.Dense(16), keras.layers.BatchNormalization(), keras.layers.ReLU(),
                         keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(4)], x, y, 4)
        export(typed, name)
        keras.mixed_precision.set_global_policy("float32")
    for name in ("masking-export", "masking-tfsave", "masking-bn2-var10", "masking-axis1", "embedding-export",
                 "masking-conv1d", "lambda-notequal", "two-masked-inputs", "masking-gru", "masking-float64",
                 "masking-mixed"):
        drop_fingerprint(os.path.join(OUT, name))


if __name__ == "__main__":
    main()
