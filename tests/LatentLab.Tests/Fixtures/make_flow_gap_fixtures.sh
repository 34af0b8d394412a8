#!/usr/bin/env bash
# Generator (not run by the tests): the 2-d VAEs of one budget that FlowGapTests compares against the exact
# log p(x) — a Gaussian and a 10-step planar posterior, each `latent train --model vae_2d --hidden-dims
# 128,64 --epochs 20 --precision fp32 --threads 1` on the whole MNIST training split (seed 0), about 1.5 min apiece on
# 2 cores. Only each run's model.safetensors and config.json are kept, with their SHA-256 in SHA256SUMS.
#
#     tests/LatentLab.Tests/Fixtures/make_flow_gap_fixtures.sh [DATA_DIR]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
data="${1:-$repo/data}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for posterior in "gaussian" "planar --flow-steps 10"; do
  # shellcheck disable=SC2086
  "$repo/latent" train --model vae_2d --hidden-dims 128,64 --epochs 20 --precision fp32 --threads 1 --posterior $posterior \
    --test-size 100 --iwae-k 0 --no-tensorboard --data-dir "$data" --out "$out"
done
for run in "$out"/mnist/*; do
  name="$(basename "$run")"                          # vae_2d-h128.64[-planar10]
  dst="$here/vae2d-${name#vae_2d-}"
  mkdir -p "$dst"
  cp "$run/model.safetensors" "$run/config.json" "$dst/"
  (cd "$dst" && sha256sum model.safetensors > SHA256SUMS)
done
