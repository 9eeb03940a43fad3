#!/usr/bin/env bash
# Submits N teacher-logits workers as a job array, then the finalize job that waits for all of them.
#
#   docs/deploy/slurm/submit.sh 8 artifacts/experiments/mnist-kd/experiment.json artifacts/experiments/mnist-kd/store
#
# If a task fails, the finalize job never starts (afterok is not satisfied; Slurm leaves it pending
# with DependencyNeverSatisfied, cancel it: a requeued task that then succeeds does not release it).
# Re-run the failed task i, reusing its complete shards:
#   scontrol requeue <jobid>_<i>          # same array, same SLURM_ARRAY_* values
# or as a new job (a one-task array would say N = 1, so name the worker explicitly; flags win):
#   DISTILL_ARGS="--num-shards N --shard-index i" sbatch --export=ALL --array=0 teacher-logits.sbatch
# then: sbatch finalize.sbatch (or `distill finalize STORE` anywhere on the shared filesystem).
set -euo pipefail
N=${1:?usage: submit.sh N EXPERIMENT STORE}
EXP=${2:?usage: submit.sh N EXPERIMENT STORE}
STORE=${3:?usage: submit.sh N EXPERIMENT STORE}
here=$(dirname "$0")
mkdir -p logs
jobid=$(EXP="$EXP" sbatch --parsable --export=ALL --array="0-$((N - 1))" "$here/teacher-logits.sbatch")
jobid=${jobid%%;*}   # --parsable prints "jobid[;cluster]"
echo "teacher-logits array job: $jobid (tasks 0-$((N - 1)))"
fin=$(STORE="$STORE" sbatch --parsable --export=ALL --dependency="afterok:${jobid}" "$here/finalize.sbatch")
echo "finalize job: ${fin%%;*} (after all of $jobid succeed)"
