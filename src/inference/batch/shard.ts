/**
 * @module inference/batch/shard
 * Deterministic partition of a batch for job arrays (Slurm `--array`, Kubernetes Indexed Jobs): shard `i/n`
 * (1-based) takes the scenes whose SHA-256 of the relative path, read as a number, is ≡ i−1 (mod n). A scene's
 * shard depends only on its own path, so adding scenes never moves the others, and every machine computes the
 * same partition with no coordination.
 */
import { createHash } from 'node:crypto';
import { SegEarthError } from '../../shared/errors.js';

export interface Shard {
  /** 1-based index. */
  index: number;
  count: number;
}

export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) {
    throw new SegEarthError('BAD_ARGUMENT', `"${text}" is not a shard.`, {
      hint: 'Write the shard as i/n with 1 ≤ i ≤ n, e.g. --shard 2/8 (with Slurm: --shard $((SLURM_ARRAY_TASK_ID+1))/$SLURM_ARRAY_TASK_COUNT).',
    });
  }
  return { index, count };
}

export function shardOf(relativePath: string, count: number): number {
  const digest = createHash('sha256').update(relativePath, 'utf8').digest();
  // 48 bits are plenty for an unbiased modulo of any practical shard count.
  return (digest.readUIntBE(0, 6) % count) + 1;
}

export function selectShard(scenes: readonly string[], shard: Shard | undefined): string[] {
  if (!shard || shard.count === 1) return [...scenes];
  return scenes.filter((s) => shardOf(s, shard.count) === shard.index);
}
