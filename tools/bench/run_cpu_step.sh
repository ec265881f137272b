#!/usr/bin/env bash
# One ErcModel training step on the CPU, erc (bench/bench_train_step.cpp) against PyTorch eager
# (tools/bench/torch_train_step.py) at the same thread count, as a table with torch time / erc time.
#
# Usage: tools/bench/run_cpu_step.sh [--frames T (14776)] [--threads K (nproc)] [--reps N] [--torch-frames T2 (4000)]
# PyTorch's Python scan is impractical at the paper's length: every x[t] it reads has a backward that writes a zeroed
# copy of the whole [T, E] input, so its backward grows as T^2 (about 1 min per step at 4,000 frames on 2 cores, some
# 12 min at 14,776), and it keeps ~1.1 MiB per frame for backward (~17 GiB at 14,776). So torch runs on a shorter
# conversation (--torch-frames, lowered further if the memory available is short) and erc at both lengths: the ratio
# is taken where both ran. Env: ERC_BUILD_DIR (default build), PYTHON (default python3).
set -euo pipefail
cd "$(dirname "$0")/../.."
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}  # see tools/demo.sh: spinning idle threads starve small machines

frames=14776
threads=$(nproc)
reps=""
torch_frames=4000
while [ $# -gt 0 ]; do
  case "$1" in
    --frames) frames=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --torch-frames) torch_frames=$2; shift 2 ;;
    *) sed -n 's/^# Usage: //p' "$0" >&2; exit 2 ;;
  esac
done
reps_arg=()
[ -n "$reps" ] && reps_arg=(--reps "$reps")

build=${ERC_BUILD_DIR:-build}
python=${PYTHON:-python3}

cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt" 2>/dev/null; }
if [ "$(cache_value CMAKE_BUILD_TYPE)" != Release ] || [ "$(cache_value ERC_BUILD_BENCH)" != ON ]; then
  echo "==> configuring $build/ (Release, benchmarks on)"
  generator=()
  [ -f "$build/CMakeCache.txt" ] || generator=(-G Ninja)
  cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DERC_BUILD_BENCH=ON > /dev/null
fi
echo "==> building bench_train_step in $build/"
cmake --build "$build" --target bench_train_step -j "$(nproc)"
bench="$build/bench/bench_train_step"

have_torch=1
if ! "$python" -c "import torch, schedulefree" 2> /dev/null; then
  have_torch=0
  echo "==> PyTorch or schedulefree is missing for $python (pip install torch schedulefree): erc runs alone"
fi

[ "$torch_frames" -le "$frames" ] || torch_frames=$frames
available_mib=$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo)
needed_mib=$((600 + torch_frames * 4 / 3))
if [ "$have_torch" = 1 ] && [ "$needed_mib" -gt "$available_mib" ]; then
  fitting=$(( (available_mib * 6 / 10 - 600) * 3 / 4 / 1000 * 1000 ))
  [ "$fitting" -ge 1000 ] || fitting=1000
  echo "==> PyTorch eager at $torch_frames frames needs ~$((needed_mib / 1024)) GiB and $((available_mib / 1024))" \
       "GiB are available: it runs at $fitting frames"
  torch_frames=$fitting
fi

load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
echo "==> erc, $frames frames, $threads threads"
OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads "$bench" --frames "$frames" --threads "$threads" \
  "${reps_arg[@]}" | tee "$logs/erc"
if [ "$torch_frames" != "$frames" ]; then
  echo "==> erc, $torch_frames frames, $threads threads"
  OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads "$bench" --frames "$torch_frames" --threads "$threads" \
    "${reps_arg[@]}" | tee "$logs/erc_short"
else
  cp "$logs/erc" "$logs/erc_short"
fi
if [ "$have_torch" = 1 ]; then
  echo "==> PyTorch eager, $torch_frames frames, $threads threads"
  OMP_NUM_THREADS=$threads "$python" tools/bench/torch_train_step.py --frames "$torch_frames" --threads "$threads" \
    "${reps_arg[@]}" | tee "$logs/torch"
fi

# The value of key $2 on the RESULT line of log $1 (empty when that run did not happen).
result() { [ -f "$logs/$1" ] && sed -n "s/^RESULT .* $2=\([^ ]*\).*/\1/p" "$logs/$1" || true; }
row() {
  local label=$1 key=$2 erc torch ratio=""
  erc=$(result erc_short "$key")
  torch=$(result torch "$key")
  if [ -n "$torch" ]; then
    # torch time / erc time is erc's speed-up; for frames/s and memory the quotient reads the other way round.
    case "$key" in
      frames_per_s) ratio=$(awk -v a="$erc" -v b="$torch" 'BEGIN { printf "%.2fx", a / b }') ;;
      peak_rss_mib) ratio=$(awk -v a="$erc" -v b="$torch" 'BEGIN { printf "%.2fx less", b / a }') ;;
      *) ratio=$(awk -v a="$erc" -v b="$torch" 'BEGIN { printf "%.2fx", b / a }') ;;
    esac
  fi
  printf "%-22s %14s %14s %14s\n" "$label" "$erc" "${torch:-not run}" "$ratio"
}

commit=$(git rev-parse --short=12 HEAD 2> /dev/null || echo unknown)
[ -z "$(git status --porcelain --untracked-files=no 2> /dev/null)" ] || commit="$commit (with uncommitted changes)"
echo
echo "== one ErcModel training step on the CPU, f32: erc vs PyTorch eager (its scan a Python loop over time)"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), nproc $(nproc), load average $load_at_start at the" \
     "start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo "commit $commit, $(date -u +%Y-%m-%dT%H:%M:%SZ), $threads threads each"
printf "%-22s %14s %14s %14s\n" "T = $torch_frames frames" "erc" "torch" "erc speed-up"
row "forward + loss ms" forward_ms
row "backward ms" backward_ms
row "optimiser step ms" step_ms
row "whole step ms" total_ms
row "frames/s" frames_per_s
row "peak RSS MiB" peak_rss_mib
if [ "$torch_frames" != "$frames" ]; then
  echo "erc at T = $frames frames: whole step $(result erc total_ms) ms, $(result erc frames_per_s) frames/s," \
       "peak RSS $(result erc peak_rss_mib) MiB"
fi
