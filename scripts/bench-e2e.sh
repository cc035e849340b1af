#!/usr/bin/env bash
# End to end: `bncheck check` on a ResNet-50-shaped Keras 3 SavedModel (53 BN layers, untrained
# weights) with 256 calibration samples at 224x224x3, beside a plain TensorFlow Java forward pass
# of the same batches through the same SavedModel's serving signature, in rotating rounds in the
# same run; wall time and peak RSS from /usr/bin/time -v (docs/performance.md). For an ONNX model,
# the baseline is a plain ONNX Runtime for Java forward pass with its default options, and a second
# one with one thread per processor as bncheck runs ONNX Runtime (its default thread count can be
# lower: one of two processors on some virtual machines).
# Needs the Python environment of scripts/test_exporters.sh (tensorflow-cpu, keras) to generate
# the model once, or for resnet50-onnx one with torch and onnx ($BNCHECK_ONNX_VENV,
# default $HOME/.cache/bncheck/onnx-venv); nothing generated is kept in the repository.
# Usage: scripts/bench-e2e.sh [--rounds N] [--samples N] [--work DIR]
#                             [--model resnet50|resnet50-calibrated|resnet50-onnx|plain53]
#                             [--training-view auto|always|never] [--isa avx2]
#   resnet50: untrained, moving statistics still 0/1: every layer is off (BN001), as a broken
#     model, so bncheck also runs its training view.
#   resnet50-calibrated: the same random weights with each BN layer's moving statistics set to
#     its training-mode statistics on 64 samples of the same distribution: a consistent model,
#     as the CI gate mostly sees.
#   resnet50-onnx: ResNet-50 (torchvision's layout, random weights) with each BN layer's running statistics
#     the average of its training-mode statistics on 64 samples of the same distribution, exported
#     with torch.onnx (TorchScript exporter, constant folding off so that the 53 BN nodes stay):
#     a consistent model, in NCHW.
#   plain53: a stand-in, 53 x (Conv2D 3x3, 32 filters, BN, ReLU) on 56x56x32 inputs.
#   --training-view goes to bncheck check (default auto); always measures the training view's cost.
#   --isa avx2 runs every process as on a CPU without AVX-512: the JIT held to AVX2
#     (-XX:UseAVX=2 in JAVA_TOOL_OPTIONS, which bin/bncheck's JVM takes beside its own options)
#     and TensorFlow's oneDNN kernels too (ONEDNN_MAX_CPU_ISA=AVX2; its other kernels are built
#     for AVX).
#   DIR (default bench/target/work, ignored by git) receives the model and the inputs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds=3
samples=256
kind=resnet50
training_view=auto
isa=
work="$root/bench/target/work"
usage="usage: scripts/bench-e2e.sh [--rounds N] [--samples N] [--work DIR] [--model resnet50|resnet50-calibrated|resnet50-onnx|plain53] [--training-view auto|always|never] [--isa avx2]"
refuse() { echo "scripts/bench-e2e.sh: $1; $usage" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds|--samples|--work|--model|--training-view|--isa) [ $# -ge 2 ] || refuse "$1 needs a value" ;;
    *) refuse "unknown option $1" ;;
  esac
  case "$1" in
    --rounds) rounds="$2" ;;
    --samples) samples="$2" ;;
    --work) work="$2" ;;
    --model) kind="$2" ;;
    --training-view) training_view="$2" ;;
    --isa) [ "$2" = avx2 ] || refuse "--isa takes avx2"
      isa=avx2; export JAVA_TOOL_OPTIONS="${JAVA_TOOL_OPTIONS:+$JAVA_TOOL_OPTIONS }-XX:UseAVX=2" ONEDNN_MAX_CPU_ISA=AVX2 ;;
  esac
  shift 2
done
[[ "$rounds" =~ ^[1-9][0-9]{0,3}$ ]] || refuse "--rounds $rounds: not a whole number from 1 to 9999"
[[ "$samples" =~ ^[1-9][0-9]{0,5}$ ]] || refuse "--samples $samples: not a whole number from 1 to 999999"
case "$kind" in resnet50|resnet50-calibrated|resnet50-onnx|plain53) ;; *) refuse "--model $kind: no such model" ;; esac
case "$training_view" in auto|always|never) ;; *) refuse "--training-view $training_view: auto, always or never" ;; esac
mkdir -p "$work"
model="$work/$kind-keras"
inputs="$work/${kind%-calibrated}-inputs-$samples.npy"
python="${BNCHECK_VENV:-$HOME/.cache/bncheck/exporters-venv}/bin/python"

if [ "$kind" = resnet50-onnx ]; then
  model="$work/resnet50.onnx"
  python="${BNCHECK_ONNX_VENV:-$HOME/.cache/bncheck/onnx-venv}/bin/python"
  if [ ! -f "$model" ] || [ ! -f "$inputs" ]; then
    [ -x "$python" ] || { echo "no Python environment with torch and onnx at $python" >&2; exit 3; }
    echo "generating $model and $inputs ..."
    "$python" - "$model" "$inputs" "$samples" <<'PY' 2>/dev/null
import os, sys
import numpy as np, torch
model_path, inputs, samples = sys.argv[1], sys.argv[2], int(sys.argv[3])
torch.manual_seed(0)
nn = torch.nn


class Bottleneck(nn.Module):
    def __init__(self, cin, width, stride):
        super().__init__()
        cout = 4 * width
        self.body = nn.Sequential(
            nn.Conv2d(cin, width, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
            nn.Conv2d(width, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
            nn.Conv2d(width, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.shortcut = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                         if stride != 1 or cin != cout else nn.Identity())

    def forward(self, x):
        return torch.relu(self.body(x) + self.shortcut(x))


def resnet50():
    """torchvision's ResNet-50 layout (v1.5: stride on the 3x3), written out: 53 BN layers."""
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for b in range(blocks):
            layers.append(Bottleneck(cin, width, stride if b == 0 else 1))
            cin = 4 * width
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 1000))


if not os.path.isfile(model_path):
    model = resnet50()
    # momentum None: a cumulative average, so that the running statistics are the average of the
    # training-mode statistics of the two batches
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.momentum = None
            module.reset_running_stats()
    calibration = torch.from_numpy(np.random.default_rng(1).normal(size=(64, 3, 224, 224)).astype("float32"))
    model.train()
    with torch.no_grad():
        for start in (0, 32):
            model(calibration[start:start + 32])
    model.eval()
    torch.onnx.export(model, (torch.zeros(2, 3, 224, 224),), model_path, dynamo=False, input_names=["x"],
                      output_names=["logits"], dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}},
                      do_constant_folding=False)
if not os.path.isfile(inputs):
    np.save(inputs, np.random.default_rng(0).normal(size=(samples, 3, 224, 224)).astype("float32"))
PY
  fi
elif [ ! -d "$model" ] || [ ! -f "$inputs" ]; then
  [ -x "$python" ] || { echo "no Python environment with TensorFlow at $python" >&2; exit 3; }
  echo "generating $model and $inputs ..."
  # TensorFlow 2.21's oneDNN kernels stopped the training-mode call with a floating-point
  # exception on AMD EPYC (AVX-512 BF16); the model they make is the same without them
  TF_ENABLE_ONEDNN_OPTS=0 "$python" - "$model" "$inputs" "$samples" "$kind" <<'PY' 2>/dev/null
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np, keras
model_dir, inputs, samples, kind = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
shape = (224, 224, 3) if kind.startswith("resnet50") else (56, 56, 32)
keras.utils.set_random_seed(0)
if not os.path.isdir(model_dir):
    # keras.applications.ResNet50 without downloaded weights: the 53 BN layers of ResNet-50
    # (moving statistics still 0 and 1, so bncheck reports BN001 on each: the work is the same).
    if kind.startswith("resnet50"):
        model = keras.applications.ResNet50(weights=None, input_shape=shape, classes=1000)
        if kind == "resnet50-calibrated":
            # momentum 0: one training-mode call leaves each layer's batch statistics as its
            # moving statistics
            bns = [l for l in model.layers if isinstance(l, keras.layers.BatchNormalization)]
            for bn in bns:
                bn.momentum = 0.0
            model(np.random.default_rng(1).normal(size=(64,) + shape).astype("float32"), training=True)
    else:
        x = inp = keras.Input(shape)
        for i in range(53):
            x = keras.layers.ReLU()(keras.layers.BatchNormalization()(keras.layers.Conv2D(32, 3, padding="same")(x)))
        model = keras.Model(inp, keras.layers.Dense(10)(keras.layers.GlobalAveragePooling2D()(x)))
    model.export(model_dir, verbose=False)
if not os.path.isfile(inputs):
    np.save(inputs, np.random.default_rng(0).normal(size=(samples,) + shape).astype("float32"))
PY
fi

if [ -z "${BNCHECK_BENCH_SKIP_BUILD:-}" ]; then
  # Maven's output (errors, and the colour resets it prints even when quiet) goes to stderr, so
  # that stdout holds the results alone.
  mvn -B -q -Dmaven.test.skip=true -Dbncheck.dist.host.skip=true install >&2
  mvn -B -q -f bench/pom.xml package >&2
fi

echo "nproc: $(nproc)"
lscpu | grep -m1 'Model name' || true
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
[ -n "$isa" ] && echo "instruction sets held to AVX2: java -XX:UseAVX=2, ONEDNN_MAX_CPU_ISA=AVX2"
if [ "$kind" = resnet50-onnx ]; then
  baseline=dev.bncheck.bench.OnnxForwardPass
  baseline_name="ONNX Runtime Java forward pass (load + batches, default optimizations)"
  echo "model: $kind (scripts/bench-e2e.sh), exported with torch.onnx; exit codes in the .time files"
else
  baseline=dev.bncheck.bench.ForwardPass
  baseline_name="TF Java forward pass (load + batches)"
  echo "model: $kind (scripts/bench-e2e.sh), exported with Keras 3 model.export; exit codes in the .time files"
fi
echo "inputs: $samples samples, float32, batch size 32 (bncheck's default) in both; check --training-view $training_view"
export TF_CPP_MIN_LOG_LEVEL=2
# oneDNN on in the forward pass too, as bin/bncheck runs TensorFlow: by itself TensorFlow turns it
# on only on CPUs with AVX-512 VNNI or the like, and both processes should run the same kernels.
export TF_ENABLE_ONEDNN_OPTS=1
cp="$root/bench/target/bncheck-bench.jar:$root/bench/target/lib/*"
run() {  # run NAME ROUND: one whole process under /usr/bin/time -v
  local out="$work/e2e-$1-$2"
  if [ "$1" = check ]; then
    /usr/bin/time -v "$root/bin/bncheck" check "$model" --inputs "$inputs" --training-view "$training_view" \
      --format json --output "$out.json" \
      > "$out.log" 2> "$out.time" || true
  else
    local flags=()
    [ "$1" = forward-cores ] && flags=(all-cores)
    /usr/bin/time -v java -Xmx2g -cp "$cp" "$baseline" "$model" "$inputs" 32 ${flags[@]+"${flags[@]}"} \
      > "$out.log" 2> "$out.time" || true
  fi
  local wall rss
  wall=$(grep 'Elapsed (wall clock)' "$out.time" | awk '{print $NF}' | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
  rss=$(grep 'Maximum resident' "$out.time" | awk '{print $NF}')
  echo "$1 round $2: ${wall} s wall, peak RSS $((rss / 1024)) MB; $(head -c 300 "$out.log" | tr '\n' ' ')"
  local status
  status=$(grep 'Exit status' "$out.time" | awk '{print $NF}')
  echo "$wall $((rss / 1024)) $status" > "$out.result"
}
baselines=(forward)
[ "$kind" = resnet50-onnx ] && baselines=(forward forward-cores)
for ((r = 0; r < rounds; r++)); do
  if (( r % 2 == 0 )); then
    run check "$r"; for b in "${baselines[@]}"; do run "$b" "$r"; done
  else
    for b in "${baselines[@]}"; do run "$b" "$r"; done; run check "$r"
  fi
done
target=1.5
[ "$kind" = resnet50-onnx ] && target=1.3
# the calibrated model's target holds for memory as well as time
[ "$kind" = resnet50-calibrated ] && target=1.2
python3 - "$work" "$rounds" "$baseline_name" "$target" "${baselines[@]}" <<'PY'
import statistics, sys
work, rounds, baseline_name, target = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
baselines = sys.argv[5:]
names = {"forward": baseline_name, "forward-cores": baseline_name.replace(")", ", one thread per processor)")}
res = {m: [tuple(map(float, open(f"{work}/e2e-{m}-{r}.result").read().split())) for r in range(rounds)]
       for m in ["check"] + baselines}
failed = [(m, r, int(x[2])) for m in res for r, x in enumerate(res[m]) if int(x[2]) not in (0, 1)]
if failed:
    print(f"FAILED runs (process, round, exit status): {failed}; no figures: see {work}/e2e-*.time")
    sys.exit(1)
ratios = {b: statistics.median(res["check"][r][0] / res[b][r][0] for r in range(rounds)) for b in baselines}
print()
print("| process | wall s median | wall s min-max | peak RSS MB median | check vs this |")
print("|---|---:|---:|---:|---:|")
for m in ["check"] + baselines:
    w = [x[0] for x in res[m]]
    print(f"| {'bncheck check' if m == 'check' else names[m]} | {statistics.median(w):.1f} | {min(w):.1f}-{max(w):.1f} | "
          f"{statistics.median(x[1] for x in res[m]):.0f} | {'' if m == 'check' else f'{ratios[m]:.2f}'} |")
for b in baselines:
    ratio = ratios[b]
    print(f"target: check at most {target}x {names[b]}: {'met' if ratio <= target else 'MISSED'} ({ratio:.2f}x)")
    # the median hides how far single rounds stray, which check's own spread decides
    rounds_ratios = ", ".join(f"{res['check'][r][0] / res[b][r][0]:.2f}" for r in range(rounds))
    print(f"time ratio of each round, in order: {rounds_ratios}")
    memory = statistics.median(res["check"][r][1] / res[b][r][1] for r in range(rounds))
    print(f"peak RSS: check {memory:.2f}x {names[b]}"
          + (f": {'met' if memory <= target else 'MISSED'} (target {target}x)" if target == 1.2 else ""))
PY
