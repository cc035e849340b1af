"""Write HDF5 files in the layout tf.keras 2 gave `model.save("model.h5")`, for bncheck's tests.

Run from the repository root with a Python that has h5py and NumPy (no Keras needed):

    python scripts/make_keras2_layout_files.py

Keras 3 still writes legacy .h5 files, but in its own dialect (weight names without ":0", BN
axis an integer, Keras 3 class names). No tf-keras 2 was at hand to write a real one, so this
script writes the Keras 2 layout itself, following tf.keras 2.x's hdf5_format.save_model_to_hdf5:
the JSON config in the root's model_config attribute, and per top-level layer a group
model_weights/<layer> whose weight_names attribute lists its variables' names as TensorFlow 2
named them ("<layer>/gamma:0"), each stored at that path inside the group. Values are drawn from
a fixed seed; expected-keras2.json records them, with each BN layer's config, for the tests.

- keras2-nested.h5: a Sequential model (tf.keras 2.4+ config) holding a Functional base model
  (Conv2D, BatchNormalization "batch_normalization" frozen with axis [3]), then Conv2D and
  BatchNormalization "batch_normalization_1" (center=False), pooling and Dense.
- keras2-old-sequential.h5: a Sequential model in the Keras 2.0-2.2 config, whose "config" is
  the list of layers itself, with one BatchNormalization "batchnorm" (axis -1, momentum 0.9).
"""

import json
import os

import h5py
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "keras-files")
RNG = np.random.default_rng(2024)


def bn_config(name, axis, momentum=0.99, epsilon=0.001, center=True, scale=True, trainable=True):
    return {"name": name, "trainable": trainable, "dtype": "float32", "axis": axis, "momentum": momentum,
            "epsilon": epsilon, "center": center, "scale": scale,
            "beta_initializer": {"class_name": "Zeros", "config": {}},
            "gamma_initializer": {"class_name": "Ones", "config": {}},
            "moving_mean_initializer": {"class_name": "Zeros", "config": {}},
            "moving_variance_initializer": {"class_name": "Ones", "config": {}},
            "beta_regularizer": None, "gamma_regularizer": None, "beta_constraint": None, "gamma_constraint": None}


def conv_config(name, filters, trainable=True):
    return {"name": name, "trainable": trainable, "dtype": "float32", "filters": filters, "kernel_size": [3, 3],
            "strides": [1, 1], "padding": "same", "data_format": "channels_last", "activation": "linear",
            "use_bias": True}


def bn_weights(name, channels, center=True, scale=True):
    weights = []
    if scale:
        weights.append((name + "/gamma:0", RNG.uniform(0.5, 1.5, channels)))
    if center:
        weights.append((name + "/beta:0", RNG.normal(0, 0.3, channels)))
    weights.append((name + "/moving_mean:0", RNG.normal(0, 2, channels)))
    weights.append((name + "/moving_variance:0", RNG.uniform(0.2, 4, channels)))
    return [(n, v.astype("float32")) for n, v in weights]


def conv_weights(name, cin, cout):
    return [(name + "/kernel:0", RNG.normal(0, 0.1, (3, 3, cin, cout)).astype("float32")),
            (name + "/bias:0", np.zeros(cout, "float32"))]


def write(path, config, layers):
    """layers: (top-level layer name, [(weight name, value)]) in model order."""
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = b"2.13.1"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(config).encode("utf8")
        group = f.create_group("model_weights")
        group.attrs["layer_names"] = np.array([n.encode("utf8") for n, _ in layers])
        group.attrs["backend"] = b"tensorflow"
        group.attrs["keras_version"] = b"2.13.1"
        for name, weights in layers:
            g = group.create_group(name)
            g.attrs["weight_names"] = np.array([w.encode("utf8") for w, _ in weights])
            for w, value in weights:
                g.create_dataset(w, data=value)


def expected_layer(config, weights, models=()):
    values = {w.split("/")[-1].split(":")[0]: v.astype("float64").tolist() for w, v in weights}
    axis = config["axis"][0] if isinstance(config["axis"], list) else config["axis"]
    return "/".join(list(models) + [config["name"]]), {
        "axis": axis, "epsilon": config["epsilon"], "momentum": config["momentum"], "center": config["center"],
        "scale": config["scale"], "trainable": config["trainable"], "moving_mean": values["moving_mean"],
        "moving_variance": values["moving_variance"], "gamma": values.get("gamma"), "beta": values.get("beta")}


def nested():
    base_bn = bn_config("batch_normalization", [3], trainable=False)
    head_bn = bn_config("batch_normalization_1", [3], momentum=0.9, center=False)
    base = {"class_name": "Functional", "config": {
        "name": "base", "trainable": False,
        "layers": [
            {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 8, 8, 3], "dtype": "float32",
                                                    "sparse": False, "ragged": False, "name": "input_1"},
             "name": "input_1", "inbound_nodes": []},
            {"class_name": "Conv2D", "config": conv_config("conv2d", 8, trainable=False), "name": "conv2d",
             "inbound_nodes": [[["input_1", 0, 0, {}]]]},
            {"class_name": "BatchNormalization", "config": base_bn, "name": "batch_normalization",
             "inbound_nodes": [[["conv2d", 0, 0, {}]]]},
            {"class_name": "ReLU", "config": {"name": "re_lu", "trainable": False, "dtype": "float32"},
             "name": "re_lu", "inbound_nodes": [[["batch_normalization", 0, 0, {}]]]}],
        "input_layers": [["input_1", 0, 0]], "output_layers": [["re_lu", 0, 0]]}}
    config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 8, 8, 3], "dtype": "float32",
                                                "sparse": False, "ragged": False, "name": "input_2"}},
        base,
        {"class_name": "Conv2D", "config": conv_config("conv2d_1", 16)},
        {"class_name": "BatchNormalization", "config": head_bn},
        {"class_name": "GlobalAveragePooling2D", "config": {"name": "global_average_pooling2d",
                                                             "trainable": True, "dtype": "float32"}},
        {"class_name": "Dense", "config": {"name": "dense", "trainable": True, "dtype": "float32", "units": 3}}]}}
    base_bn_weights = bn_weights("batch_normalization", 8)
    head_bn_weights = bn_weights("batch_normalization_1", 16, center=True, scale=True)
    head_bn_weights = [(n, v) for n, v in head_bn_weights if "/beta:" not in n]  # center=False
    layers = [
        ("base", conv_weights("conv2d", 3, 8) + base_bn_weights),
        ("conv2d_1", conv_weights("conv2d_1", 8, 16)),
        ("batch_normalization_1", head_bn_weights),
        ("global_average_pooling2d", []),
        ("dense", [("dense/kernel:0", RNG.normal(0, 0.1, (16, 3)).astype("float32")),
                   ("dense/bias:0", np.zeros(3, "float32"))])]
    write(os.path.join(OUT, "keras2-nested.h5"), config, layers)
    return {"model": "sequential", "layers": dict([
        expected_layer(base_bn, base_bn_weights, ["base"]), expected_layer(head_bn, head_bn_weights)])}


def old_sequential():
    bn = bn_config("batchnorm", -1, momentum=0.9)
    config = {"class_name": "Sequential", "config": [
        {"class_name": "Conv2D", "config": dict(conv_config("conv", 4), batch_input_shape=[None, 8, 8, 3])},
        {"class_name": "BatchNormalization", "config": bn},
        {"class_name": "Flatten", "config": {"name": "flatten", "trainable": True}}]}
    bn_w = bn_weights("batchnorm", 4)
    write(os.path.join(OUT, "keras2-old-sequential.h5"), config,
          [("conv", conv_weights("conv", 3, 4)), ("batchnorm", bn_w), ("flatten", [])])
    return {"model": None, "layers": dict([expected_layer(bn, bn_w)])}


def main():
    expected = {"keras2-nested.h5": nested(), "keras2-old-sequential.h5": old_sequential()}
    with open(os.path.join(OUT, "expected-keras2.json"), "w", encoding="utf-8") as out:
        json.dump(expected, out, indent=1)
        out.write("\n")


if __name__ == "__main__":
    main()
