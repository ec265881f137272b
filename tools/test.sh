#!/usr/bin/env bash
# The whole test suite (what .ci/run runs): set up and build if needed, then every CTest test.
# Labels: cpu, golden (PyTorch fixtures), cuda (skips, saying so, without a GPU), slow. Pass e.g. `-L golden`.
set -euo pipefail
cd "$(dirname "$0")/.."
# Idle OpenMP threads sleep instead of spinning: on a shared or small machine, spinning threads steal the cores
# the working ones need (measured: a training step 2.8x slower on this 2-vCPU box). See bench/RESULTS.md.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
bash tools/setup.sh
ctest --test-dir build --output-on-failure -j "$(nproc)" "$@"
