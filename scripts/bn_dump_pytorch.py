"""Dump the batch-normalization layers of a PyTorch model for bncheck.

Copy this file next to your training code (it depends only on torch and numpy) and call
``dump_bn`` on the trained model with a few batches of calibration data::

    import torch
    from bn_dump_pytorch import dump_bn

    model = torch.load("model.pt", weights_only=False)   # or build it and load_state_dict()
    loader = torch.utils.data.DataLoader(val_set, batch_size=32, shuffle=True)
    batches = [batch for _, batch in zip(range(4), loader)]   # 4 calibration batches
    dump_bn(model, batches, "model.bn.json", model_name="resnet18")

and then run ``bncheck check model.bn.json``.

For every BatchNorm1d/2d/3d and SyncBatchNorm layer the dump holds its parameters and
running statistics plus the activation that reached the layer for each calibration batch.
A layer built with track_running_stats=False has no running statistics and normalizes with
each batch's own statistics even in eval(): the dump lists it by name in
batch_statistics_layers, which bncheck reports as an error (BN002).
The model runs in eval mode, as at inference, so the layers upstream of each BN layer
normalize with their running statistics and each layer sees the inputs it sees in
deployment; a random sample of the calibration samples also runs with the BN layers in
training mode (the training view, bncheck's reference for the running statistics). The dump
format is described in docs/dump-format.md of the bncheck project.
"""

import base64
import json
import os
import sys
import tempfile

import numpy as np
import torch
from torch.nn.modules.batchnorm import _BatchNorm


def _tensor(t):
    """Encode a tensor as a bncheck TENSOR: float32, little-endian, base64."""
    array = t.detach().to(device="cpu", dtype=torch.float32).numpy()
    data = np.ascontiguousarray(array, dtype="<f4").tobytes()
    return {
        "dtype": "float32",
        "shape": list(array.shape),
        "base64": base64.b64encode(data).decode("ascii"),
    }


def _write_atomically(document, path):
    """Write JSON so that readers see either the old file or the complete new one."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp_path = tempfile.mkstemp(
        dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(document, out)
            out.flush()
            os.fsync(out.fileno())
        # mkstemp creates the file for its owner alone; a dump gets the mode any new file gets
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, path)
    except BaseException:
        os.unlink(tmp_path)
        raise


def _model_input(batch):
    """A DataLoader yields (inputs, targets, ...): feed only the inputs."""
    return batch[0] if isinstance(batch, (tuple, list)) else batch


def _warn(message):
    print(f"bn_dump_pytorch: warning: {message}", file=sys.stderr)


def _layer_entry(name, bn, inputs, training_inputs):
    entry = {"name": name, "channel_axis": 1, "epsilon": float(bn.eps)}
    # momentum None means a cumulative moving average, which has no momentum to report.
    if bn.momentum is not None:
        entry["momentum"] = float(bn.momentum)
        entry["momentum_convention"] = "pytorch"
    entry["num_batches_tracked"] = int(bn.num_batches_tracked.item())
    if bn.affine:
        entry["gamma"] = _tensor(bn.weight)
        entry["beta"] = _tensor(bn.bias)
    entry["moving_mean"] = _tensor(bn.running_mean)
    entry["moving_variance"] = _tensor(bn.running_var)
    if inputs:
        entry["inputs"] = inputs
    if training_inputs:
        entry["training_inputs"] = training_inputs
    return entry


class _TrainingViewSample:
    """The samples the training view runs on: a fixed-seed random sample of every calibration
    sample (reservoir sampling over the stream, which runs once), shuffled, in batches of the
    largest batch's size (so no more batches than the calibration has). The first batches alone
    are no sample of the whole when the loader is sorted by class, and batches of one or two
    classes normalize the layers after them unlike training's mixed batches did (healthy models
    got BN003 errors on such dumps).
    """

    def __init__(self, size):
        self.size = size
        self.kept = []
        self.seen = 0
        self.batch_size = 0
        self.random = np.random.default_rng(0)

    def offer(self, x):
        if self.size <= 0:
            return
        self.batch_size = max(self.batch_size, x.shape[0])
        for row in x.detach():
            if len(self.kept) < self.size:
                self.kept.append(row.clone())
            else:
                j = int(self.random.integers(0, self.seen + 1))
                if j < self.size:
                    self.kept[j] = row.clone()
            self.seen += 1

    def batches(self):
        if not self.kept:
            return []
        order = self.random.permutation(len(self.kept))
        rows = [self.kept[i] for i in order]
        return [torch.stack(rows[i:i + self.batch_size]) for i in range(0, len(rows), self.batch_size)]


def _training_view(model, bns, batches):
    """What reaches each BN layer with every BN layer normalizing with its batch's statistics.

    Only the BN layers switch to training mode (dropout and the like stay as at inference), and
    their running statistics and update counts are put back afterwards, so the model is left as
    it was. A batch of one sample is left out: training mode cannot normalize it.
    """
    batches = [x for x in batches if x.shape[0] > 1]
    if not batches:
        return {}
    captured = {name: [] for name, _ in bns}
    modes = [(module, module.training) for module in model.modules()]
    saved = [(module, [b.clone() for b in module.buffers()]) for _, module in bns]

    def make_hook(name):
        def hook(module, args):
            # a module called more than once per forward pass keeps its first input, as above
            if len(captured[name]) < done[0] + 1:
                captured[name].append(_tensor(args[0]))
        return hook

    done = [0]
    handles = [module.register_forward_pre_hook(make_hook(name)) for name, module in bns]
    try:
        # the rest of the model as at inference whatever mode it was given in (dropout off)
        model.eval()
        for _, module in bns:
            module.train()
        with torch.no_grad():
            for x in batches:
                model(x)
                done[0] += 1
    except RuntimeError as e:
        _warn(f"the training view could not run ({e}); the dump leaves it out")
        return {}
    finally:
        for handle in handles:
            handle.remove()
        for module, training in modes:
            module.training = training
        for module, buffers in saved:
            for buffer, value in zip(module.buffers(), buffers):
                buffer.copy_(value)
    return {name: batches for name, batches in captured.items() if batches}


def dump_bn(model, batches, path, model_name=None, training_view_samples=256):
    """Write a bncheck dump of every BN layer of ``model`` to ``path``.

    ``batches`` is an iterable of calibration batches: each is the model's input tensor,
    or a tuple/list such as a DataLoader's (inputs, targets) whose first element is the
    input. Each batch is moved to the device of the model's parameters. The model's
    training/eval mode, and that of each of its submodules, is restored afterwards.

    ``training_view_samples`` samples drawn at random (a fixed seed) from all the batches, in
    shuffled batches of the largest batch's size, are also run with every BN layer in training
    mode (normalizing with the batch's own statistics, as
    while the running statistics were averaged; the running statistics are restored
    afterwards): bncheck judges a layer's statistics on what reached it that way, so that a
    layer upstream whose inference differs from its training does not make its successors
    look stale. 0 leaves the training view out.
    """
    bns = []
    without_statistics = []
    for name, module in model.named_modules():
        if not isinstance(module, _BatchNorm):
            continue
        if not module.track_running_stats:
            _warn(f"{name}: track_running_stats=False, it has no running statistics and normalizes with"
                  f" each batch's own statistics even in eval(); the dump lists it for bncheck to report")
            without_statistics.append({"name": name, "reason": "track_running_stats=False"})
            continue
        bns.append((name, module))

    inputs = {name: [] for name, _ in bns}
    first_fired = []  # layer names in the order their hooks first fire: network order
    fired_this_batch = set()
    reused = set()

    def make_hook(name):
        def hook(module, args):
            if name in fired_this_batch:
                # A module called more than once per forward pass: keep its first input.
                if name not in reused:
                    reused.add(name)
                    _warn(f"{name} runs more than once per forward pass; "
                          f"only its first input of each batch is dumped")
                return
            fired_this_batch.add(name)
            if not inputs[name]:
                first_fired.append(name)
            inputs[name].append(_tensor(args[0]))
        return hook

    handles = [module.register_forward_pre_hook(make_hook(name)) for name, module in bns]
    device = next(model.parameters(), torch.empty(0)).device
    # Each module's own mode, not the model's: a model fine-tuned with frozen BN is in train()
    # while its BN layers are in eval(), and model.train() would unfreeze them.
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    sample = _TrainingViewSample(training_view_samples)
    try:
        with torch.no_grad():
            for batch in batches:
                fired_this_batch.clear()
                x = _model_input(batch).to(device)
                sample.offer(x)
                model(x)
    finally:
        for handle in handles:
            handle.remove()
        for module, training in modes:
            module.training = training
    training_inputs = _training_view(model, bns, sample.batches())

    by_name = dict(bns)
    never_reached = [name for name, _ in bns if not inputs[name]]
    if first_fired and never_reached:
        _warn("no calibration input reached: " + ", ".join(never_reached))
    layers = [_layer_entry(name, by_name[name], inputs[name], training_inputs.get(name))
              for name in first_fired + never_reached]

    document = {
        "format": "bncheck-dump",
        "version": 1,
        "source": {
            "framework": "pytorch",
            "framework_version": torch.__version__,
            "model": model_name or type(model).__name__,
        },
        "layers": layers,
    }
    if without_statistics:
        document["batch_statistics_layers"] = without_statistics
    _write_atomically(document, path)
