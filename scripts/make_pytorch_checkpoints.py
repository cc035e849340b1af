"""Make the PyTorch checkpoint test files: a small CNN saved by real PyTorch in every form bncheck
reads, healthy and with the classic BN mistakes, with the values PyTorch itself holds. From the
repository root, in a virtual environment with torch, safetensors and numpy:

    python scripts/make_pytorch_checkpoints.py

Writes, with fixed seeds, to src/test/resources/pytorch/ for each variant:
  trained      300 steps of SGD: running statistics converged (healthy)
  untrained    never trained: running_mean 0, running_var 1, num_batches_tracked 0 (BN001)
  few-steps    5 steps of SGD: the averages moved 1 - 0.9^5 = 41% of the way (BN003 on data)
  frozen-bn    trained, then fine-tuned 100 steps with every BN layer in eval(), as when
               fine-tuning with frozen BN: statistics and counts of the pretraining (healthy)
each in four forms:
  VARIANT-state_dict.pt    torch.save(model.state_dict())
  VARIANT-checkpoint.pt    torch.save({"model": state_dict, "optimizer": ..., "epoch": ...})
  VARIANT-module.pt        torch.save(model): the whole module, pickled with its class
  VARIANT.safetensors      safetensors.torch.save_file(model.state_dict())
and besides:
  trained-float16.pt, trained-float64.pt, trained-bfloat16.safetensors
                           the trained state_dict in other dtypes
  views.pt                 the trained bn1's statistics as views into one shared storage, at an
                           offset and (running_var) with stride 2
  checkpoint-with-device-and-bytes.pt
                           {"model": the trained state_dict, "device": torch.device("cpu"),
                           "note": b"run 7", "phase": 1 + 2j}
  checkpoint-with-numpy.pt {"model": the trained state_dict, "epoch": np.int64(3), "best_acc":
                           np.float32(0.9), "rng": np.random.RandomState(5).get_state()}
  checkpoint-with-extras.pt {"model": the trained state_dict, "input_size": torch.Size([8, 3, 8, 8]),
                           "saved_at": datetime.datetime(2026, 12, 3), "run_dir": pathlib.PurePosixPath("runs/7"),
                           "elapsed": datetime.timedelta(minutes=5)}, values training scripts keep
  running-stats-normalizer.pt
                           the trained state_dict with an observation normalizer's running_mean and
                           running_var buffers beside it (shape [3, 4, 4] and scalars), which are no BN
  odd-norms-module.pt      a whole module with BatchNorm1d(momentum=None, affine=False) and an
                           InstanceNorm2d(track_running_stats=True), which is not BN
  subclassed-norms-module.pt
                           a whole module with subclasses of BatchNorm2d (MyBatchNorm) and of
                           InstanceNorm2d with track_running_stats (StyleNorm, a name without
                           "InstanceNorm"): the pickle names the subclasses alone, and both hold
                           what BN holds
  trained.bn.json, few-steps.bn.json
                           dumps by scripts/bn_dump_pytorch.py of those models with their
                           activations on 2 calibration batches of 16, for check --inputs
  own-conventions-state_dict.pt, own-conventions.bn.json
                           the CNN built with bn1 = BatchNorm2d(8, eps=1e-3, momentum=0.01) and
                           bn2 = BatchNorm2d(16, momentum=None) (a cumulative average), trained 300
                           steps: the state_dict records neither, its dump records both
  hostile/os-system.pt, builtins-eval.pt, subprocess-popen.pt
                           torch.save archives of a state_dict holding an object whose pickle
                           calls os.system, builtins.eval, subprocess.Popen
  hostile/lazy-uninitialized.pt
                           the state_dict of a module holding a LazyBatchNorm2d never run: its
                           parameters and buffers are torch's uninitialized placeholders
  hostile/legacy.pt        the trained state_dict in the format before PyTorch 1.6
  hostile/torchscript.pt   the trained model through torch.jit.script(...).save
  expected.json            what PyTorch holds, per file and BN layer: running_mean, running_var,
                           weight, bias, num_batches_tracked, eps, momentum (as torch reports them
                           for modules; null for a state_dict, which does not record them)
"""

import copy
import json
import os
import subprocess
import sys

import numpy as np
import torch
from safetensors.torch import save_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "src", "test", "resources", "pytorch")
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.dont_write_bytecode = True
from bn_dump_pytorch import dump_bn  # noqa: E402

BATCH = 32
SIZE = 4  # images are 3 x 4 x 4: small files, dumps of tens of KB


class SmallCnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = torch.nn.BatchNorm2d(8)
        self.conv2 = torch.nn.Conv2d(8, 16, 3, padding=1)
        self.bn2 = torch.nn.BatchNorm2d(16)
        self.fc = torch.nn.Linear(16, 4)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        return self.fc(x.mean((2, 3)))


class OddNorms(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 6)
        self.bn = torch.nn.BatchNorm1d(6, momentum=None, affine=False)
        self.inorm = torch.nn.InstanceNorm2d(6, track_running_stats=True)

    def forward(self, x):
        return self.inorm(self.bn(self.fc(x))[:, :, None, None].repeat(1, 1, 2, 2))


class MyBatchNorm(torch.nn.BatchNorm2d):
    pass


class StyleNorm(torch.nn.InstanceNorm2d):
    pass


class SubclassedNorms(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.bn = MyBatchNorm(3)
        self.inorm = StyleNorm(3, track_running_stats=True)

    def forward(self, x):
        return self.inorm(self.bn(x))


def data(generator, n):
    """Images whose class sets the mean of one colour channel; mean about 1, spread about 2."""
    labels = torch.randint(0, 4, (n,), generator=generator)
    x = torch.randn(n, 3, SIZE, SIZE, generator=generator) * 2 + 1
    for c in range(3):
        x[:, c] += (labels == c).float()[:, None, None] * 1.5
    return x, labels


def train(model, generator, steps, freeze_bn=False):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model.train()
    if freeze_bn:
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.eval()
    for _ in range(steps):
        x, y = data(generator, BATCH)
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    return optimizer


def values(t):
    return None if t is None else t.detach().double().flatten().tolist()


def expected_layers(state, modules=None):
    """Per BN layer what PyTorch holds; eps and momentum only where a module records them."""
    layers = {}
    for key in state:
        if not key.endswith("running_mean"):
            continue
        prefix = key[: -len("running_mean")]
        name = prefix[:-1]
        module = (modules or {}).get(name)
        if module is not None and not isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            continue
        tracked = state.get(prefix + "num_batches_tracked")
        layers[name] = {
            "running_mean": values(state[key]),
            "running_var": values(state[prefix + "running_var"]),
            "weight": values(state.get(prefix + "weight")),
            "bias": values(state.get(prefix + "bias")),
            "num_batches_tracked": None if tracked is None else int(tracked),
            "eps": None if module is None else module.eps,
            "momentum": None if module is None else module.momentum,
        }
    return layers


class Evil:
    """An object whose pickle calls a function when unpickled, as a hostile checkpoint does."""

    def __init__(self, function, argument):
        self.function, self.argument = function, argument

    def __reduce__(self):
        return self.function, (self.argument,)


def main():
    os.makedirs(os.path.join(OUT, "hostile"), exist_ok=True)
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(1)
    calibration = [data(torch.Generator().manual_seed(2), 16)[0] for _ in range(2)]

    models = {}
    torch.manual_seed(10)
    models["untrained"] = SmallCnn().eval()
    torch.manual_seed(11)
    models["few-steps"] = SmallCnn()
    optimizers = {"few-steps": train(models["few-steps"], generator, 5)}
    torch.manual_seed(12)
    models["trained"] = SmallCnn()
    optimizers["trained"] = train(models["trained"], generator, 300)
    models["frozen-bn"] = copy.deepcopy(models["trained"])
    optimizers["frozen-bn"] = train(models["frozen-bn"], generator, 100, freeze_bn=True)
    optimizers["untrained"] = torch.optim.SGD(models["untrained"].parameters(), lr=0.05, momentum=0.9)
    epochs = {"untrained": 0, "few-steps": 5, "trained": 300, "frozen-bn": 400}

    expected = {"torch_version": torch.__version__, "files": {}}
    for variant, model in models.items():
        model.eval()
        state = model.state_dict()
        layers = expected_layers(state)
        modules = dict(model.named_modules())
        torch.save(state, os.path.join(OUT, f"{variant}-state_dict.pt"))
        torch.save({"model": state, "optimizer": optimizers[variant].state_dict(), "epoch": epochs[variant]},
                   os.path.join(OUT, f"{variant}-checkpoint.pt"))
        torch.save(model, os.path.join(OUT, f"{variant}-module.pt"))
        save_file(state, os.path.join(OUT, f"{variant}.safetensors"))
        for form in ("state_dict.pt", "checkpoint.pt"):
            expected["files"][f"{variant}-{form}"] = layers
        expected["files"][f"{variant}-module.pt"] = expected_layers(state, modules)
        # safetensors keeps the header's keys sorted: bn1 before bn2 here as well
        expected["files"][f"{variant}.safetensors"] = layers

    trained = models["trained"].state_dict()
    for dtype, name in ((torch.float16, "float16"), (torch.float64, "float64")):
        converted = {k: v.to(dtype) if v.is_floating_point() else v for k, v in trained.items()}
        torch.save(converted, os.path.join(OUT, f"trained-{name}.pt"))
        expected["files"][f"trained-{name}.pt"] = expected_layers(converted)
    converted = {k: v.to(torch.bfloat16) if v.is_floating_point() else v for k, v in trained.items()}
    save_file(converted, os.path.join(OUT, "trained-bfloat16.safetensors"))
    expected["files"]["trained-bfloat16.safetensors"] = expected_layers(converted)

    shared = torch.zeros(64)
    shared[3:11] = trained["bn1.running_mean"]
    shared[20:36:2] = trained["bn1.running_var"]
    views = dict(trained)
    views["bn1.running_mean"] = shared[3:11]
    views["bn1.running_var"] = shared[20:36:2]
    torch.save(views, os.path.join(OUT, "views.pt"))
    expected["files"]["views.pt"] = expected_layers(views)

    # a training checkpoint with a device, bytes and a complex number beside the state_dict
    torch.save({"model": trained, "device": torch.device("cpu"), "note": b"run 7", "phase": 1 + 2j},
               os.path.join(OUT, "checkpoint-with-device-and-bytes.pt"))
    expected["files"]["checkpoint-with-device-and-bytes.pt"] = expected_layers(trained)

    # numpy values a training script keeps beside the state_dict: scalars and a random state
    # (an array); bncheck refused the whole file for them
    numpy_checkpoint(trained, expected)
    extras_checkpoint(trained, expected)

    # an observation normalizer (reinforcement learning) keeps running_mean/running_var buffers
    # that belong to no BN layer: an image-shaped one and a scalar one beside the real layers
    normalizer = dict(trained)
    normalizer["obs_rms.running_mean"] = torch.zeros(3, 4, 4)
    normalizer["obs_rms.running_var"] = torch.ones(3, 4, 4)
    normalizer["ret_rms.running_mean"] = torch.tensor(0.5)
    normalizer["ret_rms.running_var"] = torch.tensor(2.0)
    torch.save(normalizer, os.path.join(OUT, "running-stats-normalizer.pt"))
    expected["files"]["running-stats-normalizer.pt"] = expected_layers(trained)

    torch.manual_seed(13)
    odd = OddNorms()
    odd.train()
    with torch.no_grad():
        for _ in range(3):
            odd(torch.randn(8, 4, generator=generator) * 3 + 2)
    odd.eval()
    torch.save(odd, os.path.join(OUT, "odd-norms-module.pt"))
    expected["files"]["odd-norms-module.pt"] = expected_layers(odd.state_dict(), dict(odd.named_modules()))

    # the exporter must give each BN layer its own mode back: frozen BN stays in eval()
    frozen = models["frozen-bn"]
    frozen.train()
    frozen.bn1.eval()
    dump_bn(frozen, calibration, os.path.join(OUT, "frozen-bn.bn.json.tmp"), model_name="SmallCnn")
    os.remove(os.path.join(OUT, "frozen-bn.bn.json.tmp"))
    assert frozen.training and not frozen.bn1.training and frozen.bn2.training, "dump_bn changed a module's mode"
    for variant in ("trained", "few-steps"):
        dump_bn(models[variant].eval(), calibration, os.path.join(OUT, f"{variant}.bn.json"), model_name="SmallCnn")
    own_conventions(generator, calibration, expected)
    subclassed_norms(generator)

    for name, function, argument in (("os-system", os.system, "echo pwned"),
                                     ("builtins-eval", eval, "print('pwned')"),
                                     ("subprocess-popen", subprocess.Popen, "true")):
        hostile = dict(trained)
        hostile["extra"] = Evil(function, argument)
        torch.save(hostile, os.path.join(OUT, "hostile", f"{name}.pt"))
    lazy_uninitialized()
    batch_statistics_module()
    torch.save(trained, os.path.join(OUT, "hostile", "legacy.pt"), _use_new_zipfile_serialization=False)
    torch.jit.script(models["trained"]).save(os.path.join(OUT, "hostile", "torchscript.pt"))

    with open(os.path.join(OUT, "expected.json"), "w") as out:
        json.dump(expected, out, indent=1, sort_keys=True)
        out.write("\n")


def batch_statistics_module():
    """A whole module whose second BN layer keeps no running statistics (track_running_stats=False):
    it has no tensors to be found by, and normalizes with each batch's own statistics in eval() too."""
    torch.manual_seed(17)
    model = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6), torch.nn.ReLU(),
                                torch.nn.Linear(6, 6), torch.nn.BatchNorm1d(6, track_running_stats=False))
    model.train()
    with torch.no_grad():
        for _ in range(20):
            model(torch.randn(16, 4))
    model.eval()
    torch.save(model, os.path.join(OUT, "batch-statistics-module.pt"))


def numpy_checkpoint(trained, expected):
    rng = np.random.RandomState(5)
    torch.save({"model": trained, "epoch": np.int64(3), "best_acc": np.float32(0.9), "rng": rng.get_state()},
               os.path.join(OUT, "checkpoint-with-numpy.pt"))
    expected["files"]["checkpoint-with-numpy.pt"] = expected_layers(trained)



def lazy_uninitialized():
    """A lazy BN layer saved before its first forward pass: no shape, no statistics."""
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.LazyBatchNorm2d())
    torch.save(model.state_dict(), os.path.join(OUT, "hostile", "lazy-uninitialized.pt"))


def subclassed_norms(generator):
    """Subclasses pickle under their own names: bncheck cannot tell the InstanceNorm one from BN."""
    torch.manual_seed(15)
    model = SubclassedNorms()
    with torch.no_grad():
        for _ in range(3):
            model(data(generator, 8)[0])
    torch.save(model.eval(), os.path.join(OUT, "subclassed-norms-module.pt"))


def own_conventions(generator, calibration, expected):
    """A state_dict does not record eps or momentum; bncheck must take them from the dump."""
    torch.manual_seed(14)
    model = SmallCnn()
    model.bn1 = torch.nn.BatchNorm2d(8, eps=1e-3, momentum=0.01)
    model.bn2 = torch.nn.BatchNorm2d(16, momentum=None)
    train(model, generator, 300)
    model.eval()
    torch.save(model.state_dict(), os.path.join(OUT, "own-conventions-state_dict.pt"))
    expected["files"]["own-conventions-state_dict.pt"] = expected_layers(model.state_dict())
    dump_bn(model, calibration, os.path.join(OUT, "own-conventions.bn.json"), model_name="SmallCnn")


def extras_checkpoint(trained, expected):
    import datetime
    import pathlib
    torch.save({"model": trained, "input_size": torch.Size([8, 3, 8, 8]),
                "saved_at": datetime.datetime(2026, 12, 3), "run_dir": pathlib.PurePosixPath("runs/7"),
                "elapsed": datetime.timedelta(minutes=5)},
               os.path.join(OUT, "checkpoint-with-extras.pt"))
    expected["files"]["checkpoint-with-extras.pt"] = expected_layers(trained)


if __name__ == "__main__":
    main()
