#!/usr/bin/env python3
"""Measures bncheck's verdicts on the project's own healthy and broken models across calibration-set
sizes and sample orders, and writes the table into docs/findings.md (between the verdict-rates
markers).

Each cell runs `bin/bncheck check MODEL --inputs DATA` on a calibration set of that size drawn
from the model's held-out data (fixed seed), in one of three arrangements:
  shuffled        the samples in random order (default batching)
  sorted          the same samples sorted by class (default batching: bncheck shuffles them)
  sorted, file    sorted by class and --batch-order file: each batch holds one or two classes

Sizes beyond the held-out pool are drawn with replacement; bncheck counts repeated samples once,
so such a cell judges about as many distinct samples as the pool holds.

    scripts/measure_verdicts.py            # about 5 minutes on 2 cores; rewrites the table
    scripts/measure_verdicts.py --print    # prints the table only

Needs numpy and a built bncheck (bin/bncheck builds it on first use). BNCHECK_JAR=path runs that
jar (with its lib/ folder beside it) instead of bin/bncheck, so that editing the sources meanwhile
does not rebuild it mid-run.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZES = [16, 32, 64, 256, 1024]
ORDERS = ["shuffled", "sorted", "sorted, file"]
MISTAKES = "samples/tf-bn-mistakes"
TF1 = (f"{MISTAKES}/tf1-data/inputs.npy", f"{MISTAKES}/tf1-data/labels.npy")
KERAS = (f"{MISTAKES}/keras-data/inputs.npy", f"{MISTAKES}/keras-data/labels.npy")
TRANSFER = (f"{MISTAKES}/keras-data/transfer-inputs.npy", f"{MISTAKES}/keras-data/transfer-labels.npy")
CNN = ("samples/keras-cnn-inputs.npy", "samples/keras-cnn-labels.npy")

# (model, data, healthy?)
MODELS = [
    (f"{MISTAKES}/tf1-correct", TF1, True),
    (f"{MISTAKES}/keras-healthy", KERAS, True),
    ("samples/keras-cnn-trained", CNN, True),
    (f"{MISTAKES}/tf1-update-ops-not-run", TF1, False),
    (f"{MISTAKES}/tf1-no-control-deps", TF1, False),
    (f"{MISTAKES}/tf1-unshared-cond", TF1, False),
    (f"{MISTAKES}/tf1-stale-decay", TF1, False),
    (f"{MISTAKES}/tf1-training-true", TF1, False),
    (f"{MISTAKES}/keras-untrained", KERAS, False),
    (f"{MISTAKES}/keras-training-true", KERAS, False),
    (f"{MISTAKES}/keras-frozen-transfer", TRANSFER, False),
    ("samples/keras-cnn-untrained", CNN, False),
]

START = "<!-- verdict-rates:start -->"
END = "<!-- verdict-rates:end -->"


def draw(inputs, labels, size, order, seed):
    rng = np.random.default_rng(seed)
    pool = len(labels)
    index = rng.choice(pool, size, replace=size > pool)
    if order.startswith("sorted"):
        index = index[np.argsort(labels[index], kind="stable")]
    return inputs[index]


def run(model, data_file, order):
    launcher = (["java", "-jar", os.environ["BNCHECK_JAR"]] if os.environ.get("BNCHECK_JAR")
                else [os.path.join(ROOT, "bin", "bncheck")])
    command = launcher + ["check", model, "--inputs", data_file, "--format", "json", "-q"]
    if order == "sorted, file":
        command += ["--batch-order", "file"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)}: exit {done.returncode}\n{done.stderr}")
    report = json.loads(done.stdout)
    errors = sorted({f["code"] for f in report["findings"] if f["severity"] == "error" and not f.get("suppressed")})
    return done.returncode, errors


def measure():
    rows = []
    false_errors = misses = healthy_runs = broken_runs = 0
    with tempfile.TemporaryDirectory() as tmp:
        for model, (inputs_file, labels_file), healthy in MODELS:
            inputs = np.load(os.path.join(ROOT, inputs_file))
            labels = np.load(os.path.join(ROOT, labels_file))
            for order in ORDERS:
                cells = []
                for size in SIZES:
                    data_file = os.path.join(tmp, "data.npy")
                    np.save(data_file, draw(inputs, labels, size, order, seed=size))
                    code, errors = run(model, data_file, order)
                    cells.append("pass" if code == 0 else "fail " + "+".join(errors))
                    if healthy:
                        healthy_runs += 1
                        false_errors += code != 0
                    elif size >= 64:
                        broken_runs += 1
                        misses += code == 0
                name = model.split("/")[-1]
                rows.append(f"| `{name}` | {'healthy' if healthy else 'broken'} | {order} | " + " | ".join(cells) + " |")
    header = ("| model | kind | order | " + " | ".join(str(s) for s in SIZES) + " |\n"
              + "|---|---|---|" + "---|" * len(SIZES))
    summary = (f"False errors on healthy models: {false_errors} of {healthy_runs} runs. "
               f"Broken models missed at 64 samples or more: {misses} of {broken_runs} runs.")
    return header + "\n" + "\n".join(rows) + "\n\n" + summary + "\n"


def main():
    table = measure()
    if "--print" in sys.argv:
        print(table)
        return
    path = os.path.join(ROOT, "docs", "findings.md")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    start, end = text.index(START) + len(START), text.index(END)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(text[:start] + "\n" + table + text[end:])
    os.replace(path + ".tmp", path)
    print(table)


if __name__ == "__main__":
    main()
