#!/usr/bin/env python3
"""Measures bncheck's verdicts on PyTorch MLPs trained on heavy-tailed tabular data, the case where
a healthy model's moving statistics are themselves noisy estimates (docs/findings.md, "Tails too
heavy to judge"). Prints one row per family, kind and calibration-set size: how many runs failed
(exit 1) and the error codes seen.

Families of 16 features, 1,500 steps of SGD on batches of 32 (PyTorch's momentum 0.1):
  t3          Student-t(3) values, 1% of rows multiplied by 20 (kurtosis in the hundreds)
  lognormal   exp(N(0, 1)) values, 1% of rows multiplied by 20 (the known limit)
  t3plain     Student-t(3) values without the extreme rows
  mixed       mixed tabular columns (4 Student-t(3), 4 log-normal, 4 Poisson counts, 2 binary, 2 of a
              one-hot pair), 0.2% of rows multiplied by 30
Kinds, per family and width (16 and 64 units):
  healthy     seeds 0, 1, 2; two calibration draws per size: must pass
  stale3      seed 0 with its running statistics reset and updated on 3 batches (num_batches_tracked
              3, 73% of the initial 0/1 left): must not pass silently
Calibration sets of 32, 64, 256 and 1,024 fresh samples of the training distribution, in batches
of 32, dumped by scripts/bn_dump_pytorch.py.

    scripts/measure_heavy_tails.py        # about 6 minutes on 2 cores

Needs torch and numpy, and a built bncheck (bin/bncheck builds it on first use); BNCHECK_JAR=path
runs that jar instead.
"""
import os
import sys
import tempfile

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.dont_write_bytecode = True
from bn_dump_pytorch import dump_bn  # noqa: E402
from bncheck_run import check  # noqa: E402
from make_heavy_tailed_tabular import Mlp  # noqa: E402  (the fixtures' model, at a width)

FAMILIES = ["t3", "lognormal", "t3plain", "mixed"]
WIDTHS = [16, 64]
SIZES = [32, 64, 256, 1024]
HEALTHY_SEEDS = [0, 1, 2]
DRAWS = 2


def data(family, rng, n):
    if family == "mixed":
        return mixed(rng, n)
    if family == "lognormal":
        x = np.exp(rng.standard_normal((n, 16)))
    else:
        x = rng.standard_t(3, (n, 16))
    if family != "t3plain":
        x[rng.random(n) < 0.01] *= 20
    x = x.astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > np.median(x[:, 0])).astype("int64")
    return torch.from_numpy(x), torch.from_numpy(y)


def mixed(rng, n):
    one_hot = rng.integers(0, 2, n)
    x = np.concatenate([
        rng.standard_t(3, (n, 4)),
        np.exp(rng.standard_normal((n, 4))),
        rng.poisson(3.0, (n, 4)),
        rng.integers(0, 2, (n, 2)),
        np.stack([one_hot, 1 - one_hot], axis=1),
    ], axis=1)
    x[rng.random(n) < 0.002] *= 30
    x = x.astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 4] - 0.3 * x[:, 8] + x[:, 12] > 1).astype("int64")
    return torch.from_numpy(x), torch.from_numpy(y)


def train(family, width, seed, draw=data):
    """The MLP trained on batches that draw(family, rng, 32) makes, and the generator after it."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = Mlp(width)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    model.train()
    for _ in range(1500):
        x, y = draw(family, rng, 32)
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    model.eval()
    return model, rng




def measure(tmp):
    cells = {}
    for family in FAMILIES:
        for width in WIDTHS:
            for seed in HEALTHY_SEEDS:
                model, rng = train(family, width, seed)
                runs = [("healthy", model, seed, draw) for draw in range(DRAWS)]
                if seed == 0:
                    stale, _ = train(family, width, seed)
                    for bn in (stale.bn1, stale.bn2):
                        bn.reset_running_stats()
                    stale.train()
                    with torch.no_grad():
                        for _ in range(3):
                            stale(data(family, rng, 32)[0])
                    stale.eval()
                    runs.append(("stale3", stale, seed, 0))
                for kind, m, s, draw in runs:
                    for size in SIZES:
                        x, _ = data(family, np.random.default_rng(1000 * s + 10 * draw + size), size)
                        dump = os.path.join(tmp, "calibration.bn.json")
                        dump_bn(m, [x[i:i + 32] for i in range(0, size, 32)], dump, model_name="mlp")
                        code, codes = check(dump)
                        cell = cells.setdefault((family, kind, size), [0, 0, set()])
                        cell[0] += code == 1
                        cell[1] += 1
                        cell[2] |= codes
    lines = ["| family | kind | samples | failed | errors and warnings seen |", "|---|---|---:|---:|---|"]
    for (family, kind, size), (failed, runs, codes) in sorted(
            cells.items(), key=lambda e: (FAMILIES.index(e[0][0]), e[0][1], e[0][2])):
        lines.append(f"| {family} | {kind} | {size} | {failed} of {runs} | {', '.join(sorted(codes)) or '-'} |")
    return "\n".join(lines)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        print(measure(tmp))


if __name__ == "__main__":
    main()
