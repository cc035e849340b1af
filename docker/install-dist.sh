#!/bin/sh
# The Dockerfile's build step after `mvn package`: installs this machine's Linux distribution
# archive (target/bncheck-<version>-linux-<arch>.tar.gz) at PREFIX and checks that it runs.
# DockerfileIT runs it too, since no Docker engine is needed for it.
# Usage: docker/install-dist.sh PREFIX
set -eu
cd "$(dirname "$0")/.."
prefix="$1"

case "$(uname -m)" in
  x86_64 | amd64) platform=linux-x86_64 ;;
  aarch64 | arm64) platform=linux-arm64 ;;
  *) echo "install-dist: no bncheck archive for $(uname -m)" >&2; exit 1 ;;
esac
set -- target/bncheck-*-"$platform".tar.gz
if [ "$#" -ne 1 ] || [ ! -f "$1" ]; then
  echo "install-dist: expected one target/bncheck-*-$platform.tar.gz (run mvn package first)" >&2
  exit 1
fi

mkdir -p "$prefix"
tar -xzf "$1" -C "$prefix" --strip-components=1 --no-same-owner
rm -f "$prefix/bin/bncheck.cmd"
"$prefix/bin/bncheck" --version
