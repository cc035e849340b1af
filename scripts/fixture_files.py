"""What the fixture generators share (imported by them; not run on its own)."""

import os

import numpy as np


def drop_fingerprint(model_dir):
    """Removes a SavedModel's fingerprint.pb: it changes on every export, and bncheck does not need it."""
    path = os.path.join(model_dir, "fingerprint.pb")
    if os.path.exists(path):
        os.remove(path)


def padded_sequences(rng, n, steps=16):
    """4 features around 3 per step, 4 to `steps` steps zero-padded to `steps`; the class from their mean."""
    lengths = rng.integers(4, steps + 1, n)
    x = 3.0 + rng.normal(size=(n, steps, 4))
    valid = np.arange(steps)[None, :] < lengths[:, None]
    w = np.random.default_rng(1234).normal(size=(4, 4))
    y = np.argmax((((x - 3.0) * valid[..., None]).sum(1) / lengths[:, None]) @ w, 1)
    x[~valid] = 0.0
    return x.astype(np.float32), y
