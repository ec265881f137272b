#!/usr/bin/env bash
# The main job, for now: the engine core at the paper's shapes, timed on this machine. The BiMamba model,
# training and the spoken demo corpus build on this core and take this command over when they land.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/bench/bench_selective_scan ] || bash tools/setup.sh
echo "==> linear [15000 x 1024] x [1024 x 256], forward + backward, against plain OpenBLAS sgemm"
build/bench/bench_linear
echo "==> selective scan forward + backward at T 14,776, E 512, N 16 (one conversation of the paper's mean length)"
build/bench/bench_selective_scan
