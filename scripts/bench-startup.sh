#!/usr/bin/env bash
# Start-up: whole-process wall time of `bin/bncheck inspect` on a 50-layer JSON dump with no
# activations, beside `java -version`, in rotating rounds in the same run; then which classes a
# JSON-only run loads (-verbose:class), against `inspect` of a SavedModel (docs/performance.md).
# Usage: scripts/bench-startup.sh [ROUNDS]   (default 10; needs python3 to write the dump)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${1:-10}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dump="$work/static-50-layers.json"
python3 - "$dump" <<'PY'
import json, math, random, sys
random.seed(0)
layers = []
for l in range(50):
    c = [64, 128, 256, 512, 1024, 2048][l % 6]
    layers.append({"name": f"stage{l // 10}/block{l % 10}/bn", "channel_axis": -1, "epsilon": 1e-3,
                   "momentum": 0.99,
                   "gamma": [random.uniform(0.5, 1.5) for _ in range(c)],
                   "beta": [random.gauss(0, 0.1) for _ in range(c)],
                   "moving_mean": [random.gauss(0, 1) for _ in range(c)],
                   "moving_variance": [random.uniform(0.2, 3) for _ in range(c)]})
with open(sys.argv[1], "w") as f:
    json.dump({"format": "bncheck-dump", "version": 1, "source": {"framework": "keras", "model": "static-50"},
               "layers": layers}, f)
PY
echo "dump: 50 layers, $(wc -c < "$dump") bytes, no activations"
echo "nproc: $(nproc)"
lscpu | grep -m1 'Model name' || true
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
java -version 2>&1 | head -1
# The first call may build the jar; it is not timed.
"$root/bin/bncheck" inspect "$dump" > /dev/null || true

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
declare -a inspect_ms version_ms
for ((r = 0; r < rounds; r++)); do
  for k in 0 1; do
    if (( (k + r) % 2 == 0 )); then
      t=$(date +%s%N); "$root/bin/bncheck" inspect "$dump" > /dev/null || true; inspect_ms+=("$(ms "$t")")
    else
      t=$(date +%s%N); java -version 2> /dev/null; version_ms+=("$(ms "$t")")
    fi
  done
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
ratios=()
for ((r = 0; r < rounds; r++)); do
  ratios+=("$(awk -v a="${inspect_ms[$r]}" -v b="${version_ms[$r]}" 'BEGIN {printf "%.2f", a / b}')")
done
echo
echo "| command | wall ms median | wall ms min-max | vs java -version |"
echo "|---|---:|---:|---:|"
mi=$(median "${inspect_ms[@]}"); mv=$(median "${version_ms[@]}"); mr=$(median "${ratios[@]}")
echo "| bin/bncheck inspect (50-layer dump) | $mi | $(printf '%s\n' "${inspect_ms[@]}" | sort -n | sed -n '1p;$p' | paste -sd-) | $mr |"
echo "| java -version | $mv | $(printf '%s\n' "${version_ms[@]}" | sort -n | sed -n '1p;$p' | paste -sd-) | 1.00 |"
awk -v m="$mi" 'BEGIN {printf "target: inspect under 1500 ms wall: %s (%d ms)\n", (m < 1500 ? "met" : "MISSED"), m}'

/usr/bin/time -v "$root/bin/bncheck" inspect "$dump" > /dev/null 2> "$work/time.txt" || true
grep -E "Maximum resident" "$work/time.txt" | sed 's/^\s*/inspect of the dump: /'

echo
echo "Classes loaded (-verbose:class):"
count() { BNCHECK_JAVA_OPTS="-Xmx2g -verbose:class" "$root/bin/bncheck" inspect "$1" 2>&1 \
  | grep -E '^\[.*class,load' > "$work/classes.txt" || true
  printf '%s: %s classes in all, %s org.tensorflow, %s org.bytedeco (JavaCPP, loads native libraries), %s org.nd4j\n' "$2" \
    "$(wc -l < "$work/classes.txt")" "$(grep -c ' org\.tensorflow\.' "$work/classes.txt" || true)" \
    "$(grep -c ' org\.bytedeco\.' "$work/classes.txt" || true)" "$(grep -c ' org\.nd4j\.' "$work/classes.txt" || true)"; }
count "$dump" "inspect of the 50-layer dump"
count "$root/samples/keras-cnn-trained" "inspect of samples/keras-cnn-trained (SavedModel)"
