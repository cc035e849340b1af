#!/usr/bin/env bash
# End-to-end test of the BN exporters (bn_dump_pytorch.py, bn_dump_keras.py) against the
# bncheck CLI at bin/bncheck, which must be built first.
#
# Sets up a virtual environment with PyTorch and TensorFlow (Keras 3), then runs
# test_exporters.py: for each framework it trains a small conv net with BN, dumps it and
# expects a clean `bncheck check`, then dumps the same net untrained and expects BN001 on
# every BN layer. A framework that cannot be installed is reported as "SKIP: ..." and the
# other still runs. The last line is "N passed, N failed, N skipped"; the exit code is
# non-zero if any case failed.
#
# Environment:
#   BNCHECK_VENV            virtual environment to create or reuse
#                           (default: $HOME/.cache/bncheck/exporters-venv)
#   BNCHECK_PYTHON          interpreter that creates the environment (default: python3)
#   BNCHECK_PIP_INDEX_ARGS  pip's index options (default: the machine's local mirror,
#                           --index-url file:///opt/pypi/simple
#                           --extra-index-url file:///opt/pypi-more/simple).
#                           --index-url matters: without it pip also asks the public
#                           index, which is unreachable here and costs minutes of retries.
#   BNCHECK_CLI             CLI to test instead of bin/bncheck
#
# Usage: scripts/test_exporters.sh      (from any directory)

set -uo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${BNCHECK_VENV:-$HOME/.cache/bncheck/exporters-venv}"
python="${BNCHECK_PYTHON:-python3}"
read -r -a index_args <<< "${BNCHECK_PIP_INDEX_ARGS:---index-url file:///opt/pypi/simple --extra-index-url file:///opt/pypi-more/simple}"

# framework name (as test_exporters.py names it), module to import, pip requirements
frameworks=(
  "torch|torch|torch numpy"
  "tensorflow|tensorflow|tensorflow-cpu"
)

if [[ ! -x "$venv/bin/python" ]]; then
  echo "creating virtual environment $venv"
  mkdir -p "$(dirname "$venv")"
  if ! "$python" -m venv "$venv"; then
    for entry in "${frameworks[@]}"; do
      echo "SKIP: ${entry%%|*} not available (cannot create a virtual environment with $python)"
    done
    echo "0 passed, 0 failed, $((2 * ${#frameworks[@]})) skipped"
    exit 0
  fi
fi

for entry in "${frameworks[@]}"; do
  IFS='|' read -r name module requirements <<< "$entry"
  if "$venv/bin/python" -c "import $module" 2>/dev/null; then
    echo "$name: already installed in $venv"
    continue
  fi
  log="$venv/install-$name.log"
  echo "$name: installing $requirements from ${index_args[*]} (log: $log)"
  # shellcheck disable=SC2086  # requirements is a space-separated list
  if ! "$venv/bin/python" -m pip install "${index_args[@]}" $requirements >"$log" 2>&1; then
    echo "$name: pip install failed; last lines of $log:"
    tail -n 5 "$log"
  fi
done

# test_exporters.py reports a framework whose import fails as skipped.
exec "$venv/bin/python" "$script_dir/test_exporters.py"
