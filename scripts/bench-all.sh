#!/usr/bin/env bash
# Every benchmark of docs/performance.md in one run, in the order of its sections: the
# statistics kernels, JSON dump loading, start-up, and end to end on ResNet-50 (the issue's
# untrained model and the consistent one). About 10 minutes on a 2-core machine; the end-to-end
# part needs the Python environment of scripts/test_exporters.sh the first time, to generate the
# models (it says so and stops if that is missing). Each benchmark prints its own tables, with the
# machine and the load; figures are ratios against baselines measured in the same run.
# Usage: scripts/bench-all.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/bench.sh
BNCHECK_BENCH_SKIP_BUILD=1 scripts/bench-dump.sh
scripts/bench-startup.sh
BNCHECK_BENCH_SKIP_BUILD=1 scripts/bench-e2e.sh --model resnet50
BNCHECK_BENCH_SKIP_BUILD=1 scripts/bench-e2e.sh --model resnet50-calibrated
