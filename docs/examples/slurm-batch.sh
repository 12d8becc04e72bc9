#!/bin/bash
# SegEarth batch over a Slurm job array: 8 shards, one per array task, each on its own node.
# Submit with: sbatch docs/examples/slurm-batch.sh   (then run the merge step below once all tasks finished)
#SBATCH --job-name=segearth-batch
#SBATCH --array=0-7
#SBATCH --cpus-per-task=8
#SBATCH --mem=16G
#SBATCH --time=04:00:00
set -euo pipefail
SCENES=/data/season-2026          # shared filesystem, read by every task
OUT=/scratch/segearth/flood       # each shard writes its own folder below
SHARD=$((SLURM_ARRAY_TASK_ID + 1))/$SLURM_ARRAY_TASK_COUNT
npx segearth batch "$SCENES" \
  -q "where could flood water spread?" \
  -o "$OUT/shard-$((SLURM_ARRAY_TASK_ID + 1))" \
  --model /opt/segearth/models/segearth-r1-earthreason \
  --format gpkg,mask --shard "$SHARD" --resume
# --resume makes a requeued task (preemption, node failure) continue where it stopped.
#
# After the array finished (e.g. sbatch --dependency=afterok:<jobid> --wrap "..."):
#   npx segearth merge /scratch/segearth/flood/shard-* -o /scratch/segearth/flood/all
