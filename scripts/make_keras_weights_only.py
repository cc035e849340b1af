"""Write weights-only Keras files (model.save_weights) of the committed Keras test models, which
bncheck reads without a config (Keras's defaults assumed).

Run from the repository root with a Python that has Keras 3 (TensorFlow backend) and h5py:

    python scripts/make_keras_weights_only.py

It reads src/test/resources/keras-files/{healthy,untrained,frozen}.keras (written by
make_keras_checkpoints.py, whose expected.json holds their values) and writes beside them:
- NAME.weights.h5: Keras 3's save_weights layout (layers/<class group>/vars/0..n);
- NAME-keras2.weights.h5: the save_weights layout of Keras 2 (a layer_names attribute, each
  layer's variables listed in weight_names), written by Keras 3's own legacy HDF5 writer.
The models' values are those of the .keras files, so expected.json serves for both.
"""

import os

import h5py

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras  # noqa: E402
from keras.src.legacy.saving import legacy_h5_format  # noqa: E402

DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "keras-files")


def main():
    for name in ["healthy", "untrained", "frozen"]:
        model = keras.models.load_model(os.path.join(DIR, name + ".keras"))
        model.save_weights(os.path.join(DIR, name + ".weights.h5"))
        with h5py.File(os.path.join(DIR, name + "-keras2.weights.h5"), "w") as f:
            legacy_h5_format.save_weights_to_hdf5_group(f, model)
        print("wrote", name)


if __name__ == "__main__":
    main()
