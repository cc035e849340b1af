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
if [ -f "$root/target/bncheck.jsa" ] && [ ! "$root/target/bncheck.jar" -nt "$root/target/bncheck.jsa" ]; then
  echo "class-data sharing archive: target/bncheck.jsa"
else
  echo "class-data sharing archive: none"
fi

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
# Rotating order within each round. The two direct java runs isolate the class-data sharing
# archive: the same JVM and jar, without the launcher, with and without target/bncheck.jsa.
names=("bin/bncheck inspect (50-layer dump)" "java -jar target/bncheck.jar inspect, with the CDS archive"
  "java -jar target/bncheck.jar inspect, without it" "java -version")
cds=(-XX:SharedArchiveFile="$root/target/bncheck.jsa" -Xlog:cds=off)
run() {
  case "$1" in
    0) "$root/bin/bncheck" inspect "$dump" > /dev/null || true ;;
    1) java -Xmx2g "${cds[@]}" -jar "$root/target/bncheck.jar" inspect "$dump" > /dev/null || true ;;
    2) java -Xmx2g -jar "$root/target/bncheck.jar" inspect "$dump" > /dev/null || true ;;
    3) java -version 2> /dev/null ;;
  esac
}
declare -A times
for ((r = 0; r < rounds; r++)); do
  for k in 0 1 2 3; do
    c=$(( (k + r) % 4 ))
    t=$(date +%s%N); run "$c"; times[$c,$r]=$(ms "$t")
  done
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
echo
echo "| command | wall ms median | wall ms min-max | vs java -version (median of per-round ratios) |"
echo "|---|---:|---:|---:|"
for c in 0 1 2 3; do
  values=(); ratios=()
  for ((r = 0; r < rounds; r++)); do
    values+=("${times[$c,$r]}")
    ratios+=("$(awk -v a="${times[$c,$r]}" -v b="${times[3,$r]}" 'BEGIN {printf "%.2f", a / b}')")
  done
  m=$(median "${values[@]}"); mr=$(median "${ratios[@]}")
  echo "| ${names[$c]} | $m | $(printf '%s\n' "${values[@]}" | sort -n | sed -n '1p;$p' | paste -sd-) | $mr |"
  if [ "$c" -eq 0 ]; then mi=$m; ri=$mr; fi
done
awk -v m="$mi" 'BEGIN {printf "target: inspect under 1500 ms wall: %s (%d ms)\n", (m < 1500 ? "met" : "MISSED"), m}'
awk -v r="$ri" 'BEGIN {printf "target: at most 8x java -version: %s (%.1fx)\n", (r <= 8 ? "met" : "MISSED"), r}'

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
