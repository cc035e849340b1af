#!/usr/bin/env bash
# Benchmarks MomentsKernel against TensorFlow's FusedBatchNormV3 and a plain read of the same
# buffer (docs/performance.md). Installs bncheck into the local Maven repository, builds the
# bench/ module against it and runs it; arguments go to the benchmark (--rounds N, --warmup N,
# --sizes small,medium,large). Takes about a minute.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

mvn -B -q -Dmaven.test.skip=true -Dbncheck.dist.host.skip=true install
mvn -B -q -f bench/pom.xml package

echo "nproc: $(nproc)"
lscpu | grep -m1 'Model name' || true
grep -m1 MemTotal /proc/meminfo || true
# Other work on the machine changes the numbers; the load shows how much there was.
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# TensorFlow's log lines would interleave with the tables; two of them ignore the log level.
export TF_CPP_MIN_LOG_LEVEL=2
java -Xmx3g -cp "bench/target/bncheck-bench.jar:bench/target/lib/*" dev.bncheck.bench.MomentsBench "$@" \
  2> >(grep -v -e 'absl::InitializeLog' -e 'MLIR V1 optimization pass is not enabled' >&2)
