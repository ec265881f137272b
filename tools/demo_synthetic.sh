#!/usr/bin/env bash
# The training half of the main job on synthetic features (erc_synth: IEMOCAP's shape, 5 sessions of two-speaker
# dialogues, six emotions plus unlabelled utterances, a dominant emotion per conversation, and features that carry
# the emotion by construction): conversation model and single-utterance baseline -> evaluation and the
# "atmosphere" analysis, in about a minute on 2 CPU cores. It shows what conversation context buys when the
# features hold emotion, which random WavLM features (tools/demo.sh without --wavlm) do not.
# Usage: bash tools/demo_synthetic.sh [OUT_DIR] (default demo_synthetic_out/).
set -euo pipefail
cd "$(dirname "$0")/.."
# Idle OpenMP threads sleep instead of spinning: on a shared or small machine, spinning threads steal the cores
# the working ones need (measured: a training step 2.8x slower on this 2-vCPU box). See bench/RESULTS.md.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
out=${1:-demo_synthetic_out}
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
echo "analysis/ (report.json, predictions.csv, atmosphere.csv, atmosphere.svg, confusion.svg, change.csv)."
