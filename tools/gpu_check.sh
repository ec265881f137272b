#!/usr/bin/env bash
# The GPU run, the same every time: prepared here, where the Debian packages and the compilers are, and run on a lent
# GPU machine, which has CUDA but none of erc's Debian libraries and no internet. It must finish in a few minutes:
# device time comes in 15-minute slices.
#
#   bash tools/gpu_check.sh prepare          here: builds build-gpu/ (ERC_CUDA=ON, sm_90) and copies its CUDA tests,
#                                            erc_profile, erc_train, erc_synth and the Debian libraries they load
#                                            into build-gpu/bundle/,
#                                            with the mamba-ssm and causal-conv1d source distributions from PyPI
#   bash tools/gpu_check.sh run [LOG_DIR] [--mamba]
#                                            there, with build-gpu/bundle carried, in this order (what a short slot
#                                            must see first comes first): the machine's description and the driver's
#                                            version (CUDA 13 needs 580 or newer: with an older one every CUDA test
#                                            would skip, so that is a failure here); every CUDA test (what `ctest -L
#                                            cuda` runs; the binaries are run directly, since ctest's files hold this
#                                            machine's paths) with CUDA_LAUNCH_BLOCKING=1, so that a fault names its
#                                            launch; compute-sanitizer's initcheck and racecheck on the op registry's
#                                            kernels at T 13, where the machine has it; erc_profile at T 14,776 (FP32
#                                            and TF32, each with WavLM-Large's forward on a 10 s clip and a dialogue;
#                                            WavLM again with its GEMMs in bf16) and 26,684 (with and without --recompute-layers); then the references,
#                                            PyTorch eager, with mamba_ssm's official kernels only with --mamba
#                                            (building them for sm_90 takes up to ten minutes), and transformers'
#                                            WavLMModel in FP32, TF32 and bf16 (tools/bench/torch_cuda_wavlm.py)
#
# run writes to LOG_DIR (default: $OUT, which the device tool brings back, else gpu_logs/): environment.txt
# (nvidia-smi, nvcc, the libraries the tests load), cuda_tests.log (every test's output), sanitizer_*.log,
# summary.txt (one line per check and per timing), profile_*.txt and .json (erc_profile), mamba_build.log and
# torch_*.txt (the references). It exits non-zero when a check fails. Here, without a GPU, run checks the script
# itself: the driver check fails, every CUDA test skips, saying why, and the timings say there is no device.
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=build-gpu/bundle

prepare() {
  ERC_BUILD_DIR=build-gpu ERC_CMAKE_ARGS="-DERC_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DERC_BUILD_BENCH=OFF" \
    bash tools/setup.sh erc_cuda_tests
  rm -rf "$bundle"
  mkdir -p "$bundle/bin" "$bundle/lib"
  cp build-gpu/tests/test_cuda_* build-gpu/apps/erc_profile build-gpu/apps/erc_train build-gpu/apps/erc_synth \
    build-gpu/apps/erc_extract "$bundle/bin/"
  rm -f "$bundle"/bin/*.cmake
  # The shared libraries the tests load, but for glibc's, the C++ runtime's (the GPU machine's are newer) and CUDA's
  # (it brings its own CUDA 13).
  for bin in "$bundle"/bin/*; do ldd "$bin"; done | awk '$3 ~ /^\// {print $3}' | sort -u |
    grep -vE '/(libc|libm|libdl|libpthread|librt|ld-linux[^/]*|libstdc\+\+|libgcc_s|libcudart|libcublas|libcublasLt)\.so' |
    while read -r lib; do cp -L "$lib" "$bundle/lib/"; done
  # The reference's packages (the GPU machine has no internet): the newest source distributions of mamba-ssm and
  # causal-conv1d, to build there, and the pure-Python wheels of schedulefree and einops (mamba_ssm imports it).
  mkdir -p "$bundle/sdist"
  python3 - "$bundle/sdist" <<'PY'
import json, sys, urllib.request
for name, kind in (("mamba-ssm", "sdist"), ("causal-conv1d", "sdist"), ("schedulefree", "bdist_wheel"),
                   ("einops", "bdist_wheel")):
    info = json.load(urllib.request.urlopen(f"https://pypi.org/pypi/{name}/json"))
    file = next(f for f in info["urls"] if f["packagetype"] == kind)
    urllib.request.urlretrieve(file["url"], f"{sys.argv[1]}/{file['filename']}")
    print(f"{name} {info['info']['version']}: {file['filename']}")
PY
  du -sh "$bundle"
  echo "==> carry $bundle and run: bash tools/gpu_check.sh run"
}

run() {
  local logs=${OUT:-gpu_logs} mamba=0 arg
  for arg in "$@"; do
    if [ "$arg" = --mamba ]; then mamba=1; else logs=$arg; fi
  done
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
  local failed=0 bin name status out driver
  # The driver first: CUDA 13 needs 580 or newer, and below it every CUDA test skips ("no CUDA GPU answers").
  driver=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -1 || true)
  if [ -z "$driver" ]; then
    status="FAILED: no NVIDIA driver answers (nvidia-smi)"; failed=1
  elif [ "${driver%%.*}" -lt 580 ]; then
    status="FAILED: driver $driver; CUDA 13 needs 580 or newer, and every CUDA test would skip"; failed=1
  else
    status="ok, driver $driver"
  fi
  echo "driver: $status" >> "$logs/summary.txt"
  out=$(mktemp)
  for bin in "$bundle"/bin/test_cuda_*; do
    name=$(basename "$bin")
    # The tests that read the tree or run erc_extract find them here, wherever the tree was when they were built.
    if ERC_SOURCE_DIR=$PWD ERC_EXTRACT=$PWD/$bundle/bin/erc_extract CUDA_LAUNCH_BLOCKING=1 LD_LIBRARY_PATH=$libs \
         timeout 300 "$bin" > "$out" 2>&1; then status=ok
    else status="FAILED (exit $?)"; failed=1; fi
    # A test that skips for want of a GPU where a driver answers is a GPU the tests cannot use: a failure too.
    if [ -n "$driver" ] && grep -q 'no CUDA GPU answers' "$out"; then status="$status, NO GPU FOR THE TESTS"; failed=1; fi
    { echo "==> $name"; cat "$out"; } >> "$logs/cuda_tests.log"
    echo "$name: $status, $(grep -c '^\[       OK \].* ms)$' "$out") passed, $(grep -c '^\[  SKIPPED \].* ms)$' "$out") skipped" \
      >> "$logs/summary.txt"
  done
  rm -f "$out"
  grep -m1 -o "no CUDA GPU answers.*" "$logs/cuda_tests.log" || true

  # NVIDIA's own checkers on the kernels of the op registry's cases at T 13 (the simulator runs them on every case).
  local sanitizer tool
  sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null || true)
  for tool in initcheck racecheck; do
    if [ -z "$sanitizer" ]; then
      echo "compute-sanitizer $tool: not on this machine" >> "$logs/summary.txt"
      continue
    fi
    if LD_LIBRARY_PATH=$libs timeout 150 "$sanitizer" --tool "$tool" --error-exitcode 3 \
         "$bundle/bin/test_cuda_ops" --gtest_filter='Registry/CpuAgainstCuda.*_T13*' > "$logs/sanitizer_$tool.log" 2>&1
    then status=ok; else status="FAILED (exit $?)"; failed=1; fi
    echo "compute-sanitizer $tool: $status, $(grep -m1 -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$logs/sanitizer_$tool.log" || true)" \
      >> "$logs/summary.txt"
  done
  # erc_train --device cuda end to end against the CPU run (tests/erc_train_device.sh, as ctest runs it).
  if LD_LIBRARY_PATH=$libs timeout 120 bash tests/erc_train_device.sh "$bundle/bin" "$logs/erc_train_device" \
       > "$logs/erc_train_device.txt" 2>&1; then status=ok
  elif grep -q "no CUDA device answers" "$logs/erc_train_device.txt"; then status="skipped (no GPU answers)"
  else status=FAILED; failed=1; fi
  echo "erc_train_device.sh: $status, $(tail -1 "$logs/erc_train_device.txt")" >> "$logs/summary.txt"

  # erc's kernels at the paper's shapes, and the whole step at the longest conversation (its peak memory).
  local name_args
  for name_args in "profile_fp32:--frames 14776" "profile_tf32:--frames 14776 --tf32" \
                   "profile_wavlm_bf16:--frames 14776 --step-only --tf32 --wavlm-bf16" \
                   "profile_26684:--frames 26684 --step-only --tf32 --no-wavlm" \
                   "profile_26684_recompute:--frames 26684 --step-only --tf32 --recompute-layers --no-wavlm"; do
    name=${name_args%%:*}
    # shellcheck disable=SC2086
    if LD_LIBRARY_PATH=$libs timeout 240 "$bundle/bin/erc_profile" --device cuda ${name_args#*:} \
         --json "$logs/$name.json" > "$logs/$name.txt" 2>&1; then status=ok
    else status="FAILED (exit $?): $(grep -m1 '^erc_profile: [^r]' "$logs/$name.txt" || true)"; fi
    echo "erc_profile ${name_args#*:}: $status, $(grep -E '^(training step|launches per step|WavLM to layer)' "$logs/$name.txt" | tr '\n' ' ' || true)" \
      >> "$logs/summary.txt"
  done

  # The reference: PyTorch eager at equal precision (FP32, then TF32), with mamba_ssm's official scan (and
  # causal-conv1d) built for sm_90 when asked (--mamba): the build is capped, but takes most of a slice.
  local site="$PWD/build-gpu/reference" sdist
  mkdir -p "$site"
  : > "$logs/mamba_build.log"
  local wheel
  for wheel in schedulefree einops; do
    python3 -c "import $wheel" 2>/dev/null || python3 -m pip install --no-deps --no-index --target "$site" \
      "$bundle"/sdist/$wheel-*.whl >> "$logs/mamba_build.log" 2>&1 || echo "no $wheel" >> "$logs/mamba_build.log"
  done
  for sdist in "$bundle"/sdist/causal_conv1d-*.tar.gz "$bundle"/sdist/mamba_ssm-*.tar.gz; do
    [ -f "$sdist" ] && [ $mamba = 1 ] || continue
    MAMBA_FORCE_BUILD=TRUE CAUSAL_CONV1D_FORCE_BUILD=TRUE MAMBA_KEEP_CUDA_BUILD=TRUE TORCH_CUDA_ARCH_LIST=9.0 \
      MAX_JOBS=16 timeout 300 python3 -m pip install --no-deps --no-build-isolation --no-index --target "$site" \
      "$sdist" >> "$logs/mamba_build.log" 2>&1 || echo "build of $(basename "$sdist") failed or ran out of time" \
      >> "$logs/mamba_build.log"
  done
  local precision
  for precision in fp32 tf32; do
    PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}" timeout 240 python3 tools/bench/torch_cuda_train_step.py \
      --frames 14776 $([ $precision = tf32 ] && echo --tf32) > "$logs/torch_$precision.txt" 2>&1 || true
    echo "reference $precision: $(grep -m1 '^RESULT' "$logs/torch_$precision.txt" || tail -1 "$logs/torch_$precision.txt")" \
      >> "$logs/summary.txt"
  done
  # WavLM's reference: transformers' WavLMModel to layer 21 on the same GPU, at each precision erc_extract offers
  # (erc's own WavLM timings are in the profile_* logs above).
  for precision in fp32 tf32 bf16; do
    timeout 240 python3 tools/bench/torch_cuda_wavlm.py --precision $precision > "$logs/torch_wavlm_$precision.txt" 2>&1 \
      || true
    echo "reference WavLM $precision: $(grep '^RESULT' "$logs/torch_wavlm_$precision.txt" | tr '\n' ' ' || tail -1 "$logs/torch_wavlm_$precision.txt")" \
      >> "$logs/summary.txt"
  done
  cat "$logs/summary.txt"
  return $failed
}

case "${1:-}" in
  prepare) prepare ;;
  run) shift; run "$@" ;;
  *) sed -n '2,/^set -euo/{/^set/d; s/^# \{0,1\}//; p}' "$0"; exit 2 ;;
esac
