#!/usr/bin/env bash
# Builds and runs examples/EmbedModel (LatentLab inside another program, public types only) on a model trained here
# on the committed MNIST slice, and checks what it prints.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$repo/latent" train --model vae_2d --epochs 1 --iwae-k 0 --no-tensorboard --out "$work" \
  --data-dir "$repo/tests/LatentLab.Tests/Fixtures/mnist-600" >"$work/train.log" 2>&1
dotnet run --project "$repo/examples/EmbedModel" -c Release -- "$work/mnist/vae_2d" | tee "$work/example.log"
grep -q "^vae_2d: VAE, images 1x28x28, 2-d codes" "$work/example.log"
grep -q "decoded 4 codes into images of 784 values" "$work/example.log"
grep -q "sampled 5 images of 784 values from the prior N(0, I), all within \[0, 1\]: True" "$work/example.log"
echo "example: PASS"
