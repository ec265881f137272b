#!/usr/bin/env bash
# The GPU run, the same every time: prepared here, where the Debian packages and the compilers are, and run on a lent
# GPU machine, which has CUDA but none of erc's Debian libraries and no internet. It must finish in a few minutes:
# device time comes in 15-minute slices.
#
#   bash tools/gpu_check.sh prepare          here: builds build-gpu/ (ERC_CUDA=ON, sm_90) and copies its CUDA tests
#                                            and the Debian libraries they load into build-gpu/bundle/ (~50 MB)
#   bash tools/gpu_check.sh run [LOG_DIR]    there, with build-gpu/bundle carried: the machine's description, then
#                                            every CUDA test (what `ctest -L cuda` runs; the binaries are run
#                                            directly, since ctest's files hold this machine's paths)
#
# run writes three files to LOG_DIR (default: $OUT, which the device tool brings back, else gpu_logs/):
# environment.txt (nvidia-smi, nvcc, the libraries the tests load), cuda_tests.log (every test's output) and
# summary.txt (one line per test binary), and exits non-zero when a test fails. Here, without a GPU, run checks the
# script itself: every CUDA test then skips, saying why.
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=build-gpu/bundle

prepare() {
  ERC_BUILD_DIR=build-gpu ERC_CMAKE_ARGS="-DERC_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DERC_BUILD_BENCH=OFF" \
    bash tools/setup.sh erc_cuda_tests
  rm -rf "$bundle"
  mkdir -p "$bundle/bin" "$bundle/lib"
  cp build-gpu/tests/test_cuda_* "$bundle/bin/"
  rm -f "$bundle"/bin/*.cmake
  # The shared libraries the tests load, but for glibc's, the C++ runtime's (the GPU machine's are newer) and CUDA's
  # (it brings its own CUDA 13).
  for bin in "$bundle"/bin/*; do ldd "$bin"; done | awk '$3 ~ /^\// {print $3}' | sort -u |
    grep -vE '/(libc|libm|libdl|libpthread|librt|ld-linux[^/]*|libstdc\+\+|libgcc_s|libcudart|libcublas|libcublasLt)\.so' |
    while read -r lib; do cp -L "$lib" "$bundle/lib/"; done
  du -sh "$bundle"
  echo "==> carry $bundle and run: bash tools/gpu_check.sh run"
}

run() {
  local logs=${1:-${OUT:-gpu_logs}}
  mkdir -p "$logs"
  [ -d "$bundle/bin" ] || { echo "no $bundle: run 'bash tools/gpu_check.sh prepare' first, here" >&2; exit 2; }
  # CUDA's libraries come from the machine: its toolkit, or the nvidia-* packages inside PyTorch's environment.
  local cuda_libs="" dir
  for dir in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib $(python3 -c 'import nvidia, os
for p in nvidia.__path__:
    for d in sorted(os.listdir(p)): print(os.path.join(p, d, "lib"))' 2>/dev/null); do
    [ -d "$dir" ] && cuda_libs+="$dir:"
  done
  local libs="$PWD/$bundle/lib:${cuda_libs}${LD_LIBRARY_PATH:-}"  # for the tests only, not for nvcc or nvidia-smi
  {
    echo "date: $(date -u +%FT%TZ)   commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    nvidia-smi 2>&1 || echo "nvidia-smi: not available"
    nvcc --version 2>&1 | tail -2 || echo "nvcc: not available"
    echo "LD_LIBRARY_PATH for the tests: $libs"
    LD_LIBRARY_PATH=$libs ldd "$bundle/bin/test_cuda_ops" 2>&1
  } > "$logs/environment.txt"
  : > "$logs/cuda_tests.log"
  : > "$logs/summary.txt"
  local failed=0 bin name status out
  out=$(mktemp)
  for bin in "$bundle"/bin/test_cuda_*; do
    name=$(basename "$bin")
    if LD_LIBRARY_PATH=$libs timeout 300 "$bin" > "$out" 2>&1; then status=ok; else status="FAILED (exit $?)"; failed=1; fi
    { echo "==> $name"; cat "$out"; } >> "$logs/cuda_tests.log"
    echo "$name: $status, $(grep -c '^\[       OK \].* ms)$' "$out") passed, $(grep -c '^\[  SKIPPED \].* ms)$' "$out") skipped" \
      >> "$logs/summary.txt"
  done
  rm -f "$out"
  cat "$logs/summary.txt"
  grep -m1 -o "no CUDA GPU answers.*" "$logs/cuda_tests.log" || true
  return $failed
}

case "${1:-}" in
  prepare) prepare ;;
  run) shift; run "$@" ;;
  *) sed -n 's/^# \{0,1\}//; 2,16p' "$0"; exit 2 ;;
esac
