"""End-to-end test of the BN exporters against the bncheck CLI.

For each framework (torch, tensorflow/Keras) that can be imported, these cases run:

  trained    a small conv net with BN, trained on a deterministic synthetic data set until
             its running statistics have converged, dumped with calibration batches from
             the same distribution: `bncheck check` must exit 0 with no BN001 finding.
  untrained  the same architecture freshly initialised (running mean 0, variance 1):
             `bncheck check` must exit 1 with a BN001 finding on every BN layer.

and for both:

  training-view a Dense/Linear -> BN -> Dropout -> Dense/Linear -> BN model: the dumped
                training_inputs of the second BN layer must be computed by hand from the first
                layer normalizing each batch with its own statistics (dropout off), the first
                layer's must equal its inputs, the model's weights and moving statistics
                must be as before the dump, a model handed over in train() must give the
                same training view, and a Keras model of named inputs (a dict per batch) one.

and for Keras alone:

  shared-base   a functional base model first called by another model, then used in a
                Sequential model after a Rescaling layer: the dumped inputs of its BN layer
                must be those of the Sequential model's own call (it crashed, "not connected to
                inputs", taking the base's first call node).

and for torch alone:

  frozen-bn     the model in train() with its BN layers in eval(), as when fine-tuning with
                frozen BN: after dumping, every module must be back in its own mode.
  docs-snippet  the snippet of docs/dump-format.md that writes a dump without the exporter,
                on BN layers with momentum=None, affine=False and track_running_stats=False:
                its dump must list the last in batch_statistics_layers, and `bncheck check`
                must exit 1 with BN002 on it alone.
  batch-statistics
                a BatchNorm1d(8) and a BatchNorm1d(8, track_running_stats=False), and the
                latter alone: each dump must list the layer without running statistics in
                batch_statistics_layers, and `bncheck check` must exit 1 with a BN002 error
                on it (the exporter used to drop it, and the dump passed).

Each dump is decoded and checked for well-formedness before the CLI sees it. A framework
that cannot be imported is reported as "SKIP: ..." and its cases count as skipped.
Normally run through scripts/test_exporters.sh, which sets up the frameworks.
The last line printed is "N passed, N failed, N skipped"; the exit code is 1 if any
case failed.
"""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

try:
    import numpy as np
except ImportError as numpy_error:  # comes with both frameworks; without it neither runs
    np = None
    missing_numpy = numpy_error

SCRIPTS = Path(__file__).resolve().parent
# The CLI under test; BNCHECK_CLI overrides it, e.g. to try a stub or another build.
BNCHECK = Path(os.environ.get("BNCHECK_CLI", SCRIPTS.parent / "bin" / "bncheck"))
sys.path.insert(0, str(SCRIPTS))
sys.dont_write_bytecode = True  # importing the exporters must not leave __pycache__ in scripts/

# Quiet TensorFlow's C++ start-up logging; the Keras backend is TensorFlow.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

CLASSES = 4
IMAGE = (3, 16, 16)          # channels, height, width
BATCH = 32
CALIBRATION_BATCHES = 4
BN_LAYERS = 2                # BN layers in the test architecture


class CaseFailure(Exception):
    pass


def make_data(seed, n):
    """Deterministic images in NCHW: a fixed template per class, scaled, offset, noisy.

    The templates come from a fixed seed, so training and calibration data (different
    seeds) share one distribution; the offset and scale keep the activation statistics
    far from the untrained defaults of mean 0 and variance 1.
    """
    templates = np.random.default_rng(1234).normal(size=(CLASSES,) + IMAGE)
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, CLASSES, size=n)
    noise = rng.normal(scale=0.5, size=(n,) + IMAGE)
    images = 2.0 * templates[labels] + noise + 0.7
    return images.astype(np.float32), labels.astype(np.int64)


def calibration_nchw():
    images, _ = make_data(seed=99, n=CALIBRATION_BATCHES * BATCH)
    return [images[i * BATCH:(i + 1) * BATCH] for i in range(CALIBRATION_BATCHES)]


def decode(tensor):
    if tensor.get("dtype") != "float32" or "base64" not in tensor:
        raise CaseFailure(f"tensor is not base64 float32: {sorted(tensor)}")
    values = np.frombuffer(base64.b64decode(tensor["base64"]), dtype="<f4")
    if values.size != int(np.prod(tensor["shape"])):
        raise CaseFailure(f"tensor of shape {tensor['shape']} holds {values.size} values")
    return values.reshape(tensor["shape"])


def verify_dump(path, input_shape, channel_axis, fresh):
    """Decode the dump and check its structure; return the layer names."""
    with open(path, encoding="utf-8") as f:
        dump = json.load(f)
    if dump.get("format") != "bncheck-dump" or dump.get("version") != 1:
        raise CaseFailure(f"bad header: format={dump.get('format')} version={dump.get('version')}")
    layers = dump["layers"]
    if len(layers) != BN_LAYERS:
        raise CaseFailure(f"expected {BN_LAYERS} layers, got {[l['name'] for l in layers]}")
    for index, layer in enumerate(layers):
        name = layer["name"]
        if layer["channel_axis"] != channel_axis:
            raise CaseFailure(f"{name}: channel_axis {layer['channel_axis']} != {channel_axis}")
        mean = decode(layer["moving_mean"])
        variance = decode(layer["moving_variance"])
        channels = mean.shape[0]
        for key in ("gamma", "beta", "moving_mean", "moving_variance"):
            if decode(layer[key]).shape != (channels,):
                raise CaseFailure(f"{name}: {key} shape {layer[key]['shape']} != [{channels}]")
        inputs = [decode(t) for t in layer["inputs"]]
        if len(inputs) != CALIBRATION_BATCHES:
            raise CaseFailure(f"{name}: {len(inputs)} input batches, expected {CALIBRATION_BATCHES}")
        for activation in inputs:
            if activation.shape[0] != BATCH or activation.shape[channel_axis] != channels:
                raise CaseFailure(f"{name}: input shape {list(activation.shape)} does not "
                                  f"fit batch {BATCH} and {channels} channels")
        if index == 0 and list(inputs[0].shape[1:]) != list(input_shape):
            raise CaseFailure(f"{name}: input shape {list(inputs[0].shape)}, expected "
                              f"[{BATCH}] + {list(input_shape)}")
        is_fresh = bool(np.all(mean == 0) and np.all(variance == 1))
        if is_fresh != fresh:
            raise CaseFailure(f"{name}: moving statistics {'are not' if fresh else 'are'} "
                              f"the fresh 0/1 ones (mean {mean}, variance {variance})")
        print(f"    {name}: {describe_statistics(mean, variance, inputs, channel_axis)}")
    return [layer["name"] for layer in layers]


def describe_statistics(mean, variance, inputs, channel_axis):
    """How far the moving statistics are from the statistics of the calibration inputs.

    Printed for every layer so that a verdict of the CLI can be compared with the numbers.
    """
    batch = np.concatenate(inputs, axis=0)
    reduce_axes = tuple(a for a in range(batch.ndim) if a != channel_axis % batch.ndim)
    data_mean = batch.mean(axis=reduce_axes)
    data_std = batch.std(axis=reduce_axes)
    mean_shift = np.max(np.abs(mean - data_mean) / data_std)
    variance_ratio = variance / data_std ** 2
    return (f"max |moving mean - data mean| / data std = {mean_shift:.3f}, "
            f"moving var / data var in [{variance_ratio.min():.3f}, {variance_ratio.max():.3f}]")


def run_bncheck(dump):
    if not BNCHECK.exists():
        raise CaseFailure(f"bncheck CLI not found at {BNCHECK}")
    result = subprocess.run([str(BNCHECK), "check", str(dump), "--format", "json"],
                            capture_output=True, text=True)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        raise CaseFailure(f"bncheck exit {result.returncode}, stdout is not JSON:\n"
                          f"{result.stdout[:2000]}\nstderr:\n{result.stderr[:2000]}")
    findings = report.get("findings", [])
    print(f"    bncheck exit {result.returncode}, {len(findings)} findings")
    for finding in findings:
        print(f"    {finding.get('code')} {finding.get('severity')} on {finding.get('layer')}: "
              f"{finding.get('message')}")
    return result.returncode, findings


def expect_clean(dump, layer_names):
    code, findings = run_bncheck(dump)
    bn001 = [f.get("layer") for f in findings if f.get("code") == "BN001"]
    if code != 0 or bn001:
        raise CaseFailure(f"expected exit 0 and no BN001; got exit {code}, BN001 on {bn001}")


def expect_never_updated(dump, layer_names):
    code, findings = run_bncheck(dump)
    flagged = {f.get("layer") for f in findings if f.get("code") == "BN001"}
    missing = [name for name in layer_names if name not in flagged]
    if code != 1 or missing:
        raise CaseFailure(f"expected exit 1 and BN001 on every layer; got exit {code}, "
                          f"no BN001 on {missing}")


def expect_batch_statistics(dump, names):
    """The dump lists ``names`` as layers without running statistics, and bncheck fails on each with BN002."""
    listed = json.loads(Path(dump).read_text()).get("batch_statistics_layers", [])
    expected = [{"name": name, "reason": "track_running_stats=False"} for name in names]
    if listed != expected:
        raise CaseFailure(f"expected batch_statistics_layers {expected}, got {listed}")
    code, findings = run_bncheck(dump)
    errors = [(f.get("code"), f.get("layer")) for f in findings if f.get("severity") == "error"]
    if code != 1 or errors != [("BN002", name) for name in names]:
        raise CaseFailure(f"expected exit 1 and a BN002 error on each of {names} alone; got exit {code}, errors {errors}")


# --- PyTorch -----------------------------------------------------------------------------

def torch_cases(workdir):
    import torch
    from torch import nn
    from bn_dump_pytorch import dump_bn

    torch.set_num_threads(2)
    print(f"  torch {torch.__version__}")

    def build():
        return nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
            nn.Conv2d(8, 16, 3, padding=1, stride=2), nn.BatchNorm2d(16), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, CLASSES))

    calibration = [torch.from_numpy(x) for x in calibration_nchw()]

    def trained():
        torch.manual_seed(0)
        model = build()
        steps = 200
        images, labels = make_data(seed=0, n=steps * BATCH)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        # The learning rate decays to 0 so that the weights settle and the running
        # statistics end up averaging activations of the final weights.
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / steps)
        model.train()
        for step in range(steps):
            x = torch.from_numpy(images[step * BATCH:(step + 1) * BATCH])
            y = torch.from_numpy(labels[step * BATCH:(step + 1) * BATCH])
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            schedule.step()
        print(f"    trained {steps} steps, final loss {loss.item():.4f}")
        dump = workdir / "torch-trained.json"
        dump_bn(model, calibration, dump, model_name="test-convnet")
        expect_clean(dump, verify_dump(dump, (8,) + IMAGE[1:], 1, fresh=False))

    def untrained():
        torch.manual_seed(1)
        dump = workdir / "torch-untrained.json"
        dump_bn(build(), calibration, dump, model_name="test-convnet-untrained")
        expect_never_updated(dump, verify_dump(dump, (8,) + IMAGE[1:], 1, fresh=True))

    def frozen_bn():
        # Fine-tuning with frozen BN: the model in train(), its BN layers in eval(). The
        # exporter runs everything in eval() and must give each module its own mode back.
        torch.manual_seed(2)
        model = build()
        model.train()
        frozen = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
        for bn in frozen:
            bn.eval()
        modes = {name: m.training for name, m in model.named_modules()}
        dump_bn(model, calibration, workdir / "torch-frozen-bn.json", model_name="test-convnet-frozen")
        changed = [name for name, m in model.named_modules() if m.training != modes[name]]
        if changed:
            raise CaseFailure(f"dump_bn changed the mode of {changed}")
        print(f"    modes kept: model train(), {len(frozen)} BN layers eval()")

    def docs_snippet():
        # The dump-format.md snippet that writes a dump without the exporter, on the BN forms
        # that lack parts: momentum=None, affine=False, track_running_stats=False.
        text = (SCRIPTS.parent / "docs" / "dump-format.md").read_text()
        start = text.index("```python\n", text.index("PyTorch, without the exporter")) + len("```python\n")
        snippet = text[start:text.index("```", start)]
        torch.manual_seed(3)
        model = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8, momentum=None), nn.ReLU(),
            nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8, affine=False), nn.ReLU(),
            nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8, track_running_stats=False))
        model.train()
        with torch.no_grad():
            for x in calibration:
                model(x)
        model.eval()
        cwd = os.getcwd()
        os.chdir(workdir)
        try:
            exec(snippet, {"torch": torch, "model": model})
        finally:
            os.chdir(cwd)
        dump = json.loads((workdir / "model.bn.json").read_text())
        layers = [layer["name"] for layer in dump["layers"]]
        if layers != ["1", "4"]:
            raise CaseFailure(f"expected layers 1 and 4 (7 has no running statistics), got {layers}")
        expect_batch_statistics(workdir / "model.bn.json", ["7"])

    def batch_statistics():
        # track_running_stats=False normalizes with the batch's statistics in eval() as well:
        # the dump must say so, with a layer that has statistics beside it and without one.
        torch.manual_seed(5)
        x = torch.randn(96, 6) * 2 + 1
        batches = [x[i:i + 32] for i in range(0, 96, 32)]
        mixed = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 8),
                              nn.BatchNorm1d(8, track_running_stats=False))
        mixed.train()
        with torch.no_grad():
            for _ in range(30):  # enough updates for the first layer's statistics to settle: no finding of its own
                for batch in batches:
                    mixed(batch)
        dump = workdir / "torch-batch-statistics.json"
        dump_bn(mixed, batches, dump)
        layers = [layer["name"] for layer in json.loads(dump.read_text())["layers"]]
        if layers != ["1"]:
            raise CaseFailure(f"expected layer 1 in layers (4 has no running statistics), got {layers}")
        expect_batch_statistics(dump, ["4"])
        alone = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8, track_running_stats=False))
        dump = workdir / "torch-batch-statistics-alone.json"
        dump_bn(alone, batches, dump)
        if json.loads(dump.read_text())["layers"]:
            raise CaseFailure("a model without running statistics got layers in its dump")
        expect_batch_statistics(dump, ["1"])

    def training_view():
        torch.manual_seed(4)
        model = nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.Dropout(0.5), nn.Linear(5, 3),
                              nn.BatchNorm1d(3))
        model.train()
        with torch.no_grad():
            for _ in range(20):
                model(torch.randn(32, 6) * 2 + 1)
        model.eval()
        before = {k: v.clone() for k, v in model.state_dict().items()}
        x = torch.randn(96, 6) * 2 + 1
        dump = workdir / "torch-training-view.json"
        dump_bn(model, [x[i:i + 32] for i in range(0, 96, 32)], dump, training_view_samples=64)
        changed = [k for k, v in model.state_dict().items() if not torch.equal(v, before[k])]
        if changed:
            raise CaseFailure(f"dump_bn changed {changed}")
        first, bn1, _, second, _ = model

        def second_of(rows):
            with torch.no_grad():
                z = first(x[torch.as_tensor(rows)])
                normalized = (z - z.mean(0)) / torch.sqrt(z.var(0, unbiased=False) + bn1.eps) * bn1.weight + bn1.bias
                return second(normalized).numpy()
        layers = json.loads(dump.read_text())["layers"]
        check_training_view(layers, second_of, batches=2, samples=64)
        # a model handed over in train(): dropout stays off in the training view all the same
        model.train()
        dump_bn(model, [x[i:i + 32] for i in range(0, 96, 32)], dump, training_view_samples=64)
        in_train = json.loads(dump.read_text())["layers"]
        if not np.array_equal(decode(in_train[1]["training_inputs"][0]), decode(layers[1]["training_inputs"][0])):
            raise CaseFailure("the training view of a model handed over in train() ran its dropout")

    return [("trained", trained), ("untrained", untrained), ("frozen-bn", frozen_bn),
            ("docs-snippet", docs_snippet), ("training-view", training_view),
            ("batch-statistics", batch_statistics)]


# --- Keras 3 on TensorFlow ---------------------------------------------------------------

def keras_cases(workdir):
    import keras
    import tensorflow as tf
    from bn_dump_keras import dump_bn

    print(f"  tensorflow {tf.__version__}, keras {keras.__version__}")

    def build():
        layers = keras.layers
        # Keras' default momentum 0.99 needs thousands of updates to forget the initial
        # 0/1 statistics; 0.9 converges within the few hundred steps trained here.
        return keras.Sequential([
            keras.Input(IMAGE[1:] + IMAGE[:1]),
            layers.Conv2D(8, 3, padding="same"), layers.BatchNormalization(momentum=0.9),
            layers.ReLU(),
            layers.Conv2D(16, 3, padding="same", strides=2),
            layers.BatchNormalization(momentum=0.9), layers.ReLU(),
            layers.GlobalAveragePooling2D(), layers.Dense(CLASSES)])

    calibration = [x.transpose(0, 2, 3, 1) for x in calibration_nchw()]  # NCHW -> NHWC

    def trained():
        keras.utils.set_random_seed(0)
        model = build()
        steps = 300
        images, labels = make_data(seed=0, n=steps * BATCH)
        # As for torch, the learning rate decays to 0 so that the weights settle.
        learning_rate = keras.optimizers.schedules.PolynomialDecay(0.05, steps, 0.0)
        model.compile(optimizer=keras.optimizers.SGD(learning_rate, momentum=0.9),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        history = model.fit(images.transpose(0, 2, 3, 1), labels, batch_size=BATCH,
                            epochs=1, shuffle=False, verbose=0)
        print(f"    trained {steps} steps, final loss {history.history['loss'][-1]:.4f}")
        dump = workdir / "keras-trained.json"
        dump_bn(model, calibration, dump, model_name="test-convnet")
        expect_clean(dump, verify_dump(dump, IMAGE[1:] + (8,), -1, fresh=False))

    def untrained():
        keras.utils.set_random_seed(1)
        dump = workdir / "keras-untrained.json"
        dump_bn(build(), calibration, dump, model_name="test-convnet-untrained")
        expect_never_updated(dump, verify_dump(dump, IMAGE[1:] + (8,), -1, fresh=True))

    def shared_base():
        keras.utils.set_random_seed(2)
        layers = keras.layers
        image = keras.Input(IMAGE[1:] + IMAGE[:1])
        features = layers.BatchNormalization(name="base_bn")(layers.Conv2D(4, 3, name="base_conv")(image))
        base = keras.Model(image, features, name="base")
        # the base is first called by another model: its first call node belongs to that graph
        other_input = keras.Input(IMAGE[1:] + IMAGE[:1])
        keras.Model(other_input, base(other_input))
        model = keras.Sequential([keras.Input(IMAGE[1:] + IMAGE[:1]), layers.Rescaling(2.0), base,
                                  layers.GlobalAveragePooling2D(), layers.Dense(CLASSES)])
        dump = workdir / "keras-shared-base.json"
        dump_bn(model, calibration, dump)
        layer = json.loads(dump.read_text())["layers"][0]
        if layer["name"] != "base/base_bn":
            raise CaseFailure(f"expected layer base/base_bn, got {layer['name']}")
        dumped = decode(layer["inputs"][0])
        expected = base.get_layer("base_conv")(2.0 * calibration[0]).numpy()
        if dumped.shape != expected.shape or np.abs(dumped - expected).max() > 1e-5:
            raise CaseFailure("the dumped inputs of base/base_bn are not base_conv(Rescaling(x)) of the Sequential model")

    def training_view():
        keras.utils.set_random_seed(4)
        layers = keras.layers
        model = keras.Sequential([keras.Input((6,)), layers.Dense(5), layers.BatchNormalization(name="bn1"),
                                  layers.Dropout(0.5), layers.Dense(3), layers.BatchNormalization(name="bn2")])
        rng = np.random.default_rng(4)
        for _ in range(20):
            model(rng.normal(1, 2, (32, 6)).astype("float32"), training=True)
        before = [v.numpy().copy() for v in model.weights]
        x = rng.normal(1, 2, (96, 6)).astype("float32")
        dump = workdir / "keras-training-view.json"
        dump_bn(model, [x[i:i + 32] for i in range(0, 96, 32)], dump, training_view_samples=64)
        if not all(np.array_equal(b, v.numpy()) for b, v in zip(before, model.weights)):
            raise CaseFailure("dump_bn changed the model's weights or moving statistics")
        first, bn1, second = model.layers[0], model.layers[1], model.layers[3]

        def second_of(rows):
            z = x[rows] @ first.kernel.numpy() + first.bias.numpy()
            normalized = (z - z.mean(0)) / np.sqrt(z.var(0) + bn1.epsilon) * bn1.gamma.numpy() + bn1.beta.numpy()
            return normalized @ second.kernel.numpy() + second.bias.numpy()
        check_training_view(json.loads(dump.read_text())["layers"], second_of, batches=2, samples=64)
        # a model of named inputs takes a dict per batch
        a, b = keras.Input((6,), name="a"), keras.Input((6,), name="b")
        named = keras.Model({"a": a, "b": b}, layers.BatchNormalization(name="bn")(layers.Add()([a, b])))
        dump_bn(named, [{"a": x[i:i + 32], "b": x[i:i + 32]} for i in range(0, 96, 32)], dump,
                training_view_samples=64)
        if len(json.loads(dump.read_text())["layers"][0].get("training_inputs", [])) != 2:
            raise CaseFailure("a model of named inputs got no training view of 2 batches")

    def masked():
        # Keras's BN leaves the steps a mask drops out of its moments: the dump holds the kept ones
        keras.utils.set_random_seed(5)
        layers = keras.layers
        model = keras.Sequential([keras.Input((10, 3)), layers.Masking(0.0), layers.Dense(4),
                                  layers.BatchNormalization(name="bn1"), layers.Dense(4),
                                  layers.BatchNormalization(name="bn2"), layers.GlobalAveragePooling1D()])
        rng = np.random.default_rng(5)
        x = rng.normal(3, 1, (64, 10, 3)).astype("float32")
        lengths = rng.integers(1, 11, 64)
        keep = np.arange(10)[None, :] < lengths[:, None]
        x[~keep] = 0.0
        dump = workdir / "keras-masked.json"
        dump_bn(model, [x[:32], x[32:]], dump)
        dumped = json.loads(dump.read_text())["layers"]
        if [layer["name"] for layer in dumped] != ["bn1", "bn2"]:
            raise CaseFailure(f"expected layers bn1 and bn2, got {[layer['name'] for layer in dumped]}")
        dense = model.layers[1]
        expected = x[:32][keep[:32]] @ dense.kernel.numpy() + dense.bias.numpy()
        got = decode(dumped[0]["inputs"][0])
        if got.shape != expected.shape or np.abs(got - expected).max() > 1e-5:
            raise CaseFailure(f"bn1's first batch is {got.shape}, not the {expected.shape} steps the mask keeps")
        for layer in dumped:
            if layer["channel_axis"] != -1 or len(layer.get("training_inputs", [])) != 2:
                raise CaseFailure(f"{layer['name']}: channel_axis {layer['channel_axis']},"
                                  f" {len(layer.get('training_inputs', []))} training-view batches")
        # the training view normalizes with the kept steps' moments, as Keras's masked training does
        z = decode(dumped[0]["training_inputs"][0])
        bn1 = model.get_layer("bn1")
        normalized = (z - z.mean(0)) / np.sqrt(z.var(0) + bn1.epsilon) * bn1.gamma.numpy() + bn1.beta.numpy()
        second = model.layers[3]
        expected = normalized @ second.kernel.numpy() + second.bias.numpy()
        got = decode(dumped[1]["training_inputs"][0])
        if got.shape != expected.shape or np.abs(got - expected).max() > 1e-4:
            raise CaseFailure("bn2's training view is not bn1 normalized with the kept steps' own moments")
        expect_never_updated(dump, ["bn1", "bn2"])  # untrained: bncheck reads the kept steps
        # a nested model is called with the outer mask; a layer normalizing axis 1 gets no data
        inner_input = keras.Input((10, 4))
        inner = keras.Model(inner_input, layers.BatchNormalization(name="inner_bn")(inner_input), name="inner")
        sequences = keras.Input((10, 3))
        hidden = layers.Dense(4)(layers.Masking(0.0)(sequences))
        nested = keras.Model(sequences, [inner(hidden), layers.BatchNormalization(axis=1, name="steps_bn")(hidden)])
        dump_bn(nested, [x[:32], x[32:]], dump)
        dumped = {layer["name"]: layer for layer in json.loads(dump.read_text())["layers"]}
        rows = decode(dumped["inner/inner_bn"]["inputs"][0]).shape
        if rows != (int(keep[:32].sum()), 4):
            raise CaseFailure(f"inner/inner_bn's first batch is {rows}, not the kept steps of the outer mask")
        if dumped["steps_bn"].get("inputs") or dumped["steps_bn"]["channel_axis"] != 1:
            raise CaseFailure("steps_bn (axis 1 of a masked input) must be dumped without data, on its own axis")

    return [("trained", trained), ("untrained", untrained), ("shared-base", shared_base),
            ("training-view", training_view), ("masked", masked)]


def check_training_view(layers, second_of, batches, samples):
    """The training view runs on ``samples`` calibration rows drawn from all the batches, not the
    first ones alone (a file sorted by class would give it one class); the first layer's training
    view is its input on those rows (nothing upstream normalizes), and the second's first batch is
    ``second_of(rows)``, computed by hand for the rows of the first's."""
    for layer in layers:
        if len(layer.get("training_inputs", [])) != batches:
            raise CaseFailure(f"{layer['name']}: {len(layer.get('training_inputs', []))} training-view batches,"
                              f" expected {batches} ({samples} samples)")
    first = layers[0]
    inputs = np.concatenate([decode(t) for t in first["inputs"]])
    # the layer before may round a row in the last bits otherwise in another batch (BLAS blocking)
    drawn = []
    for row in (r for t in first["training_inputs"] for r in decode(t)):
        distance = np.abs(inputs - row).max(axis=1)
        drawn.append(int(distance.argmin()) if distance.min() <= 1e-5 * (1 + np.abs(row).max()) else None)
    if None in drawn:
        raise CaseFailure("the first BN layer's training view holds rows that are not its inputs: nothing upstream"
                          " normalizes")
    if len(drawn) != samples or len(set(drawn)) != samples:
        raise CaseFailure(f"the training view holds {len(set(drawn))} distinct rows of {len(drawn)}, expected {samples}")
    if max(drawn) < samples:
        raise CaseFailure("the training view holds the first samples only, not a sample of all of them")
    rows = drawn[:len(decode(first["training_inputs"][0]))]
    expected = second_of(np.array(rows))
    got = decode(layers[1]["training_inputs"][0])
    if got.shape != expected.shape or np.abs(got - expected).max() > 1e-4:
        raise CaseFailure(f"the second BN layer's training view is not its input with the first normalizing"
                          f" by batch statistics (max difference {np.abs(got - expected).max():.3g})")
    print(f"    training view of {layers[1]['name']}: {samples} rows drawn from all batches; its first batch matches"
          f" the hand computation")


FRAMEWORKS = [("torch", torch_cases, 6), ("tensorflow", keras_cases, 4)]


def main():
    workdir = Path(tempfile.mkdtemp(prefix="bncheck-exporters-"))
    passed = failed = skipped = 0
    for framework, cases, count in FRAMEWORKS:
        print(f"== {framework}")
        try:
            if np is None:
                raise missing_numpy
            framework_cases = cases(workdir)
        except ImportError as error:
            print(f"SKIP: {framework} not available ({error})")
            skipped += count
            continue
        for case, run in framework_cases:
            print(f"  -- {framework} {case}")
            try:
                run()
            except Exception as error:
                failed += 1
                print(f"FAIL: {framework} {case}: {error}")
                if not isinstance(error, CaseFailure):
                    traceback.print_exc(file=sys.stdout)
            else:
                passed += 1
                print(f"PASS: {framework} {case}")
    if failed:
        print(f"dumps kept in {workdir}")
    else:
        shutil.rmtree(workdir)
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
