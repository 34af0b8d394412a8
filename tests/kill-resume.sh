#!/usr/bin/env bash
# Kills training with SIGKILL at three random moments, resumes each time, and checks that the final weights and
# history equal those of an uninterrupted run. Uses the committed 600-image MNIST slice, so it needs no network.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$repo/latent" models >/dev/null          # builds the CLI when needed
dll="$repo/src/LatentLab.Cli/bin/Release/net10.0/latent.dll"
epochs=12
args=(train --model vae_2d --epochs "$epochs" --batch-size 32 --seed 7 --threads 2 --iwae-k 0
      --data-dir "$repo/tests/LatentLab.Tests/Fixtures/mnist-600")

start=$(date +%s.%N)
dotnet "$dll" "${args[@]}" --out "$work/uninterrupted" >"$work/uninterrupted.log" 2>&1
duration=$(echo "$(date +%s.%N) - $start" | bc)
echo "uninterrupted run: $(printf '%.1f' "$duration") s"

history() { (tail -n +2 "$work/killed/mnist/vae_2d/history.csv" 2>/dev/null || true) | wc -l; }
epoch_seconds=$(awk -v d="$duration" -v n=$epochs 'BEGIN { printf "%.3f", (d - 1) / n }')
for attempt in 1 2 3; do
  # Each kill lands mid-training: wait until a randomly chosen number of epochs is in history.csv (leaving
  # epochs for the kills still to come), then a random part of one epoch more, then SIGKILL.
  saved=$(history)
  room=$((epochs - saved - (4 - attempt)))
  target=$((saved + RANDOM % (room > 0 ? room : 1)))
  fraction=$(awk -v e="$epoch_seconds" -v r="$RANDOM" 'BEGIN { printf "%.2f", e * r / 32768 }')
  dotnet "$dll" "${args[@]}" --out "$work/killed" --resume >"$work/killed-$attempt.log" 2>&1 &
  pid=$!
  started=$(date +%s.%N)
  while kill -0 "$pid" 2>/dev/null && [ "$(history)" -lt "$target" ]; do sleep 0.02; done
  # With no epoch to wait for, start-up (about a second) comes first.
  [ "$target" -eq "$saved" ] && sleep 1
  sleep "$fraction"
  moment=$(printf '%.2f' "$(echo "$(date +%s.%N) - $started" | bc)")
  if kill -9 "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null || true
    echo "kill $attempt: SIGKILL after ${moment} s, aimed at epoch $((target + 1)); $(history) epoch(s) in history.csv; $(grep -o 'resuming after epoch [0-9]*[^;]*\|no checkpoint[^;]*' "$work/killed-$attempt.log" | head -1 || echo 'killed during start-up')"
  else
    wait "$pid" || true
    echo "kill $attempt: the run had already finished after ${moment} s"
  fi
done
dotnet "$dll" "${args[@]}" --out "$work/killed" --resume >"$work/final.log" 2>&1
echo "final resume: $(grep -o 'resuming after epoch [0-9]*[^;]*\|no checkpoint[^;]*' "$work/final.log" | head -1 || echo 'nothing to resume')"

a="$work/uninterrupted/mnist/vae_2d"
b="$work/killed/mnist/vae_2d"
status=0
if cmp -s "$a/model.safetensors" "$b/model.safetensors"; then
  echo "model.safetensors: identical ($(sha256sum <"$b/model.safetensors" | cut -c1-16)...)"
else
  echo "model.safetensors: DIFFERENT"; status=1
fi
# history.csv without the seconds column, which is wall-clock time.
if diff <(cut -d, -f1-5 "$a/history.csv") <(cut -d, -f1-5 "$b/history.csv") >/dev/null; then
  echo "history.csv (losses of all $(($(wc -l <"$b/history.csv") - 1)) epochs): identical"
else
  echo "history.csv: DIFFERENT"; status=1
fi
leftovers=$(find "$b" -name '*.tmp' | wc -l)
if [ "$leftovers" -ne 0 ]; then echo "temporary files left in the run folder: $leftovers"; status=1; fi
[ "$status" -eq 0 ] && echo "kill-resume: PASS" || echo "kill-resume: FAIL"
exit "$status"
