#!/usr/bin/env bash
# The whole test suite (what .ci/run runs): set up and build if needed, then every CTest test.
# Labels: cpu, golden (PyTorch fixtures), cuda (skips, saying so, without a GPU), slow. Pass e.g. `-L golden`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
ctest --test-dir build --output-on-failure -j "$(nproc)" "$@"
