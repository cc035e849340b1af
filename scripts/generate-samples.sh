#!/usr/bin/env bash
# Regenerates the JSON dumps in samples/ (deterministic: fixed seeds) and checks them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mvn -B -q test -Dtest=SamplesTest -Dbncheck.regenerate=true -Dsurefire.failIfNoSpecifiedTests=false
ls -l samples/
