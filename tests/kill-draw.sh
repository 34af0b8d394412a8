#!/usr/bin/env bash
# Interrupts `latent visualize` and `latent compare` with SIGKILL, SIGTERM and SIGINT at random moments, checks after
# each that no figure, GIF, JSON or report is left half-written (every file that exists is complete), then runs the
# same command again and checks that it completes. Uses the committed 600-image MNIST slice: no network.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$repo/latent" models >/dev/null          # builds the CLI when needed
dll="$repo/src/LatentLab.Cli/bin/Release/net10.0/latent.dll"
data=(--data-dir "$repo/tests/LatentLab.Tests/Fixtures/mnist-600")
out="$work/results"
status=0

# Every finished-looking file must be whole: PNGs end with their IEND chunk, GIFs with the trailer byte,
# JSON with its closing brace, the HTML report with </html>. Temporary files are hidden (.name.tmp) and never count.
check_files() {
  local bad=0 f
  while IFS= read -r -d '' f; do
    case "$f" in
      *.png) [ "$(tail -c 8 "$f" | head -c 4)" = "IEND" ] || { echo "  half-written: $f"; bad=1; } ;;
      *.gif) [ "$(tail -c 1 "$f" | od -An -tx1 | tr -d ' ')" = "3b" ] || { echo "  half-written: $f"; bad=1; } ;;
      *.json) [ "$(tr -d ' \n' <"$f" | tail -c 1)" = "}" ] || { echo "  half-written: $f"; bad=1; } ;;
      *.html) grep -q '</html>' <(tail -c 20 "$f") || { echo "  half-written: $f"; bad=1; } ;;
    esac
  done < <(find "$out" -type f -not -name '.*' -print0)
  return $bad
}

interrupt() {   # interrupt LABEL SECONDS-MAX ARGS...: start the command, send a random signal at a random moment
  local label=$1 max=$2; shift 2
  local signals=(KILL TERM INT) signal moment pid
  signal=${signals[$((RANDOM % 3))]}
  moment=$(awk -v m="$max" -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.8 + (m - 0.8) * r / 32768 }')
  dotnet "$dll" "$@" >"$work/$label.log" 2>&1 &
  pid=$!
  sleep "$moment"
  if kill -s "$signal" "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null && code=0 || code=$?
    echo "$label: SIG$signal after $moment s, exit $code"
  else
    wait "$pid" || true
    echo "$label: finished before SIG$signal at $moment s"
  fi
  if check_files; then echo "  every file complete"; else status=1; fi
}

dotnet "$dll" train --model vae_2d --epochs 2 --iwae-k 0 --out "$out" "${data[@]}" >"$work/train.log" 2>&1
# A train's log (stdout and stderr, the linear probe included) carries no libtorch warning.
if grep -q "Warning" "$work/train.log"; then echo "train log has a warning: $(grep -m1 Warning "$work/train.log")"; status=1; else echo "train log: no warning"; fi
start=$(date +%s.%N)
dotnet "$dll" visualize --model vae_2d --frames 40 --out "$out" "${data[@]}" >"$work/visualize.log" 2>&1
full=$(echo "$(date +%s.%N) - $start" | bc)
echo "visualize uninterrupted: $(printf '%.1f' "$full") s"
rm -rf "$out/mnist/vae_2d/figures" "$out/mnist/vae_2d/animations"
for attempt in 1 2 3; do
  interrupt "visualize-$attempt" "$full" visualize --model vae_2d --frames 40 --out "$out" "${data[@]}"
done
if dotnet "$dll" visualize --model vae_2d --frames 40 --out "$out" "${data[@]}" >"$work/visualize-again.log" 2>&1 && check_files \
   && [ "$(find "$out/mnist/vae_2d/figures" "$out/mnist/vae_2d/animations" -type f -not -name '.*' | wc -l)" -ge 9 ]; then
  echo "visualize again: completed"
else
  echo "visualize again: FAILED"; cat "$work/visualize-again.log"; status=1
fi

compare=(compare --models vae_2d,ae_2d --epochs 2 --iwae-k 5 --tsne-points 50 --out "$out" "${data[@]}")
for attempt in 1 2 3; do
  interrupt "compare-$attempt" 12 "${compare[@]}"
done
if dotnet "$dll" "${compare[@]}" >"$work/compare-again.log" 2>&1 && check_files && [ -f "$out/mnist/report.html" ]; then
  echo "compare again: completed ($(grep -c '<img ' "$out/mnist/report.html") images in report.html)"
else
  echo "compare again: FAILED"; tail -5 "$work/compare-again.log"; status=1
fi
[ "$status" -eq 0 ] && echo "kill-draw: PASS" || echo "kill-draw: FAIL"
exit "$status"
