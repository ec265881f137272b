#!/usr/bin/env bash
# The main job, end to end on a built-in corpus: features -> conversation model and single-utterance baseline
# -> evaluation and the per-conversation "atmosphere" analysis. Until the spoken demo corpus and WavLM
# extraction land, the corpus is erc_synth's synthetic one (IEMOCAP's shape: 5 sessions, two-speaker dialogues,
# six emotions plus unlabelled utterances, a dominant emotion per conversation), at a size that trains in a few
# minutes on 2 CPU cores. Usage: bash tools/demo.sh [OUT_DIR] (default demo_out/).
set -euo pipefail
cd "$(dirname "$0")/.."
# Idle OpenMP threads sleep instead of spinning: on a shared or small machine, spinning threads steal the cores
# the working ones need (measured: a training step 2.8x slower on this 2-vCPU box). See bench/RESULTS.md.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
out=${1:-demo_out}
[ -x build/apps/erc_train ] || bash tools/setup.sh
mkdir -p "$out"
train_args=(--fold 5 --epochs 6 --lr 1e-3 --d-model 32 --seed 0)

echo "==> 1/4 synthetic feature cache (the stand-in for WavLM-Large layer-21 features)"
rm -f "$out/features.h5"
build/apps/erc_synth --out "$out/features.h5" --seed 0 --dialogues-per-session 6 --feature-dim 256 --mean-frames 20
echo "==> 2/4 conversation model: one whole conversation per step (train sessions 1-4, test session 5)"
rm -rf "$out/conversation" "$out/utterance"
build/apps/erc_train --features "$out/features.h5" "${train_args[@]}" --mode conversation --out "$out/conversation"
echo "==> 3/4 single-utterance baseline: 128 utterances per step, each on its own"
build/apps/erc_train --features "$out/features.h5" "${train_args[@]}" --mode utterance --out "$out/utterance"
echo "==> 4/4 evaluation and atmosphere analysis"
build/apps/erc_eval --run "$out/conversation" --compare "$out/utterance" --out "$out/analysis"
echo
echo "Everything is in $out/: features.h5, conversation/ and utterance/ (run directories, docs/RUNS.md),"
echo "analysis/ (report.json, predictions.csv, atmosphere.csv, atmosphere.png, change.csv)."
