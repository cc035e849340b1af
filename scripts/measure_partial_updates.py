#!/usr/bin/env python3
"""Measures bncheck's verdicts on PyTorch models whose running statistics received only a few
updates: trained fully, then the running statistics reset to 0/1 and updated n times at momentum m
in training mode without gradients, so that num_batches_tracked = n and (1 - m)^n of the initial
values remain (docs/findings.md, "Differences that add up to the count's prediction"). Prints one
row per model, seed and kind: the share of 0/1 left, the accuracy on 1,000 held-out samples with
these statistics and with statistics recomputed on 100 batches, and the verdict (exit code and the
errors and warnings) on 32, 64 and 256 calibration samples.

Models (Adam, 800 steps on batches of 32, 4 classes):
  mlp   16 -> [Linear, BatchNorm1d(32), ReLU] x 2 -> 4, Gaussian clusters scaled by 0.2 (BN inputs
        with variances far below 1, where a few percent of the initial 1 weighs most)
  cnn   3x8x8 images -> [Conv3x3, BatchNorm2d, ReLU] with 8 then 16 channels -> mean pool -> 4
Kinds:
  healthy    100 updates at momentum 0.1 (0.003% left): must pass
  restarted  the healthy statistics with num_batches_tracked set to 5 (fine-tuning from converged
             statistics restarts the count): must pass
  m0.1 n10, n15, n20, n28; m0.5 n2, n4   too few updates
  m0.1 n10 count 5000   the same statistics with a count that contradicts them

    scripts/measure_partial_updates.py     # about 3 minutes on 2 cores

Needs torch and numpy, and a built bncheck (bin/bncheck builds it on first use); BNCHECK_JAR=path
runs that jar instead.
"""
import copy
import os
import sys
import tempfile

import numpy as np
import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.dont_write_bytecode = True
from bn_dump_pytorch import dump_bn  # noqa: E402
from bncheck_run import check  # noqa: E402

SIZES = [32, 64, 256]
SEEDS = [0, 1]
# (label, momentum, updates, count written over num_batches_tracked or None)
KINDS = [
    ("healthy", 0.1, 100, None),
    ("restarted", 0.1, 100, 5),
    ("m0.1 n10", 0.1, 10, None),
    ("m0.1 n15", 0.1, 15, None),
    ("m0.1 n20", 0.1, 20, None),
    ("m0.1 n28", 0.1, 28, None),
    ("m0.5 n2", 0.5, 2, None),
    ("m0.5 n4", 0.5, 4, None),
    ("m0.1 n10 count 5000", 0.1, 10, 5000),
]


def data(family, rng, n):
    y = rng.integers(0, 4, n)
    if family == "mlp":
        centers = np.random.default_rng(99).normal(0, 1, (4, 16))
        x = 0.2 * (centers[y] + rng.normal(0, 1, (n, 16)))
    else:
        templates = np.random.default_rng(99).normal(0, 1, (4, 3, 8, 8))
        x = templates[y] + rng.normal(0, 1.5, (n, 3, 8, 8))
    return torch.from_numpy(x.astype(np.float32)), torch.from_numpy(y)


def build(family):
    if family == "mlp":
        return nn.Sequential(nn.Linear(16, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 32),
                             nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 4))
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                         nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 4))


def train(family, seed):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = build(family)
    optimizer = torch.optim.Adam(model.parameters(), 1e-2 if family == "mlp" else 3e-3)
    model.train()
    for _ in range(800):
        x, y = data(family, rng, 32)
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    return model, rng


def norms(model):
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


def updated(model, family, rng, momentum, updates, count):
    stale = copy.deepcopy(model)
    for bn in norms(stale):
        bn.reset_running_stats()
        bn.momentum = momentum
    stale.train()
    with torch.no_grad():
        for _ in range(updates):
            stale(data(family, rng, 32)[0])
    if count is not None:
        for bn in norms(stale):
            bn.num_batches_tracked.fill_(count)
    return stale.eval()


def accuracy(model, x, y):
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())




def measure(tmp):
    lines = ["| model | seed | kind | 0/1 left | accuracy | recomputed | "
             + " | ".join(f"{size} samples" for size in SIZES) + " |",
             "|---|---:|---|---:|---:|---:|" + "---|" * len(SIZES)]
    for family in ["mlp", "cnn"]:
        for seed in SEEDS:
            model, rng = train(family, seed)
            held_out = data(family, np.random.default_rng(500 + seed), 1000)
            reference = accuracy(updated(model, family, rng, None, 100, None), *held_out)
            for label, momentum, updates, count in KINDS:
                stale = updated(model, family, rng, momentum, updates, count)
                cells = []
                for size in SIZES:
                    x, _ = data(family, np.random.default_rng(1000 * seed + size), size)
                    dump = os.path.join(tmp, "calibration.bn.json")
                    dump_bn(stale, [x[i:i + 32] for i in range(0, size, 32)], dump, model_name=family)
                    code, codes = check(dump)
                    cells.append(f"exit {code}" + (f": {', '.join(sorted(codes))}" if codes else ""))
                left = (1 - momentum) ** updates
                lines.append(f"| {family} | {seed} | {label} | {100 * left:.1f}% | {accuracy(stale, *held_out):.3f}"
                             f" | {reference:.3f} | " + " | ".join(cells) + " |")
                print(lines[-1], file=sys.stderr, flush=True)
    return "\n".join(lines)


def main():
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    with tempfile.TemporaryDirectory() as tmp:
        print(measure(tmp))


if __name__ == "__main__":
    main()
