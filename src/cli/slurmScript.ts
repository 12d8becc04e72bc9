/**
 * @module cli/slurmScript
 * `segearth batch … --shards n --slurm [file]`: the sbatch script that runs the current batch as a Slurm job
 * array — one task per shard, every task writing into the one output folder on shared storage (`runBatch`
 * keeps shards apart there), `--resume` so a requeued or resubmitted task continues its shard, and the
 * submission + merge commands in its header.
 *
 * The shard count is written into the script (`SHARDS=n`), not taken from `$SLURM_ARRAY_TASK_COUNT`: that
 * counts only the tasks of the current submission, so resubmitting one index (`sbatch --array=2 …`) would run
 * "shard 3 of 1" — all the scenes, into a batch split in n. Shell quoting is hand-written (single quotes, `'`
 * as `'\''`): POSIX quoting is one rule, not worth a dependency.
 */

export interface SlurmScriptRequest {
  /** The command that starts segearth on a compute node, e.g. [node, /opt/segearth/bin/segearth.js]. */
  segearth: readonly string[];
  /** `segearth batch` arguments of the batch (absolute paths), without --shard, --resume and --threads. */
  batchArgs: readonly string[];
  /** The batch's output folder (absolute): shared by every task, finished by `segearth merge <folder>`. */
  outputFolder: string;
  shards: number;
  cpusPerTask: number;
  /** Slurm memory per task, e.g. 16G. */
  memory: string;
  /** Slurm time limit per task, e.g. 04:00:00. */
  time: string;
}

/** One word for a POSIX shell. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function shellLine(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}

export function slurmBatchScript(req: SlurmScriptRequest): string {
  const merge = shellLine([...req.segearth, 'merge', req.outputFolder]);
  const batch = [
    shellLine([...req.segearth, 'batch', ...req.batchArgs]),
    `--threads "\${SLURM_CPUS_PER_TASK:-${req.cpusPerTask}}"`,
    '--shard "$((SLURM_ARRAY_TASK_ID + 1))/$SHARDS" --resume',
  ];
  return [
    '#!/bin/bash',
    `# SegEarth batch as a Slurm job array: ${req.shards} shards, one per array task, all writing into`,
    `# ${req.outputFolder} (shared storage; the shards never write the same file).`,
    '# Written by `segearth batch --slurm`. Submit, then finish the batch once every task ended:',
    '#   jobid=$(sbatch --parsable THIS_SCRIPT)',
    `#   sbatch --dependency=afterany:$jobid --wrap ${shellQuote(merge)}`,
    '# A task that was cancelled, preempted or failed: resubmit only its index (it resumes its shard), then merge',
    '# again:  sbatch --array=<index> THIS_SCRIPT',
    '#SBATCH --job-name=segearth-batch',
    `#SBATCH --array=0-${req.shards - 1}`,
    `#SBATCH --cpus-per-task=${req.cpusPerTask}`,
    `#SBATCH --mem=${req.memory}`,
    `#SBATCH --time=${req.time}`,
    'set -euo pipefail',
    '# The batch\'s shard count, fixed: not $SLURM_ARRAY_TASK_COUNT, which counts only the tasks of one submission.',
    `SHARDS=${req.shards}`,
    batch.join(' \\\n  '),
    '',
  ].join('\n');
}
