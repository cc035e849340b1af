#!/usr/bin/env bash
# Peak memory of bncheck on a big JSON dump: 500 layers, about 1 GB of calibration activations
# (float32, base64), checked with the launcher's default JVM options. Needs python3 with numpy.
# Usage: scripts/bench-memory.sh [DIR]   (DIR receives the generated dump; default: a temp dir)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
dump="$work/big-500-layers.json"
python3 - "$dump" <<'PY'
import base64, json, sys
import numpy as np
rng = np.random.default_rng(0)
layers, channels, batch, batches = 500, 128, 1024, 4   # 500 * 4 * 1024 * 128 * 4 bytes = 1.05 GB
with open(sys.argv[1], "w") as f:
    f.write('{"format":"bncheck-dump","version":1,"source":{"framework":"keras"},"layers":[')
    for l in range(layers):
        mean = rng.normal(0, 1, channels).astype("float32")
        std = rng.uniform(0.5, 2, channels).astype("float32")
        f.write(("," if l else "") + json.dumps({
            "name": f"block{l}/bn", "channel_axis": -1, "epsilon": 1e-3, "momentum": 0.99,
            "moving_mean": mean.tolist(), "moving_variance": (std * std).tolist()})[:-1] + ',"inputs":[')
        for b in range(batches):
            x = (rng.standard_normal((batch, channels), dtype=np.float32) * std + mean).astype("<f4")
            f.write(("," if b else "") + '{"dtype":"float32","shape":[%d,%d],"base64":"%s"}'
                    % (batch, channels, base64.b64encode(x.tobytes()).decode()))
        f.write("]}")
    f.write("]}")
PY
ls -l "$dump"
/usr/bin/time -v "$root/bin/bncheck" check "$dump" --format json --output "$work/report.json" 2> "$work/time.txt" || true
grep -E "Elapsed|Maximum resident" "$work/time.txt"
