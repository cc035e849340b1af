#!/usr/bin/env bash
# The shell step of the bncheck GitHub Action (action.yml). Runs bncheck on BNCHECK_MODEL with
# JUnit XML, Markdown and JSON reports in BNCHECK_REPORT_DIR, writes their paths and the exit code
# to $GITHUB_OUTPUT, appends the Markdown report to $GITHUB_STEP_SUMMARY, and exits with
# bncheck's exit code. Reads BNCHECK_DATA (one [NAME=]FILE per line) and BNCHECK_FAIL_ON;
# BNCHECK_LAUNCHER picks another launcher, such as an unpacked archive's bin/bncheck.
set -euo pipefail

if [ -z "${BNCHECK_MODEL:-}" ]; then
  echo "bncheck action: the model input is empty" >&2
  exit 2
fi
launcher="${BNCHECK_LAUNCHER:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/bin/bncheck}"
dir="${BNCHECK_REPORT_DIR:-bncheck-report}"
mkdir -p "$dir"

args=(check "$BNCHECK_MODEL" --fail-on "${BNCHECK_FAIL_ON:-error}"
  --report "junit=$dir/bncheck.xml" --report "markdown=$dir/bncheck.md" --report "json=$dir/bncheck.json")
while IFS= read -r line; do
  line="${line#"${line%%[![:space:]]*}"}"
  line="${line%"${line##*[![:space:]]}"}"
  [ -z "$line" ] || args+=(--inputs "$line")
done <<<"${BNCHECK_DATA:-}"

status=0
"$launcher" "${args[@]}" || status=$?

{
  echo "exit-code=$status"
  [ ! -f "$dir/bncheck.xml" ] || echo "junit=$dir/bncheck.xml"
  [ ! -f "$dir/bncheck.md" ] || echo "markdown=$dir/bncheck.md"
  [ ! -f "$dir/bncheck.json" ] || echo "json=$dir/bncheck.json"
} >>"${GITHUB_OUTPUT:-/dev/null}"
if [ -f "$dir/bncheck.md" ] && [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  cat "$dir/bncheck.md" >>"$GITHUB_STEP_SUMMARY"
fi
exit "$status"
