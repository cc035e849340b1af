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

# Part 2 (needs the Python environment of scripts/test_exporters.sh, with tensorflow-cpu): a Keras
# SavedModel with 104 BN layers run on 1,000 calibration samples.
python="${BNCHECK_VENV:-$HOME/.cache/bncheck/exporters-venv}/bin/python"
if [ -x "$python" ]; then
  "$python" - "$work" <<'PY' 2>/dev/null
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np, keras
work = sys.argv[1]
keras.utils.set_random_seed(0)
x = inputs = keras.Input((32, 32, 8))
for i in range(52):
    x = keras.layers.Conv2D(8, 3, padding="same")(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.BatchNormalization()(x)
model = keras.Model(inputs, keras.layers.Dense(10)(keras.layers.GlobalAveragePooling2D()(x)))
model.export(os.path.join(work, "deep-104-bn"), verbose=False)
np.save(os.path.join(work, "deep-inputs.npy"), np.random.default_rng(0).normal(size=(1000, 32, 32, 8)).astype("float32"))
PY
  /usr/bin/time -v "$root/bin/bncheck" check "$work/deep-104-bn" --inputs "$work/deep-inputs.npy" --format json \
      --output "$work/deep-report.json" 2> "$work/time-deep.txt" || true
  grep -c '"name"' "$work/deep-report.json" | sed 's/^/report name fields: /'
  grep -E "Elapsed|Maximum resident" "$work/time-deep.txt"
else
  echo "skipped the SavedModel part: no Python environment with TensorFlow at $python"
fi
