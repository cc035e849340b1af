#!/usr/bin/env bash
# JSON dump loading: bncheck's dump reader against Jackson's own token scan of the same files, on
# a dump of number arrays and a dump of base64 activations (about 150 MB each, generated on the
# first run) (docs/performance.md). Installs bncheck, builds bench/ and runs
# dev.bncheck.bench.DumpBench; arguments go to it (--rounds N, --warmup N, --work DIR; the work
# directory defaults to bench/target/work, which git ignores). A few minutes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [ -z "${BNCHECK_BENCH_SKIP_BUILD:-}" ]; then
  mvn -B -q -Dmaven.test.skip=true -Dbncheck.dist.host.skip=true install
  mvn -B -q -f bench/pom.xml package
fi
echo "nproc: $(nproc)"
lscpu | grep -m1 'Model name' || true
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
java -Xmx2g -cp "bench/target/bncheck-bench.jar:bench/target/lib/*" dev.bncheck.bench.DumpBench \
  --work bench/target/work "$@"
