#!/usr/bin/env bash
# What CI runs: the README's test command (`make test`), with the build type CI uses.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "ptbench CI: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(date -u +%FT%TZ)"
make test
# Score regression: every method, task family and backbone kind on the golden tiny models,
# checked against results/baselines/ci.json (`make ci-baseline` rewrites it).
make ci-regression
