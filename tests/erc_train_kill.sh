#!/usr/bin/env bash
# erc_train killed with SIGKILL at random moments and resumed: a second erc_train on the run directory is refused
# while one runs; after every kill each checkpoint on disk loads (erc_eval reads it with the strict safetensors
# reader); and the run, resumed after each kill until it completes, ends bit-identical to an uninterrupted one (its
# checkpoints, predictions and report byte for byte, its per-epoch log but for the timings). The kills fall at
# uniformly random moments of each resumed run, on average 1/KILLS of the uninterrupted run's time apart, so they
# land in every part of it: start-up, steps, evaluations, checkpoint writes.
# Usage: erc_train_kill.sh APPS_DIR WORK_DIR [KILLS [SEED]]
set -euo pipefail
apps=$1 work=$2 kills=${3:-10}
RANDOM=${4:-2026}
rm -rf "$work" && mkdir -p "$work"
"$apps/erc_synth" --out "$work/features.h5" --dialogues-per-session 2 --min-utterances 4 --max-utterances 8 \
  --mean-frames 20 --feature-dim 16 --dtype f32 > /dev/null 2>&1
args=(--features "$work/features.h5" --fold 1 --epochs 10 --d-model 16 --lr 1e-3 --seed 5 --quiet)
fail() { echo "FAIL: $*"; exit 1; }

start=$(date +%s%N)
"$apps/erc_train" "${args[@]}" --out "$work/whole" > "$work/whole.log" 2>&1 || { cat "$work/whole.log"; exit 1; }
run_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "uninterrupted run: ${run_ms} ms"

run=$work/killed
for ((i = 1; i <= kills; ++i)); do
  delay_ms=$(( (RANDOM * 32768 + RANDOM) % (2 * run_ms / kills) ))
  "$apps/erc_train" "${args[@]}" --resume --out "$run" > "$work/kill$i.log" 2>&1 &
  pid=$!
  if [ "$i" -eq 1 ]; then  # once it holds the run directory (config.json comes after the lock), a second is refused
    while [ ! -f "$run/config.json" ] && kill -0 "$pid" 2> /dev/null; do sleep 0.01; done
    if "$apps/erc_train" "${args[@]}" --resume --out "$run" > "$work/second.log" 2>&1; then
      fail "a second erc_train on $run was not refused"
    fi
    grep -q "is being written by process $pid" "$work/second.log" \
      || { cat "$work/second.log"; fail "no clear refusal"; }
  fi
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  if kill -9 "$pid" 2> /dev/null; then
    wait "$pid" 2> /dev/null || true
    epoch=$(grep -c '"type":"epoch"' "$run/metrics.jsonl" 2> /dev/null || true)
    echo "kill $i after ${delay_ms} ms (${epoch:-0} epochs logged)"
  else
    wait "$pid" || { cat "$work/kill$i.log"; fail "erc_train failed before kill $i"; }
    echo "kill $i after ${delay_ms} ms: the run had already finished"
  fi
  for which in last best; do
    [ -f "$run/$which.safetensors" ] || continue
    "$apps/erc_eval" --run "$run" --checkpoint "$which" --out "$work/eval$i" > "$work/eval$i.log" 2>&1 \
      || { cat "$work/eval$i.log"; fail "after kill $i, $which.safetensors does not load"; }
  done
done
"$apps/erc_train" "${args[@]}" --resume --out "$run" > "$work/final.log" 2>&1 || { cat "$work/final.log"; exit 1; }

for f in last.safetensors best.safetensors predictions.csv report.json; do
  cmp "$work/whole/$f" "$run/$f" || fail "$f differs from the uninterrupted run's"
done
untimed() { sed -E 's/"(frames_per_second|train_seconds)":[^,}]*,?//g' "$1/metrics.jsonl"; }
diff <(untimed "$work/whole") <(untimed "$run") || fail "metrics.jsonl differs from the uninterrupted run's"
echo "after $kills kills at random moments: every checkpoint loaded, and the resumed run is bit-identical"
