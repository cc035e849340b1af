#!/usr/bin/env bash
# Trains and exports the TF1 BN-mistake SavedModels in samples/tf-bn-mistakes/tf1-* and writes the
# held-out data, measured accuracies and bncheck's verdicts to samples/tf-bn-mistakes/tf1-data/
# (byte-identical on every run: fixed seeds, gated updates, sorted protobuf maps; under a minute on 2 cores). Then checks them with Tf1MistakesTest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
mvn -B -q test -Dtest=Tf1MistakesGenerator -Dbncheck.regenerate=true -Dsurefire.failIfNoSpecifiedTests=false
mvn -B -q test -Dtest=Tf1MistakesTest -Dsurefire.failIfNoSpecifiedTests=false
cat samples/tf-bn-mistakes/tf1-data/README.md
du -sh samples/tf-bn-mistakes
