"""Make the heavy-tailed tabular test models: small PyTorch MLPs trained on data whose rare rows
are extreme, the case where a healthy model's moving variance is itself a noisy estimate. From
the repository root, in a virtual environment with torch and numpy:

    python scripts/make_heavy_tailed_tabular.py

Features: 16 columns of Student-t(3) values, 1% of rows multiplied by 20 (kurtosis in the
hundreds). Model: Linear(16, 16), BatchNorm1d `bn1`, ReLU, Linear(16, 16), BatchNorm1d `bn2`,
ReLU, Linear(16, 2), trained 1,500 steps of SGD on batches of 32 (PyTorch's momentum 0.1), with
fixed seeds. Writes to src/test/resources/heavy-tailed/:
  healthy-SEED.pt              the trained state_dict (SEED 0 and 1)
  healthy-SEED-N.bn.json       its dump by scripts/bn_dump_pytorch.py on N = 256 and 1,024 fresh
                               samples of the same distribution, in batches of 32: healthy, must pass
  stale-0.pt, stale-0-256.bn.json
                               model 0 with its running statistics reset and updated on 3 batches
                               only (27% of the way from 0/1): must fail
  lognormal-2.pt, lognormal-2-256.bn.json
                               the same MLP trained on exp(N(0, 1)) features with 1% of rows
                               multiplied by 20 (seed 2), dumped on 256 fresh samples: healthy.
                               Its bn1 normalizes a batch holding an extreme row far more than its
                               moving statistics do, so bn2's inputs at inference are unlike those
                               its statistics averaged (variance ratios up to 6): judged on the
                               dump's training view it passes, on the inference view it fails
Every dump records the training view (scripts/bn_dump_pytorch.py) on its first 256 samples.
"""

import os
import sys

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "src", "test", "resources", "heavy-tailed")
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.dont_write_bytecode = True
from bn_dump_pytorch import dump_bn  # noqa: E402

WIDTH = 16


def data(rng, n, family="t3"):
    # the log-normal family as scripts/measure_heavy_tails.py draws it (scaled before rounding)
    x = np.exp(rng.standard_normal((n, 16))) if family == "lognormal" else rng.standard_t(3, (n, 16)).astype("float32")
    x[rng.random(n) < 0.01] *= 20
    x = x.astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > (np.median(x[:, 0]) if family == "lognormal" else 0.3)).astype("int64")
    return torch.from_numpy(x), torch.from_numpy(y)


class Mlp(torch.nn.Module):
    def __init__(self, width=WIDTH):
        super().__init__()
        self.fc1 = torch.nn.Linear(16, width)
        self.bn1 = torch.nn.BatchNorm1d(width)
        self.fc2 = torch.nn.Linear(width, width)
        self.bn2 = torch.nn.BatchNorm1d(width)
        self.out = torch.nn.Linear(width, 2)

    def forward(self, x):
        x = torch.relu(self.bn1(self.fc1(x)))
        return self.out(torch.relu(self.bn2(self.fc2(x))))


def dump(model, seed, n, path, family="t3", data_seed=None):
    x, _ = data(np.random.default_rng(100 + seed if data_seed is None else data_seed), n, family)
    dump_bn(model, [x[i:i + 32] for i in range(0, n, 32)], path, model_name="mlp")


def train(seed, family="t3"):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = Mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    model.train()
    for _ in range(1500):
        x, y = data(rng, 32, family)
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    model.eval()
    return model, rng


def main():
    os.makedirs(OUT, exist_ok=True)
    lognormal, _ = train(2, "lognormal")
    torch.save(lognormal.state_dict(), os.path.join(OUT, "lognormal-2.pt"))
    # the draw of scripts/measure_heavy_tails.py that failed on the inference view
    dump(lognormal, 2, 256, os.path.join(OUT, "lognormal-2-256.bn.json"), "lognormal", data_seed=2256)
    for seed in (0, 1):
        model, rng = train(seed)
        torch.save(model.state_dict(), os.path.join(OUT, f"healthy-{seed}.pt"))
        for n in (256, 1024):
            dump(model, seed, n, os.path.join(OUT, f"healthy-{seed}-{n}.bn.json"))
        if seed == 0:
            for bn in (model.bn1, model.bn2):
                bn.reset_running_stats()
            model.train()
            with torch.no_grad():
                for _ in range(3):
                    model(data(rng, 32)[0])
            model.eval()
            torch.save(model.state_dict(), os.path.join(OUT, "stale-0.pt"))
            dump(model, seed, 256, os.path.join(OUT, "stale-0-256.bn.json"))


if __name__ == "__main__":
    main()
