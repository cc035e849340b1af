"""Make the verdict finds' test dumps: models broken the way an outside tester broke them, where
bncheck's verdict or its named cause was wrong. From the repository root, in a virtual environment
with torch, keras (TensorFlow backend) and numpy:

    python scripts/make_verdict_finds.py

Writes to src/test/resources/verdict-finds/ (each dump in batches of 32, by scripts/bn_dump_pytorch.py
or scripts/bn_dump_keras.py, with the training view on its first 256 samples):
  mixed-bn1-var100-1024.bn.json
      the heavy-tailed tests' PyTorch MLP (width 16, seed 0) trained on the `mixed` columns of
      scripts/measure_heavy_tails.py, its bn1 running variance multiplied by 100; 1,024 fresh samples.
      The tails are too heavy to judge the moving variances, and the layer had passed as "too
      uncertain" (information): it must be a warning at least.
  gauss-bn2-var10-256.bn.json
      the same MLP trained on normal features of scales 0.1 to 10 (seed 0), only bn2's running
      variance multiplied by 10 (bn1 clean, the data as in training); 256 fresh samples. BN003 on
      bn2 must name the layer's own statistics, not the data.
  keras-mixed-shift1-N.bn.json, keras-mixed-256.bn.json
      a Keras 3 MLP (Dense 64, BatchNormalization, ReLU, Dense 64, BatchNormalization, ReLU, Dense 3;
      momentum 0.99, Adam, 8 epochs of 6,000 samples in batches of 64, 750 updates) on mixed skewed
      columns (Student-t, log-normal, counts, binary, normal) with 0.5% of rows 10 times larger, dumped on N = 32, 64 and 256 fresh samples shifted
      by 1, and on 256 unshifted. The shift
      had been named an early stop of "about 21 updates" (the heavy-tailed variances alone fitted
      one, the healthy model's too); the unshifted dump must pass.
  keras-masked-256.bn.json, keras-masked-bn2-var10-256.bn.json
      a Keras 3 model of zero-padded sequences (Masking(0.0), Dense 16, BatchNormalization, ReLU,
      Dense 16, BatchNormalization, ReLU, GlobalAveragePooling1D, Dense 4; 6,000 sequences of 4 to
      16 steps, 8 epochs in batches of 32), dumped on 256 fresh sequences: as trained, and with the
      second layer's moving variance multiplied by 10. Keras leaves the padded steps out of the
      moving statistics; a dump of every step had failed the healthy model at every size.

  units-256.bn.json, units-eps1e-3-256.bn.json, units-3bn-256.bn.json, units-3bn-eps1e-3-256.bn.json
      a PyTorch MLP whose first layer BatchNorm1d(16) normalizes columns in mixed units (the even ones of
      std 0.003, moving variance about 9e-6), trained with eps 1e-5 (6 epochs of 20,000 rows in batches
      of 64, Adam), and the same weights served by modules built with eps 1e-3 (a state_dict does not
      hold eps), dumped on 256 fresh rows; "3bn" has BatchNorm1d(64) after each hidden Linear too. The
      served model had passed (96% accuracy down to 66%) with BN006 calling the small columns dead on
      the healthy model too; with every epsilon raised, the third layer's own statistics were blamed.

--keras-only leaves the PyTorch dumps as they are; --masked-only and --epsilon-only make only those.
"""

import os
import sys

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "src", "test", "resources", "verdict-finds")
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.dont_write_bytecode = True


def batches(x, size=32):
    return [x[i:i + size] for i in range(0, len(x), size)]


def pytorch_finds():
    import torch
    from bn_dump_pytorch import dump_bn
    from measure_heavy_tails import data, train

    model, _ = train("mixed", 16, 0)
    with torch.no_grad():
        model.bn1.running_var.mul_(100)
    x, _ = data("mixed", np.random.default_rng(7000), 1024)
    dump_bn(model, batches(x), os.path.join(OUT, "mixed-bn1-var100-1024.bn.json"), model_name="mlp")

    scales = np.logspace(-1, 1, 16).astype("float32")

    def gauss(family, rng, n):
        x = (rng.standard_normal((n, 16)) * scales).astype("float32")
        y = (x[:, 0] / scales[0] + 0.5 * x[:, 15] / scales[15] > 0).astype("int64")
        return torch.from_numpy(x), torch.from_numpy(y)

    model, _ = train("gauss", 16, 0, draw=gauss)
    with torch.no_grad():
        model.bn2.running_var.mul_(10)
    x, _ = gauss("gauss", np.random.default_rng(7001), 256)
    dump_bn(model, batches(x), os.path.join(OUT, "gauss-bn2-var10-256.bn.json"), model_name="mlp")


def keras_finds():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    import tensorflow as tf
    from bn_dump_keras import dump_bn

    def mixed(rng, n):
        x = np.zeros((n, 12), np.float32)
        x[:, 0:3] = rng.standard_t(3, (n, 3))
        x[:, 3:6] = rng.lognormal(0.0, 1.0, (n, 3))
        x[:, 6:8] = rng.poisson(3.0, (n, 2))
        x[:, 8:10] = rng.random((n, 2)) < 0.3
        x[:, 10:12] = rng.normal(5.0, 2.0, (n, 2))
        x[rng.random(n) < 0.005] *= 10
        score = (np.tanh(x[:, 0]) + 0.5 * np.log1p(x[:, 3]) - 0.3 * x[:, 6] + x[:, 8] + 0.4 * (x[:, 10] - 5)
                 - 0.5 * np.sin(x[:, 1]) + 0.3 * x[:, 4].clip(0, 5))
        return x, np.digitize(score, np.quantile(score, [1 / 3, 2 / 3]))

    # one thread: the same weights on every machine kind this runs on
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    keras.utils.set_random_seed(1)
    x, y = mixed(np.random.default_rng(1001), 6000)
    model = keras.Sequential([
        keras.Input((12,)),
        keras.layers.Dense(64), keras.layers.BatchNormalization(), keras.layers.ReLU(),
        keras.layers.Dense(64), keras.layers.BatchNormalization(), keras.layers.ReLU(),
        keras.layers.Dense(3)])
    model.compile(keras.optimizers.Adam(3e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, batch_size=64, epochs=8, verbose=0)
    x, _ = mixed(np.random.default_rng(7000), 1024)
    for n in (32, 64, 256):
        dump_bn(model, batches(x[:n] + 1), os.path.join(OUT, f"keras-mixed-shift1-{n}.bn.json"), model_name="mlp")
    dump_bn(model, batches(x[:256]), os.path.join(OUT, "keras-mixed-256.bn.json"), model_name="mlp")


def keras_masked_finds():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    import tensorflow as tf
    from bn_dump_keras import dump_bn
    from fixture_files import padded_sequences

    steps = 16

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    keras.utils.set_random_seed(0)
    x, y = padded_sequences(np.random.default_rng(0), 6000)
    model = keras.Sequential([
        keras.Input((steps, 4)), keras.layers.Masking(0.0),
        keras.layers.Dense(16), keras.layers.BatchNormalization(), keras.layers.ReLU(),
        keras.layers.Dense(16), keras.layers.BatchNormalization(), keras.layers.ReLU(),
        keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(4)])
    model.compile(keras.optimizers.Adam(3e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, batch_size=32, epochs=8, verbose=0)
    x, _ = padded_sequences(np.random.default_rng(7002), 256)
    dump_bn(model, batches(x), os.path.join(OUT, "keras-masked-256.bn.json"), model_name="masked")
    second = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)][1]
    second.moving_variance.assign(second.moving_variance * 10)
    dump_bn(model, batches(x), os.path.join(OUT, "keras-masked-bn2-var10-256.bn.json"), model_name="masked")


def epsilon_finds():
    import torch
    from torch import nn
    from bn_dump_pytorch import dump_bn

    torch.set_num_threads(1)

    def units(rng, n):
        """16 columns, the even ones in small units (std 0.003 around 0.05), the odd ones of std 1."""
        z = rng.normal(size=(n, 16))
        small = np.arange(16) % 2 == 0
        x = (0.05 * small + z * np.where(small, 0.003, 1.0)).astype("float32")
        w = np.random.default_rng(1234).normal(size=(16, 4))
        return x, np.argmax(z @ w + 0.3 * np.sin(z[:, :4] @ w[:4] * 2), axis=1)

    def net(eps, hidden_bn):
        norm = (lambda: nn.BatchNorm1d(64, eps=eps)) if hidden_bn else nn.Identity
        return nn.Sequential(nn.BatchNorm1d(16, eps=eps), nn.Linear(16, 64), norm(), nn.ReLU(),
                             nn.Linear(64, 64), norm(), nn.ReLU(), nn.Linear(64, 4))

    for hidden_bn, name in ((False, "units"), (True, "units-3bn")):
        torch.manual_seed(0)
        x, y = units(np.random.default_rng(0), 20000)
        model = net(1e-5, hidden_bn)
        optimizer = torch.optim.Adam(model.parameters(), 1e-3)
        x_train, y_train = torch.tensor(x), torch.tensor(y)
        for _ in range(6):
            model.train()
            order = torch.randperm(len(x))
            for i in range(0, len(x), 64):
                rows = order[i:i + 64]
                loss = nn.functional.cross_entropy(model(x_train[rows]), y_train[rows])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        serving = net(1e-3, hidden_bn)
        serving.load_state_dict(model.state_dict())
        x, _ = units(np.random.default_rng(7003), 256)
        calibration = [torch.tensor(b) for b in batches(x)]
        dump_bn(model, calibration, os.path.join(OUT, f"{name}-256.bn.json"), model_name="mlp")
        dump_bn(serving, calibration, os.path.join(OUT, f"{name}-eps1e-3-256.bn.json"), model_name="mlp")


if __name__ == "__main__":
    if "--epsilon-only" in sys.argv:
        os.makedirs(OUT, exist_ok=True)
        epsilon_finds()
        sys.exit(0)
    os.makedirs(OUT, exist_ok=True)
    if "--masked-only" in sys.argv:
        keras_masked_finds()
        sys.exit(0)
    if "--keras-only" not in sys.argv:
        pytorch_finds()
    keras_finds()
    keras_masked_finds()
    epsilon_finds()
