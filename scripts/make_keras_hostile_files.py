"""Write hostile HDF5 variants of a Keras test file, for bncheck's tests of bad input.

Run from the repository root with a Python that has h5py (no Keras needed):

    python scripts/make_keras_hostile_files.py

Each file is src/test/resources/keras-files/healthy.h5 with one object of BN layer bn1 replaced;
they are small, because HDF5 allocates a dataset's storage only when data is written:

- huge-contiguous.h5: bn1's moving_mean declares 2^40 float32 values, contiguous, never written.
- huge-chunked.h5: the same shape, stored in chunks of 1024 values, none written.
- matrix.h5: bn1's moving_variance is an 8x8 matrix instead of a vector.
- external-link.h5: bn1's gamma is an external link to a dataset in another file.
- integers.h5: bn1's beta holds int32 values.
- unwritten.h5: bn1's moving_mean is created with its shape and never written (no storage).
- axis-out-of-range.h5: bn1's config says axis 9, no axis of any tensor a BN layer takes.

- not-keras.h5: an HDF5 file of plain data (one dataset), no Keras model at all.

bncheck must refuse each with exit code 3 and one line naming the dataset, before it allocates.

And variants bncheck must read: unnamed-vars-healthy.keras and unnamed-vars-frozen.keras,
healthy.keras and frozen.keras with the "name" attribute Keras 3 puts on each layer's vars group
removed, so that layers can be found only by the class-based group names Keras gives them
(batch_normalization, batch_normalization_1, functional/layers/batch_normalization, ...).

And five-vars.weights.h5: healthy.weights.h5 (make_keras_weights_only.py) with a fifth variable
in bn1's vars group; no BatchNormalization layer has five, and a weights-only file has no config
to say what they are: bncheck refuses it (exit code 3).

And two link cycles, where a walk of the groups would never end: weights-cycle.weights.h5 is
healthy.weights.h5 with a hard link layers/loop back to layers, subclassed-cycle.keras is
subclassed.keras (make_keras_subclassed.py) whose weights link block/loop back to block. bncheck
refuses each (exit code 3) in well under a second.

And swapped-vars-names.keras: healthy.keras with the "name" attributes of its two BN layers'
vars groups swapped. Keras loads by group path and ignores them; bncheck must not read each
layer's statistics from the other's group: it refuses the disagreement (exit code 3).
"""

import io
import json
import os
import shutil
import zipfile

import h5py
import numpy as np

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "keras-files")
OUT = os.path.join(HERE, "hostile")
GROUP = "model_weights/bn1/bn1/"


def variant(name, weight, make):
    path = os.path.join(OUT, name)
    shutil.copyfile(os.path.join(HERE, "healthy.h5"), path)
    with h5py.File(path, "r+") as f:
        del f[GROUP + weight]
        make(f, GROUP + weight)


def swapped_vars_names(model):
    with zipfile.ZipFile(os.path.join(HERE, model + ".keras")) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    weights = io.BytesIO(members["model.weights.h5"])
    with h5py.File(weights, "r+") as f:
        first = f["layers/batch_normalization/vars"]
        second = f["layers/batch_normalization_1/vars"]
        first_name, second_name = first.attrs["name"], second.attrs["name"]
        first.attrs["name"], second.attrs["name"] = second_name, first_name
    members["model.weights.h5"] = weights.getvalue()
    with zipfile.ZipFile(os.path.join(OUT, "swapped-vars-names.keras"), "w") as out:
        for name, data in members.items():
            out.writestr(name, data)


def unnamed_vars(model):
    with zipfile.ZipFile(os.path.join(HERE, model + ".keras")) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    weights = io.BytesIO(members["model.weights.h5"])
    with h5py.File(weights, "r+") as f:
        groups = []
        f.visit(lambda name: groups.append(name) if isinstance(f[name], h5py.Group) else None)
        for name in groups:
            if "name" in f[name].attrs:
                del f[name].attrs["name"]
    members["model.weights.h5"] = weights.getvalue()
    with zipfile.ZipFile(os.path.join(OUT, "unnamed-vars-" + model + ".keras"), "w") as out:
        for name, data in members.items():
            out.writestr(name, data)


def axis_out_of_range():
    path = os.path.join(OUT, "axis-out-of-range.h5")
    shutil.copyfile(os.path.join(HERE, "healthy.h5"), path)
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        for layer in config["config"]["layers"]:
            if layer["config"].get("name") == "bn1":
                layer["config"]["axis"] = 9
        f.attrs["model_config"] = json.dumps(config)


def five_vars():
    path = os.path.join(OUT, "five-vars.weights.h5")
    shutil.copyfile(os.path.join(HERE, "healthy.weights.h5"), path)
    with h5py.File(path, "r+") as f:
        f.create_dataset("layers/batch_normalization/vars/4", data=np.ones(8, "f4"))


def cycles():
    path = os.path.join(OUT, "weights-cycle.weights.h5")
    shutil.copyfile(os.path.join(HERE, "healthy.weights.h5"), path)
    with h5py.File(path, "r+") as f:
        f["layers/loop"] = f["layers"]
    with zipfile.ZipFile(os.path.join(HERE, "subclassed.keras")) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    weights = io.BytesIO(members["model.weights.h5"])
    with h5py.File(weights, "r+") as f:
        f["block/loop"] = f["block"]
    members["model.weights.h5"] = weights.getvalue()
    with zipfile.ZipFile(os.path.join(OUT, "subclassed-cycle.keras"), "w", zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def main():
    os.makedirs(OUT, exist_ok=True)
    variant("huge-contiguous.h5", "moving_mean", lambda f, p: f.create_dataset(p, shape=(2 ** 40,), dtype="f4"))
    variant("huge-chunked.h5", "moving_mean",
            lambda f, p: f.create_dataset(p, shape=(2 ** 40,), dtype="f4", chunks=(1024,)))
    variant("matrix.h5", "moving_variance", lambda f, p: f.create_dataset(p, data=np.ones((8, 8), "f4")))
    variant("external-link.h5", "gamma", lambda f, p: f.__setitem__(p, h5py.ExternalLink("elsewhere.h5", "/gamma")))
    variant("integers.h5", "beta", lambda f, p: f.create_dataset(p, data=np.zeros(8, "i4")))
    variant("unwritten.h5", "moving_mean", lambda f, p: f.create_dataset(p, shape=(8,), dtype="f4"))
    with h5py.File(os.path.join(OUT, "not-keras.h5"), "w") as f:
        f.create_dataset("measurements", data=np.arange(16, dtype="f4"))
    unnamed_vars("healthy")
    unnamed_vars("frozen")
    swapped_vars_names("healthy")
    five_vars()
    cycles()
    axis_out_of_range()


if __name__ == "__main__":
    main()
