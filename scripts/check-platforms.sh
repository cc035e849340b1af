#!/usr/bin/env bash
# Resolves bncheck's runtime dependencies for every platform it ships for (the natives of each are
# downloaded once into the local Maven repository), and prints the TensorFlow and JavaCPP natives
# each set holds. Exits non-zero if any platform's set does not resolve.
# Usage: scripts/check-platforms.sh [PLATFORM...]   (default: all four)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

maven=mvn
command -v mvn >/dev/null 2>&1 || maven=./mvnw
platforms=("$@")
[ ${#platforms[@]} -gt 0 ] || platforms=(linux-x86_64 linux-arm64 macosx-arm64 windows-x86_64)

failed=0
for platform in "${platforms[@]}"; do
  if out="$("$maven" -B dependency:resolve -DincludeScope=runtime -Dbncheck.platform="$platform" 2>&1)"; then
    natives="$(grep -oE "(tensorflow-core-native|javacpp):jar:$platform:[^:]+" <<<"$out" | sort -u | paste -sd' ')"
    echo "$platform: resolves ($natives)"
  else
    echo "$platform: does NOT resolve" >&2
    grep -E "ERROR" <<<"$out" | head -n 3 >&2
    failed=1
  fi
done
exit "$failed"
