#!/usr/bin/env bash
# The whole test suite (what .ci/run runs), set up and built as needed:
#   1. build/       the CPU build, with the real CUDA backend compiled by nvcc for sm_90 where nvcc is installed:
#                   every CPU test (labels cpu, golden, slow), again under OPENBLAS_CORETYPE=Haswell ERC_CPU_ISA=avx2
#                   (what an AVX2-only machine runs), then the CUDA tests, which run on a GPU where one answers and
#                   skip, saying why, where none does;
#   2. build-asan/  everything again under AddressSanitizer + UndefinedBehaviorSanitizer (-DERC_SANITIZE=ON), built
#                   for the CUDA simulator (-DERC_CUDA=SIM): every CPU test, and every CUDA kernel on the simulator,
#                   under its memory checker, against its CPU reference (`ctest -L cuda`); any sanitizer report or
#                   checker finding fails its test;
#   3. build-sim/   the CUDA tests only, on the simulator without sanitizers: the CUDA suite again with every device
#                   transcendental at CUDA's documented ulp bound (ERC_SIM_MATH=ulp), then the mutation check on three
#                   kernel files (tools/mutate_kernels.py: the first mutant of each kind in each);
#   4. build-fuzz/  every fuzz target (fuzz/, libFuzzer) for 25 s from its seeds (tools/fuzz.sh).
# With arguments, runs `ctest` in build/ with them instead (e.g. `bash tools/test.sh -L golden`, `-R Gradcheck`).
# Labels: cpu, golden (PyTorch fixtures), cuda (the CUDA backend), slow (WavLM-Large's size). docs/TESTING.md.
set -euo pipefail
cd "$(dirname "$0")/.."
# Idle OpenMP threads sleep instead of spinning: on a shared or small machine, spinning threads steal the cores
# the working ones need (measured: a training step 2.8x slower on this 2-vCPU box). See bench/RESULTS.md.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
jobs=$(nproc)
bash tools/setup.sh
if [ $# -gt 0 ]; then
  ctest --test-dir build --output-on-failure -j "$jobs" "$@"
  exit
fi
echo "==> the CPU suite (build/)"
ctest --test-dir build --output-on-failure -j "$jobs" -LE cuda
# Again as an AVX2-only machine runs it: OpenBLAS's Haswell kernels and erc's AVX2 fast paths. Development and CI
# machines come with AVX-512 or with AVX2 only, and each proves here what the other kind will see (docs/TESTING.md).
if grep -qw avx2 /proc/cpuinfo; then
  echo "==> the CPU suite again with OpenBLAS's Haswell kernels and the AVX2 fast paths (build/)"
  OPENBLAS_CORETYPE=Haswell ERC_CPU_ISA=avx2 ctest --test-dir build --output-on-failure -j "$jobs" -LE cuda
fi
if [ -x build/tests/test_cuda_ops ]; then  # a CUDA build (nvcc was found)
  echo "==> the CUDA suite on the GPU (build/: skips, saying why, where no GPU answers)"
  ctest --test-dir build --output-on-failure -j "$jobs" -L cuda
fi
echo "==> every test under ASan + UBSan, the CUDA suite on the simulator (build-asan/)"
ERC_BUILD_DIR=build-asan ERC_CMAKE_ARGS="-DERC_SANITIZE=ON -DERC_CUDA=SIM -DERC_BUILD_BENCH=OFF -DCMAKE_CXX_FLAGS=-g1" \
  bash tools/setup.sh
# A sanitizer report ends the process with an error, so the test fails; leaks included.
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs"
echo "==> the CUDA suite with a GPU's math library at its error bounds, and the kernels' mutants (build-sim/)"
ERC_BUILD_DIR=build-sim ERC_CMAKE_ARGS="-DERC_CUDA=SIM -DERC_BUILD_BENCH=OFF" bash tools/setup.sh erc_cuda_tests
ERC_SIM_MATH=ulp ctest --test-dir build-sim --output-on-failure -j "$jobs" -L cuda
python3 tools/mutate_kernels.py --build build-sim --limit 1 ops/softmax.cu ops/block_reduce.cuh ops/layer_norm.cu
echo "==> fuzzing every parser (build-fuzz/)"
bash tools/fuzz.sh 25
