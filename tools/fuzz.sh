#!/usr/bin/env bash
# Builds the fuzz targets (fuzz/: libFuzzer, clang, ASan + UBSan) into build-fuzz/ and runs each for a bounded time,
# starting from its seeds (fuzz/corpus/<target>/, replayed whole first, so a committed finding is rechecked on every
# run). A finding (a crash, a sanitizer report, a hang over 10 s, more than 2 GB, an exception other than
# erc::Error) stops that target, is saved as build-fuzz/findings/<target>-crash-*, and makes the script fail.
# Usage: bash tools/fuzz.sh [SECONDS_PER_TARGET [TARGET...]]   (default 25 s each, every target; CI runs this)
#   e.g. a night's run of one parser: bash tools/fuzz.sh 28800 fuzz_torch_pickle
#   ERC_FUZZ_SEED (default 1) seeds libFuzzer's mutations, so a run from the committed seeds retraces the same inputs
#   (CI's, give or take the machine's speed); 0 picks a fresh seed each run, for exploring.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-25}
shift || true
ERC_BUILD_DIR=build-fuzz ERC_EXTRA_PACKAGES="clang libclang-rt-14-dev libomp-dev" \
  ERC_CMAKE_ARGS="-DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_FLAGS=-gline-tables-only \
-DERC_BUILD_FUZZ=ON -DERC_CUDA=OFF -DERC_BUILD_TESTS=OFF -DERC_BUILD_BENCH=OFF" bash tools/setup.sh erc_fuzz_targets
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for seeds in fuzz/corpus/*/; do targets+=("$(basename "$seeds")"); done
fi
mkdir -p build-fuzz/findings
export UBSAN_OPTIONS=print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1
failed=()
for target in "${targets[@]}"; do
  work=build-fuzz/corpus/$target  # what this machine's runs found, kept between runs; the seeds stay as committed
  mkdir -p "$work"
  echo "==> $target: ${seconds} s"
  if build-fuzz/fuzz/"$target" -seed="${ERC_FUZZ_SEED:-1}" -max_total_time="$seconds" -timeout=10 \
       -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 -artifact_prefix="build-fuzz/findings/$target-" "$work" "fuzz/corpus/$target" \
       > "build-fuzz/$target.log" 2>&1; then
    awk '/^stat::number_of_executed_units/ { runs = $2 } /^stat::new_units_added/ { added = $2 }
         /^stat::peak_rss_mb/ { rss = $2 }
         END { printf "    %d inputs run, %d new ones kept, peak %d MB, no finding\n",
               runs, added, rss }' "build-fuzz/$target.log"
  else
    tail -n 60 "build-fuzz/$target.log"
    failed+=("$target")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found inputs that break: ${failed[*]}"
  echo "(saved in build-fuzz/findings/; make each a regression test: docs/TESTING.md)"
  exit 1
fi
echo "fuzzing: ${#targets[@]} targets, ${seconds} s each, no finding"
