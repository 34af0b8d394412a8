#!/usr/bin/env bash
# Packs the LatentLab packages into a temporary folder, installs the `latent` .NET tool from there into a temporary
# tool path (with a temporary NuGet cache, so no earlier build's package is reused), and runs it: `latent models`,
# a one-epoch `latent train` on the committed MNIST slice, and `latent visualize` (fonts, SkiaSharp, ImageMagick and
# the TorchSharp fix all come from the package).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

start=$(date +%s)
dotnet pack "$repo/LatentLab.slnx" -c Release -o "$work/packages" --nologo -v quiet >"$work/pack.log" 2>&1 || { cat "$work/pack.log"; exit 1; }
ls "$work/packages"
for package in LatentLab LatentLab.Visualization LatentLab.Tool; do
  [ -f "$work/packages/$package.0.1.0.nupkg" ] || { echo "missing package $package"; exit 1; }
done
# The library package carries its README and XML documentation.
# (Listed into a file first: with pipefail, `unzip -l | grep -q` fails whenever grep stops reading early and unzip
# gets SIGPIPE.)
unzip -l "$work/packages/LatentLab.0.1.0.nupkg" >"$work/library-files.txt"
grep -q "PACKAGE.md" "$work/library-files.txt" || { echo "LatentLab package: no readme"; exit 1; }
grep -q "lib/net10.0/LatentLab.xml" "$work/library-files.txt" || { echo "LatentLab package: no XML docs"; exit 1; }

NUGET_PACKAGES="$work/nuget" dotnet tool install --tool-path "$work/tools" --add-source "$work/packages" LatentLab.Tool --version 0.1.0 >"$work/install.log" 2>&1 \
  || { cat "$work/install.log"; exit 1; }
cd "$work"
"$work/tools/latent" models >"$work/models.txt"
grep -q "vae_32d" "$work/models.txt" || { echo "the installed tool lists no vae_32d"; exit 1; }
"$work/tools/latent" train --model vae_2d --epochs 1 --iwae-k 0 --data-dir "$repo/tests/LatentLab.Tests/Fixtures/mnist-600" --out "$work/results" >"$work/train.log" 2>&1 \
  || { cat "$work/train.log"; exit 1; }
"$work/tools/latent" visualize --model vae_2d --frames 10 --data-dir "$repo/tests/LatentLab.Tests/Fixtures/mnist-600" --out "$work/results" >"$work/visualize.log" 2>&1 \
  || { cat "$work/visualize.log"; exit 1; }
for file in model.safetensors metrics.json figures/latent_scatter.png animations/sampling.gif; do
  [ -s "$work/results/mnist/vae_2d/$file" ] || { echo "the installed tool wrote no $file"; exit 1; }
done
echo "installed tool: models, train and visualize ran ($(( $(date +%s) - start )) s with packing)"
echo "package: PASS"
