#!/usr/bin/env bash
# A longer run of the fuzz and property suites than CI's bounded one: jqwik draws new random
# inputs on every run, so N runs explore N times as many (default 20; about a minute each).
# Usage: scripts/fuzz-long.sh [N]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs="${1:-20}"
for i in $(seq "$runs"); do
  echo "== fuzz run $i of $runs"
  mvn -B -q test -Dtest='*FuzzTest' -Dsurefire.failIfNoSpecifiedTests=false
done
echo "$runs fuzz runs passed"
