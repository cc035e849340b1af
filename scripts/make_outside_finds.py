"""Make the fixtures of what outside testers found bncheck getting wrong on models exported in
ways its own samples do not take (needs tensorflow-cpu; see docs/exporters.md):

    python scripts/make_outside_finds.py [NAME ...]   (default: all)

Writes, with fixed seeds, to src/test/resources/outside-finds/:
  unbatched-outputs/  a trained Keras 3 CNN inside a tf.Module whose signatures return outputs
                      without a batch axis: a scalar (serving_default), per-class means, a
                      variable, and a time-major stack [3, batch, 2]; x.npy holds 16 samples
  nan-variance/       a trained Keras 3 CNN whose BN moving variance holds a NaN channel
                      (model.export); x.npy holds 16 samples
  uint8-input/        a Keras 3 image model taking uint8 pixels (Input(dtype="uint8") → Rescaling
                      → Conv2D → BatchNormalization), model.export; x.npy holds 32 uint8 images
  frozen-while/       the CNN called in a tf.while_loop, frozen by convert_variables_to_constants_v2
                      with the loop lowered to Enter/Exit frames (model.pb); x.npy holds 16 samples
  text-pipeline/      a tf.Module taking sentences as strings, as text models ship: split into tokens
                      (StringSplitV2, ragged), looked up in a vocabulary table (HashTableV2 filled by
                      the init op, LookupTableFindV2), padded (RaggedTensorToTensor), token counts
                      through SparseToDense, embedded, fake-quantized as quantization-aware
                      training leaves it (FakeQuantWithMinMaxVars/Args), then BatchNormalization
                      with statistics that match the sentences; x.npy holds 64 sentences
  ragged-ids/         a tf.Module whose signature takes a tf.RaggedTensorSpec of int64 token ids
                      (a values and a row-splits tensor), averages their embeddings, then BN;
                      x.npz holds 16 rows as ids (values) and ids_1 (row splits)
"""

import os
import shutil
import sys

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_files import drop_fingerprint  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "outside-finds")
L = keras.layers


def images(n, seed=0):
    return np.random.default_rng(seed).normal(2.0, 3.0, size=(n, 8, 8, 3)).astype("float32")


def trained_cnn(x):
    keras.utils.set_random_seed(0)
    i = L.Input((8, 8, 3))
    bn = L.BatchNormalization(momentum=0.9, name="bn1")
    h = bn(L.Conv2D(4, 3, padding="same")(i))
    model = keras.Model(i, L.Dense(2)(L.Flatten()(h)), name="cnn")
    model.compile("adam", "mse")
    y = np.random.default_rng(1).normal(size=(len(x), 2)).astype("float32")
    model.fit(x, y, epochs=10, batch_size=32, verbose=0)
    return model, bn


def unbatched_outputs(out, model, x):
    spec = [tf.TensorSpec([None, 8, 8, 3], tf.float32, name="x")]

    class Module(tf.Module):
        def __init__(self):
            super().__init__()
            self.model = model
            self.prior = tf.Variable([0.3, 0.7])

        @tf.function(input_signature=spec)
        def scalar(self, x):
            y = self.model(x, training=False)
            return {"logits": y, "mean_logit": tf.reduce_mean(y)}

        @tf.function(input_signature=spec)
        def per_class(self, x):
            y = self.model(x, training=False)
            return {"logits": y, "class_mean": tf.reduce_mean(y, 0)}

        @tf.function(input_signature=spec)
        def variable_first(self, x):
            return {"a_prior": self.prior * 1.0, "z_logits": self.model(x, training=False)}

        @tf.function(input_signature=spec)
        def time_major(self, x):
            y = self.model(x, training=False)
            return {"tm": tf.stack([y, y * 2, y * 3])}

    m = Module()
    signatures = {name: getattr(m, name) for name in ["scalar", "per_class", "variable_first", "time_major"]}
    signatures["serving_default"] = m.scalar
    tf.saved_model.save(m, os.path.join(out, "model"), signatures=signatures)
    np.save(os.path.join(out, "x.npy"), x[:16])


def nan_variance(out, model, bn, x):
    weights = [w.copy() for w in bn.get_weights()]
    broken = [w.copy() for w in weights]
    broken[3][1] = np.nan
    bn.set_weights(broken)
    model.export(os.path.join(out, "model"), verbose=False)
    bn.set_weights(weights)
    np.save(os.path.join(out, "x.npy"), x[:16])


def uint8_input(out):
    keras.utils.set_random_seed(0)
    pixels = np.random.default_rng(2).integers(0, 256, size=(256, 8, 8, 3)).astype("uint8")
    i = L.Input((8, 8, 3), dtype="uint8")
    h = L.Rescaling(1 / 255.0)(i)
    h = L.BatchNormalization(momentum=0.9, name="bn1")(L.Conv2D(4, 3, padding="same")(h))
    model = keras.Model(i, L.Dense(2)(L.Flatten()(h)), name="uint8_cnn")
    model.compile("adam", "mse")
    y = np.random.default_rng(3).normal(size=(len(pixels), 2)).astype("float32")
    model.fit(pixels, y, epochs=10, batch_size=32, verbose=0)
    model.export(os.path.join(out, "model"), verbose=False)
    np.save(os.path.join(out, "x.npy"), pixels[:32])


def frozen_while(out, model, x):
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    def loop(images):
        _, total = tf.while_loop(lambda i, a: i < 2, lambda i, a: (i + 1, a + model(images, training=False)),
                                 [tf.constant(0), tf.zeros([tf.shape(images)[0], 2])])
        return total

    function = tf.function(loop).get_concrete_function(tf.TensorSpec([None, 8, 8, 3], tf.float32, name="x"))
    frozen = convert_variables_to_constants_v2(function)
    tf.io.write_graph(frozen.graph.as_graph_def(), out, "model.pb", as_text=False)
    np.save(os.path.join(out, "x.npy"), x[:16])


VOCABULARY = ["the", "cat", "sat", "on", "mat", "dog", "ran", "far"]
MAX_TOKENS = 6


def text_pipeline(out):
    rng = np.random.default_rng(4)
    words = VOCABULARY + ["zebra"]
    sentences = np.array([" ".join(rng.choice(words, size=rng.integers(2, MAX_TOKENS + 1))) for _ in range(64)])

    class Text(tf.Module):
        def __init__(self):
            super().__init__()
            keys = tf.constant(VOCABULARY)
            self.table = tf.lookup.StaticHashTable(
                tf.lookup.KeyValueTensorInitializer(keys, tf.range(len(VOCABULARY), dtype=tf.int64)),
                default_value=len(VOCABULARY))
            self.embedding = tf.Variable(rng.normal(size=(len(VOCABULARY) + 1, 4)).astype("float32"))
            self.low = tf.Variable(-3.0)
            self.high = tf.Variable(3.0)
            self.bn = L.BatchNormalization(name="bn")
            self.bn.build((None, MAX_TOKENS, 4))

        def features(self, text):
            tokens = tf.strings.split(text)
            ids = self.table.lookup(tokens)
            padded = ids.to_tensor(default_value=len(VOCABULARY), shape=[None, MAX_TOKENS])
            ones = ids.to_sparse()
            ones = tf.sparse.SparseTensor(ones.indices, tf.ones_like(ones.values, tf.float32), ones.dense_shape)
            counts = tf.reduce_sum(tf.sparse.to_dense(ones), axis=1)
            h = tf.gather(self.embedding, padded) + 0.1 * counts[:, None, None]
            h = tf.quantization.fake_quant_with_min_max_vars(h, self.low, self.high)
            return tf.quantization.fake_quant_with_min_max_args(h, -4.0, 4.0)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
        def serve(self, text):
            return {"features": tf.reduce_mean(self.bn(self.features(text), training=False), axis=1)}

    module = Text()
    h = module.features(tf.constant(sentences)).numpy()
    gamma, beta, _, _ = module.bn.get_weights()
    module.bn.set_weights([gamma, beta, h.mean(axis=(0, 1)), h.var(axis=(0, 1))])
    tf.saved_model.save(module, os.path.join(out, "model"), signatures={"serving_default": module.serve})
    np.save(os.path.join(out, "x.npy"), sentences)


def ragged_ids(out):
    rng = np.random.default_rng(5)

    class Ragged(tf.Module):
        def __init__(self):
            super().__init__()
            self.embedding = tf.Variable(rng.normal(size=(8, 4)).astype("float32"))
            self.bn = L.BatchNormalization(name="bn")
            self.bn.build((None, 4))

        @tf.function(input_signature=[tf.RaggedTensorSpec([None, None], tf.int64)])
        def serve(self, ids):
            h = tf.reduce_mean(tf.gather(self.embedding, ids), axis=1)
            return {"features": self.bn(h, training=False)}

    module = Ragged()
    tf.saved_model.save(module, os.path.join(out, "model"), signatures={"serving_default": module.serve})
    lengths = rng.integers(1, 6, size=16)
    np.savez(os.path.join(out, "x.npz"), ids=rng.integers(0, 8, size=int(lengths.sum())).astype("int64"),
             ids_1=np.concatenate([[0], np.cumsum(lengths)]).astype("int64"))


def main():
    chosen = set(sys.argv[1:])
    x = images(512)
    model, bn = trained_cnn(x)
    for name, make in [("unbatched-outputs", lambda d: unbatched_outputs(d, model, x)),
                       ("nan-variance", lambda d: nan_variance(d, model, bn, x)),
                       ("uint8-input", uint8_input),
                       ("frozen-while", lambda d: frozen_while(d, model, x)),
                       ("text-pipeline", text_pipeline),
                       ("ragged-ids", ragged_ids)]:
        if chosen and name not in chosen:
            continue
        out = os.path.join(OUT, name)
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        make(out)
        if os.path.isdir(os.path.join(out, "model")):
            drop_fingerprint(os.path.join(out, "model"))
    print("wrote", os.path.relpath(OUT))


if __name__ == "__main__":
    main()
