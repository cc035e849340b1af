#!/usr/bin/env bash
# Benchmarks MomentsKernel against TensorFlow's FusedBatchNormV3 and a plain read of the same
# buffer (docs/performance.md). Installs bncheck into the local Maven repository, builds the
# bench/ module against it and runs it; arguments go to the benchmark (--rounds N, --warmup N,
# --sizes small,medium,large). Takes about a minute.
# --isa avx2 runs as on a CPU without AVX-512: the JIT held to AVX2 (-XX:UseAVX=2) and
# TensorFlow's oneDNN kernels too (ONEDNN_MAX_CPU_ISA=AVX2).
set -euo pipefail
java_isa=()
bench_args=()
# The benchmark checks its own options; an option's value is passed on with it, whatever it is.
while [ $# -gt 0 ]; do
  case "$1" in
    --isa)
      [ "${2:-}" = avx2 ] || { echo "scripts/bench.sh: --isa takes avx2; usage: scripts/bench.sh [--isa avx2] [--rounds N] [--warmup N] [--sizes small,medium,large]" >&2; exit 2; }
      java_isa=(-XX:UseAVX=2)
      export ONEDNN_MAX_CPU_ISA=AVX2
      shift 2 ;;
    --rounds|--warmup|--sizes)
      bench_args+=("$1" ${2+"$2"})
      shift $(( $# >= 2 ? 2 : 1 )) ;;
    *)
      bench_args+=("$1")
      shift ;;
  esac
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# Maven's output (errors, and the colour resets it prints even when quiet) goes to stderr, so
# that stdout holds the results alone.
mvn -B -q -Dmaven.test.skip=true -Dbncheck.dist.host.skip=true install >&2
mvn -B -q -f bench/pom.xml package >&2

echo "nproc: $(nproc)"
lscpu | grep -m1 'Model name' || true
grep -m1 MemTotal /proc/meminfo || true
# The kernel's vectorized loops run as wide as the CPU's vectors allow (and the JIT's MaxVectorSize).
if [ -r /proc/cpuinfo ]; then
  echo "vector extensions: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' \
    | grep -x -E 'sse4_2|avx|avx2|fma|avx512[a-z0-9_]*' | tr '\n' ' ')"
elif command -v sysctl >/dev/null; then
  echo "vector extensions: $(sysctl -n machdep.cpu.features machdep.cpu.leaf7_features 2>/dev/null | tr ' ' '\n' \
    | grep -x -E 'SSE4\.2|AVX1\.0|AVX2|FMA|AVX512[A-Z0-9_]*' | tr '\n' ' ')$( [ "$(sysctl -n hw.optional.neon 2>/dev/null)" = 1 ] && echo neon)"
fi
java ${java_isa[@]+"${java_isa[@]}"} -XX:+PrintFlagsFinal -version 2>/dev/null | awk '$2 == "MaxVectorSize" || $2 == "UseAVX" {printf "JIT %s = %s\n", $2, $4}'
[ ${#java_isa[@]} -gt 0 ] && echo "instruction sets held to AVX2: java -XX:UseAVX=2, ONEDNN_MAX_CPU_ISA=AVX2"
# Other work on the machine changes the numbers; the load shows how much there was.
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# TensorFlow's log lines would interleave with the tables; two of them ignore the log level.
export TF_CPP_MIN_LOG_LEVEL=2
# oneDNN on, as bin/bncheck runs TensorFlow: by itself TensorFlow turns it on only on CPUs with
# AVX-512 VNNI or the like, and without it FusedBatchNormV3 is several times slower.
export TF_ENABLE_ONEDNN_OPTS=1
# The Vector API module, as the launchers add it: the kernel widens floats on it when present.
java ${java_isa[@]+"${java_isa[@]}"} -Xmx3g --add-modules jdk.incubator.vector -cp "bench/target/bncheck-bench.jar:bench/target/lib/*" dev.bncheck.bench.MomentsBench ${bench_args[@]+"${bench_args[@]}"} \
  2> >(grep -v -e 'absl::InitializeLog' -e 'MLIR V1 optimization pass is not enabled' -e 'Using incubator modules: jdk.incubator.vector' >&2)
