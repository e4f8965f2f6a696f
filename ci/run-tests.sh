#!/usr/bin/env bash
# What CI runs: the README's test command (`make test`), with the build type CI uses.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "ptbench CI: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(date -u +%FT%TZ)"
make test
