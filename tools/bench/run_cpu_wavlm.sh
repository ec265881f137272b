#!/usr/bin/env bash
# WavLM-Large forward up to layer 21 on a 10 s clip on the CPU, erc (bench/bench_wavlm.cpp) against Hugging Face
# transformers' WavLMModel (tools/bench/torch_wavlm.py) at the same thread count, as a table with torch time / erc
# time. Both count the same FLOP and time a plain GEMM of the FFN's shape in the same run, so each reports the
# fraction of the box's GEMM rate it reached.
#
# Usage: tools/bench/run_cpu_wavlm.sh [--threads K (nproc)] [--reps N (3)]
# Env: ERC_BUILD_DIR (default build), PYTHON (default python3).
set -euo pipefail
cd "$(dirname "$0")/../.."
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}  # see tools/demo.sh: spinning idle threads starve small machines

threads=$(nproc)
reps=3
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    *) sed -n 's/^# Usage: //p' "$0" >&2; exit 2 ;;
  esac
done

build=${ERC_BUILD_DIR:-build}
python=${PYTHON:-python3}

cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt" 2>/dev/null; }
if [ "$(cache_value CMAKE_BUILD_TYPE)" != Release ] || [ "$(cache_value ERC_BUILD_BENCH)" != ON ]; then
  echo "==> configuring $build/ (Release, benchmarks on)"
  generator=()
  [ -f "$build/CMakeCache.txt" ] || generator=(-G Ninja)
  cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DERC_BUILD_BENCH=ON > /dev/null
fi
echo "==> building bench_wavlm in $build/"
cmake --build "$build" --target bench_wavlm -j "$(nproc)"
bench="$build/bench/bench_wavlm"

have_torch=1
if ! "$python" -c "import torch, transformers" 2> /dev/null; then
  have_torch=0
  echo "==> PyTorch or transformers is missing for $python (pip install torch transformers): erc runs alone"
fi

load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
echo "==> erc, $threads threads"
OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads "$bench" --threads "$threads" --reps "$reps" | tee "$logs/erc"
if [ "$have_torch" = 1 ]; then
  echo "==> transformers, $threads threads"
  OMP_NUM_THREADS=$threads "$python" tools/bench/torch_wavlm.py --threads "$threads" --reps "$reps" | tee "$logs/torch"
fi

# The value of key $2 on the RESULT line of log $1 (empty when that run did not happen).
result() { [ -f "$logs/$1" ] && sed -n "s/^RESULT .* $2=\([^ ]*\).*/\1/p" "$logs/$1" || true; }
row() {
  local label=$1 key=$2 erc torch ratio=""
  erc=$(result erc "$key")
  torch=$(result torch "$key")
  if [ -n "$torch" ]; then
    # torch time / erc time is erc's speed-up; for rates and memory the quotient reads the other way round.
    case "$key" in
      gflop_per_s | sgemm_gflop_per_s | sgemm_fraction)
        ratio=$(awk -v a="$erc" -v b="$torch" 'BEGIN { printf "%.2fx", a / b }') ;;
      peak_rss_mib) ratio=$(awk -v a="$erc" -v b="$torch" 'BEGIN { printf "%.2fx less", b / a }') ;;
      *) ratio=$(awk -v a="$erc" -v b="$torch" 'BEGIN { printf "%.2fx", b / a }') ;;
    esac
  fi
  printf "%-26s %12s %12s %14s\n" "$label" "$erc" "${torch:-not run}" "$ratio"
}

commit=$(git rev-parse --short=12 HEAD 2> /dev/null || echo unknown)
[ -z "$(git status --porcelain --untracked-files=no 2> /dev/null)" ] || commit="$commit (with uncommitted changes)"
echo
echo "== WavLM-Large up to layer 21, one 10 s clip ($(result erc frames) frames), f32 forward on the CPU:" \
     "erc vs transformers (eager)"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), nproc $(nproc), load average $load_at_start at the" \
     "start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo "commit $commit, $(date -u +%Y-%m-%dT%H:%M:%SZ), $threads threads each, median of $reps after a warm-up;" \
     "$(result erc gflop) GFLOP per forward"
printf "%-26s %12s %12s %14s\n" "" "erc" "torch" "erc speed-up"
row "forward ms" total_ms
row "real-time factor" rtf
row "  feature encoder ms" encoder_ms
row "  projection + pos conv ms" projection_ms
row "  21 blocks ms" blocks_ms
row "    attention ms" attention_ms
row "    feed-forward ms" ffn_ms
row "GFLOP/s" gflop_per_s
row "plain GEMM GFLOP/s" sgemm_gflop_per_s
row "fraction of plain GEMM" sgemm_fraction
row "peak RSS MiB" peak_rss_mib
