#!/usr/bin/env bash
# `erc_train --device cuda` end to end, as a user runs it: a small synthetic corpus (erc_synth: 5 sessions of two
# dialogues, 16-d features) trained for two epochs on the device and on the CPU from one seed; every logged step loss
# of the device run within 1e-5 relative of the CPU run's (the bound docs/TESTING.md states), and the device run's
# config.json says cuda. CTest runs it in a CUDA or SIM build (label cuda), and marks it skipped where no GPU answers.
# Usage: erc_train_device.sh APPS_DIR WORK_DIR
set -euo pipefail
apps=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
"$apps/erc_synth" --out "$work/features.h5" --dialogues-per-session 2 --min-utterances 4 --max-utterances 8 \
  --mean-frames 10 --feature-dim 16 --dtype f32 > /dev/null 2>&1
args=(--features "$work/features.h5" --fold 1 --epochs 2 --d-model 16 --lr 1e-3 --seed 3 --log-every-step --quiet)
if ! "$apps/erc_train" "${args[@]}" --device cuda --out "$work/cuda" > "$work/cuda.log" 2>&1; then
  cat "$work/cuda.log"
  exit 1
fi
"$apps/erc_train" "${args[@]}" --device cpu --out "$work/cpu" > "$work/cpu.log" 2>&1
grep -q '"device": "cuda"' "$work/cuda/config.json" || { echo "config.json does not record the device"; exit 1; }
losses() { grep -o '"loss":[^,]*' "$1/metrics.jsonl" | cut -d: -f2; }
paste <(losses "$work/cpu") <(losses "$work/cuda") | awk '
  { n++; d = $1 - $2; if (d < 0) d = -d; a = $1 < 0 ? -$1 : $1
    if (d > 1e-5 * a) { printf "step %d: cpu %s, cuda %s\n", n, $1, $2; bad++ }
    if (a > 0 && d / a > largest) largest = d / a }
  END { if (n < 10) { print "only " n " step losses"; exit 1 }
        if (bad) exit 1; printf "%d step losses agree within 1e-5 (largest relative difference %.3g)\n", n, largest }'
