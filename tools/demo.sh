#!/usr/bin/env bash
# The main job, end to end, on a spoken demo corpus: speech in IEMOCAP's own layout (espeak-ng, generated here)
# -> features -> the BiMamba conversation model and the single-utterance baseline (train sessions 1-4, test
# session 5) -> the paper's Table 2 comparison beside the majority class, the per-conversation "atmosphere"
# analysis, and erc_predict on one held-out dialogue recording.
#
# Usage: bash tools/demo.sh [--wavlm PATH] [OUT_DIR]   (default OUT_DIR: demo_out/)
#   --wavlm PATH   WavLM-Large weights (a Hugging Face folder or file, e.g. a download of microsoft/wavlm-large):
#                  layer 21 features as in the paper. Without it: 80 log-mel bands (erc_extract --frontend fbank),
#                  the baseline input of speech-emotion toolkits, which carries the pitch, rate and loudness the
#                  corpus speaks its emotions with.
# It installs the Debian packages and builds the five programs it runs first (tools/setup.sh), so on a fresh machine
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
    -h|--help) sed -n 's/^# \{0,1\}//; 2,14p' "$0"; exit 0 ;;
    *) out=$1; shift ;;
  esac
done
start=$(date +%s)
bash tools/setup.sh erc_corpus erc_extract erc_train erc_eval erc_predict  # packages, then only these programs
mkdir -p "$out"
step() { echo; echo "==> $1  [$(( $(date +%s) - start )) s]"; }

step "1/6 demo corpus: 5 sessions x 12 two-speaker dialogues spoken by espeak-ng, IEMOCAP's layout ($out/corpus)"
build/apps/erc_corpus --out "$out/corpus" --seed 0 --dialogues-per-session 12 --jitter 0.5 --dominant-share 0.6-0.8

# Both models get the same epochs, learning rate and width. The paper's 128 utterances per step would give the
# single-utterance model 5 steps an epoch on this corpus's ~620 training utterances against the conversation
# model's 48 (one per dialogue); 16 per step gives it 39, about as many, so neither is starved of updates.
if [ -n "$wavlm" ]; then
  step "2/6 WavLM-Large layer-21 features from $wavlm"
  extract=(--wavlm "$wavlm" --layer 21)
  features="$out/features_wavlm_large.h5"
  predict_args=(--wavlm "$wavlm")
else
  step "2/6 features: 80 log-mel bands at 50 frames/s (erc_extract --frontend fbank; no --wavlm given)"
  extract=(--frontend fbank)
  features="$out/features_fbank.h5"
  predict_args=()
fi
train_args=(--fold 5 --epochs 16 --lr 2e-3 --d-model 64 --seed 0)
build/apps/erc_extract --corpus "iemocap:$out/corpus" "${extract[@]}" --out "$features"

step "3/6 conversation model: one whole conversation per step (train sessions 1-4, test session 5)"
rm -rf "$out/conversation" "$out/utterance" "$out/analysis" "$out/predict"
build/apps/erc_train --features "$features" "${train_args[@]}" --mode conversation --out "$out/conversation"
step "4/6 single-utterance baseline: 16 utterances per step, each on its own"
build/apps/erc_train --features "$features" "${train_args[@]}" --mode utterance --batch-size 16 --out "$out/utterance"
step "5/6 evaluation: Table 2 beside the majority class, and the atmosphere analysis"
build/apps/erc_eval --run "$out/conversation" --compare "$out/utterance" --out "$out/analysis"

# A held-out dialogue as one recording with its turns, as a diarizer would hand it over.
recording=$(ls "$out"/corpus/Session5/dialog/wav/*.wav | head -n 1)
dialogue=$(basename "$recording" .wav)
step "6/6 erc_predict on the held-out recording $dialogue (session 5) cut at its RTTM turns"
build/apps/erc_predict --run "$out/conversation" "${predict_args[@]}" --audio "$recording" \
  --segments "$out/corpus/Session5/dialog/rttm/$dialogue.rttm" --out "$out/predict"
echo
echo "Done in $(( $(date +%s) - start )) s. Everything is in $out/: corpus/ (the spoken corpus), $(basename "$features"),"
echo "conversation/ and utterance/ (run directories, docs/RUNS.md), analysis/ (report.json, predictions.csv,"
echo "atmosphere.csv, atmosphere.svg, confusion.svg, change.csv), predict/ (predictions.csv, predictions.json,"
echo "timeline_$dialogue.svg: open the .svg files in a browser)."
