#!/usr/bin/env bash
# The main job, end to end, on a spoken demo corpus: speech in IEMOCAP's own layout (espeak-ng, generated here)
# -> WavLM features -> the BiMamba conversation model and the single-utterance baseline (train sessions 1-4, test
# session 5) -> the paper's Table 2 comparison and the per-conversation "atmosphere" analysis.
#
# Usage: bash tools/demo.sh [--wavlm PATH] [OUT_DIR]   (default OUT_DIR: demo_out/)
#   --wavlm PATH   WavLM-Large weights (a Hugging Face folder or file, e.g. a download of microsoft/wavlm-large):
#                  layer 21 features as in the paper. Without it: a seeded, randomly initialised small WavLM
#                  (tools/demo_wavlm.json), which shows the pipeline working but carries little emotion.
# It installs the Debian packages and builds the four programs it runs first (tools/setup.sh), so on a fresh machine
# it is the only command needed. Every step resumes or is skipped when its output is already complete; the run
# directories are made afresh.
set -euo pipefail
cd "$(dirname "$0")/.."
# Idle OpenMP threads sleep instead of spinning: on a shared or small machine, spinning threads steal the cores
# the working ones need (measured: a training step 2.8x slower on this 2-vCPU box). See bench/RESULTS.md.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}

wavlm=""
out=demo_out
while [ $# -gt 0 ]; do
  case "$1" in
    --wavlm) wavlm=$2; shift 2 ;;
    -h|--help) sed -n 's/^# \{0,1\}//; 2,10p' "$0"; exit 0 ;;
    *) out=$1; shift ;;
  esac
done
start=$(date +%s)
bash tools/setup.sh erc_corpus erc_extract erc_train erc_eval  # packages, then only these programs
mkdir -p "$out"
step() { echo; echo "==> $1  [$(( $(date +%s) - start )) s]"; }

step "1/5 demo corpus: 5 sessions x 12 two-speaker dialogues spoken by espeak-ng, IEMOCAP's layout ($out/corpus)"
build/apps/erc_corpus --out "$out/corpus" --seed 0 --dialogues-per-session 12 --jitter 0.5 --dominant-share 0.6-0.8

if [ -n "$wavlm" ]; then
  step "2/5 WavLM-Large layer-21 features from $wavlm"
  extract=(--wavlm "$wavlm" --layer 21)
  features="$out/features_wavlm_large.h5"
  train_args=(--fold 5 --epochs 20 --lr 1e-3 --d-model 64 --seed 0)
else
  step "2/5 features from a RANDOMLY INITIALISED small WavLM (no --wavlm given: a stand-in, not WavLM-Large)"
  extract=(--wavlm random:tools/demo_wavlm.json --seed 0 --layer 1)
  features="$out/features_random_wavlm.h5"
  train_args=(--fold 5 --epochs 12 --lr 2e-3 --d-model 64 --seed 0)
fi
build/apps/erc_extract --corpus "iemocap:$out/corpus" "${extract[@]}" --out "$features"

step "3/5 conversation model: one whole conversation per step (train sessions 1-4, test session 5)"
rm -rf "$out/conversation" "$out/utterance" "$out/analysis"
build/apps/erc_train --features "$features" "${train_args[@]}" --mode conversation --out "$out/conversation"
step "4/5 single-utterance baseline: 128 utterances per step, each on its own"
build/apps/erc_train --features "$features" "${train_args[@]}" --mode utterance --out "$out/utterance"
step "5/5 evaluation: Table 2 and the atmosphere analysis"
build/apps/erc_eval --run "$out/conversation" --compare "$out/utterance" --out "$out/analysis"
echo
echo "Done in $(( $(date +%s) - start )) s. Everything is in $out/: corpus/ (the spoken corpus), $(basename "$features"),"
echo "conversation/ and utterance/ (run directories, docs/RUNS.md), analysis/ (report.json, predictions.csv,"
echo "atmosphere.csv, atmosphere.png, change.csv)."
