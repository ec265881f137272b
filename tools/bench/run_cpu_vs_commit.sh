#!/usr/bin/env bash
# This tree against an earlier commit built beside it, on the same machine in the same run: the training step at
# the paper's mean length (bench/bench_train_step.cpp), the selective scan alone (bench/bench_selective_scan.cpp) and
# WavLM-Large to layer 21 on a 10 s clip (bench/bench_wavlm.cpp).
# The two builds take turns, round after round, so that a change in the machine's load (a shared VM) falls on both.
#
# Usage: tools/bench/run_cpu_vs_commit.sh [--commit C (31e7281, where the CPU speed work began)] [--frames T (14776)]
#                                          [--threads K (2)] [--rounds R (2)]
# The commit's sources go to build-vs/<commit>/src (git archive) and its build to build-vs/<commit>/build (Release,
# -DERC_CUDA=OFF, the same compiler and flags); this tree's build is ERC_BUILD_DIR (default build).
set -euo pipefail
cd "$(dirname "$0")/../.."
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}  # see tools/demo.sh: spinning idle threads starve small machines

commit=31e7281
frames=14776
threads=2
rounds=2
while [ $# -gt 0 ]; do
  case "$1" in
    --commit) commit=$2; shift 2 ;;
    --frames) frames=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) sed -n 's/^# Usage: //p' "$0" >&2; exit 2 ;;
  esac
done
git rev-parse --verify -q "$commit^{commit}" > /dev/null || { echo "no commit $commit in this repository" >&2; exit 2; }

build=${ERC_BUILD_DIR:-build}
targets=(bench_train_step bench_selective_scan bench_wavlm)
echo "==> building ${targets[*]} in $build/"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DERC_BUILD_BENCH=ON > /dev/null
cmake --build "$build" -j "$(nproc)" --target "${targets[@]}"

other=build-vs/$commit
if [ ! -x "$other/build/bench/bench_wavlm" ]; then
  echo "==> building $commit's ${targets[*]} in $other/build"
  rm -rf "$other/src"
  mkdir -p "$other/src"
  git archive "$commit" | tar -x -C "$other/src"
  cmake -S "$other/src" -B "$other/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DERC_CUDA=OFF -DERC_BUILD_BENCH=ON \
    > /dev/null
  cmake --build "$other/build" -j "$(nproc)" --target "${targets[@]}"
fi

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
for ((round = 1; round <= rounds; ++round)); do
  for side in base this; do
    dir=$build
    [ "$side" = base ] && dir=$other/build
    echo "==> round $round: $side ($dir), step at $frames frames, $threads threads"
    OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads "$dir/bench/bench_train_step" --frames "$frames" \
      --threads "$threads" --reps 1 | tee -a "$logs/step_$side"
    echo "==> round $round: $side, selective scan"
    OMP_NUM_THREADS=$threads "$dir/bench/bench_selective_scan" 3 | tee -a "$logs/scan_$side"
    echo "==> round $round: $side, WavLM-Large to layer 21 on 10 s"
    OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads "$dir/bench/bench_wavlm" --threads "$threads" --reps 1 \
      | tee -a "$logs/wavlm_$side"
  done
done

# The median of numbers, one per line; over the rounds, a step's RESULT field and a scan line's milliseconds.
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
step_ms() { sed -n "s/^RESULT .* $2=\([^ ]*\).*/\1/p" "$logs/step_$1" | median; }
wavlm_ms() { sed -n "s/^RESULT erc .* $2=\([^ ]*\).*/\1/p" "$logs/wavlm_$1" | median; }
scan_ms() { sed -n "s/^  $2 *\([0-9.]*\) ms$/\1/p" "$logs/scan_$1" | median; }
row() {
  printf "%-30s %12s %12s %9s\n" "$1" "$2" "$3" "$(awk -v a="$2" -v b="$3" 'BEGIN { printf "%.2fx", a / b }')"
}
this_commit=$(git rev-parse --short=12 HEAD)
[ -z "$(git status --porcelain --untracked-files=no)" ] || this_commit="$this_commit (with uncommitted changes)"
echo
echo "== this tree against $commit, median of $rounds rounds taken in turns"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), nproc $(nproc), CPU ISA for the fast paths:" \
     "${ERC_CPU_ISA:-the widest available}; load average $load_at_start at the start," \
     "$(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo "this tree: $this_commit, $(date -u +%Y-%m-%dT%H:%M:%SZ), $threads threads"
printf "%-30s %12s %12s %9s\n" "ms" "$commit" "this tree" "speed-up"
row "step at T = $frames: forward" "$(step_ms base forward_ms)" "$(step_ms this forward_ms)"
row "step: backward" "$(step_ms base backward_ms)" "$(step_ms this backward_ms)"
row "step: whole" "$(step_ms base total_ms)" "$(step_ms this total_ms)"
row "scan alone (T 14,776): forward" "$(scan_ms base forward)" "$(scan_ms this forward)"
row "scan alone: backward" "$(scan_ms base backward)" "$(scan_ms this backward)"
row "WavLM 10 s: whole" "$(wavlm_ms base total_ms)" "$(wavlm_ms this total_ms)"
row "WavLM: feature encoder" "$(wavlm_ms base encoder_ms)" "$(wavlm_ms this encoder_ms)"
row "WavLM: 21 blocks" "$(wavlm_ms base blocks_ms)" "$(wavlm_ms this blocks_ms)"
echo "peak RSS of the step, MiB: $commit $(step_ms base peak_rss_mib), this tree $(step_ms this peak_rss_mib)"
