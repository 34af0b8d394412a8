#!/usr/bin/env bash
# The committed example grid (examples/sweeps/slice.yaml: 12 points on the 600-image MNIST slice) run three ways, and
# the three sweep.csv files compared (one thread per point everywhere, so the numbers must be equal):
#   1. on this machine: `latent sweep run slice --parallel 2`;
#   2. as a Kubernetes Indexed Job runs it: each index its own process with JOB_COMPLETION_INDEX set, in a shuffled
#      order, one attempt killed by SIGKILL mid-run and retried (it resumes its checkpoint);
#   3. on a real Slurm (tests/slurm.sh starts a one-node cluster and stops it after): the exported script, `sbatch`.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
cleanup() { bash "$repo/tests/slurm.sh" down "$work/slurm-state" || true; rm -rf "$work"; }
trap cleanup EXIT
latent() { "$repo/latent" "$@"; }
data="$repo/tests/LatentLab.Tests/Fixtures/mnist-600"
grid="$repo/examples/sweeps/slice.yaml"
plan() { latent sweep plan slice --file "$grid" --data-dir "$data" --out "$work/$1" >"$work/$1-plan.log" 2>&1 || { cat "$work/$1-plan.log"; exit 1; }; }
collect() { latent sweep collect slice --out "$work/$1" >"$work/$1-collect.log" 2>&1 || { cat "$work/$1-collect.log"; exit 1; }; }

# 1. Locally, two points at a time.
start=$(date +%s)
plan local
latent sweep run slice --parallel 2 --data-dir "$data" --out "$work/local" >"$work/local-run.log" 2>&1 || { tail -20 "$work/local-run.log"; exit 1; }
collect local
echo "local, --parallel 2: $(( $(date +%s) - start )) s, $(($(wc -l <"$work/local/mnist/sweeps/slice/sweep.csv") - 1)) rows"

# 2. As an Indexed Job: one process per index, shuffled; the first VAE point is killed (SIGKILL) once its first epoch is
# checkpointed, then run again.
start=$(date +%s)
plan indexed
folder="$work/indexed/mnist/sweeps/slice"
victim=0
# (Started as ./latent itself, not through the shell function: ./latent execs dotnet, so $! is the process to kill.)
JOB_COMPLETION_INDEX=$victim "$repo/latent" sweep run slice --data-dir "$data" --out "$work/indexed" >"$work/victim-1.log" 2>&1 &
pid=$!
for _ in $(seq 1 3000); do
  # The checkpoint is the last file an epoch writes (weights, history, then checkpoint).
  [ -s "$folder/runs/000-vae-z2-beta0.5-seed0/checkpoint.safetensors" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.01
done
kill -KILL "$pid" 2>/dev/null && killed=yes || killed=no
wait "$pid" && code=0 || code=$?
[ "$killed" = yes ] && [ "$code" = 137 ] || { echo "the attempt at index $victim ended before SIGKILL (exit $code)"; cat "$work/victim-1.log"; exit 1; }
[ -s "$folder/runs/000-vae-z2-beta0.5-seed0/metrics.json" ] && { echo "the killed attempt left metrics.json"; exit 1; }
echo "index $victim: killed by SIGKILL after its first checkpoint"
for index in $( (seq 1 11; echo $victim) | shuf --random-source=<(yes 20261125) ); do
  JOB_COMPLETION_INDEX=$index latent sweep run slice --data-dir "$data" --out "$work/indexed" >"$work/indexed-$index.log" 2>&1 \
    || { echo "index $index failed"; cat "$work/indexed-$index.log"; exit 1; }
done
grep -q "resuming after epoch [12]" "$work/indexed-$victim.log" || { echo "the retried index $victim did not resume its checkpoint"; cat "$work/indexed-$victim.log"; exit 1; }
JOB_COMPLETION_INDEX=3 latent sweep run slice --data-dir "$data" --out "$work/indexed" | grep -q "done already" || { echo "a done point ran again"; exit 1; }
collect indexed
echo "indexed, one process per index in shuffled order, index $victim killed and resumed: $(( $(date +%s) - start )) s"

# 3. On a real Slurm.
start=$(date +%s)
bash "$repo/tests/slurm.sh" up "$work/slurm-state"
plan slurm
latent sweep export slice --to slurm --parallel 2 --data-dir "$data" --out "$work/slurm" >/dev/null
job="$(sbatch --parsable "$work/slurm/mnist/sweeps/slice/sweep.sbatch")"
for _ in $(seq 1 300); do
  [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
  sleep 1
done
[ -z "$(squeue -h -j "$job" 2>/dev/null)" ] || { echo "the Slurm array $job did not finish in 300 s"; squeue; exit 1; }
done_tasks=$(grep -l "^point [0-9]* done" "$work/slurm/mnist/sweeps/slice/logs/"slurm-"$job"_*.out | wc -l)
[ "$done_tasks" = 12 ] || { echo "$done_tasks of 12 Slurm tasks finished their point"; tail -n 3 "$work/slurm/mnist/sweeps/slice/logs/"*.out; exit 1; }
collect slurm
bash "$repo/tests/slurm.sh" down "$work/slurm-state"
echo "slurm: sbatch --array=0-11%2, job $job, 12 tasks done: $(( $(date +%s) - start )) s"

for way in indexed slurm; do
  cmp -s "$work/local/mnist/sweeps/slice/sweep.csv" "$work/$way/mnist/sweeps/slice/sweep.csv" \
    || { echo "sweep.csv differs between local and $way:"; diff "$work/local/mnist/sweeps/slice/sweep.csv" "$work/$way/mnist/sweeps/slice/sweep.csv" | head; exit 1; }
done
for figure in rate_distortion.png metrics_by_latent_size.png; do
  [ -s "$work/local/mnist/sweeps/slice/figures/$figure" ] || { echo "collect drew no $figure"; exit 1; }
done
echo "the three sweep.csv files are identical (12 rows)"
echo "sweep: PASS"
