#!/bin/bash
# SegEarth batch over a Slurm job array: 8 shards, one per array task, all writing into one output folder on
# shared storage (the shards never write the same file); one merge job then finishes the folder.
# (`segearth batch <your options> --shards 8 --slurm job.sh` writes this script for your own command.)
# Submit, then merge once every task ended (afterany: the merge also reports the items of a failed task):
#   jobid=$(sbatch --parsable docs/examples/slurm-batch.sh)
#   sbatch --dependency=afterany:$jobid --wrap "npx segearth merge /scratch/segearth/flood"
# A task that was cancelled, preempted or failed: resubmit only its index (it resumes its shard), merge again:
#   sbatch --array=5 docs/examples/slurm-batch.sh
#SBATCH --job-name=segearth-batch
#SBATCH --array=0-7
#SBATCH --cpus-per-task=8
#SBATCH --mem=16G
#SBATCH --time=04:00:00
set -euo pipefail
SCENES=${SCENES:-/data/season-2026}                          # shared filesystem, read by every task
OUT=${OUT:-/scratch/segearth/flood}                          # shared filesystem, written by every task
MODEL=${MODEL:-/opt/segearth/models/segearth-r1-earthreason}
SEGEARTH=${SEGEARTH:-npx segearth}
# The batch's shard count: keep it equal to the size of --array above. Not $SLURM_ARRAY_TASK_COUNT, which
# counts only the tasks of one submission: a resubmitted single index would become "shard 6 of 1".
SHARDS=${SHARDS:-8}
$SEGEARTH batch "$SCENES" \
  -q "where could flood water spread?" \
  -o "$OUT" --model "$MODEL" \
  --format gpkg,mask --threads "${SLURM_CPUS_PER_TASK:-8}" \
  --shard "$((SLURM_ARRAY_TASK_ID + 1))/$SHARDS" --resume
# --resume: a requeued (preemption, node failure) or resubmitted task continues its shard where it stopped.
