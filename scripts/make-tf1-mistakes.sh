#!/usr/bin/env bash
# Trains and exports the TF1 BN-mistake SavedModels in samples/tf-bn-mistakes/tf1-* and writes the
# held-out data, measured accuracies and bncheck's verdicts to samples/tf-bn-mistakes/tf1-data/
# (fixed seeds, gated updates, sorted protobuf maps; under a minute on 2 cores), then checks them
# with Tf1MistakesTest. On the CPU that made them the rewrite is byte-identical; on another one
# TensorFlow's kernels round differently (AVX-512 vs AVX2), so every checkpoint and some accuracies
# change a little: commit a rewrite only when the generator changed.
#
#   scripts/make-tf1-mistakes.sh --verify   retrains in a temporary folder, rewrites nothing, and
#                                           compares with the committed samples what holds on any
#                                           CPU (Tf1MistakesReproducibilityTest, SampleTolerances)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
if [ "${1:-}" = "--verify" ]; then
  exec mvn -B -q test -Dtest=Tf1MistakesReproducibilityTest -Dsurefire.failIfNoSpecifiedTests=false
fi
mvn -B -q test -Dtest=Tf1MistakesGenerator -Dbncheck.regenerate=true -Dsurefire.failIfNoSpecifiedTests=false
mvn -B -q test -Dtest=Tf1MistakesTest -Dsurefire.failIfNoSpecifiedTests=false
cat samples/tf-bn-mistakes/tf1-data/README.md
du -sh samples/tf-bn-mistakes
