/**
 * @module inference/batch/batchPlan
 * What a batch is asked to do, saved as `batch.json` in its output folder when it starts. Resuming checks that
 * the plan it is asked to continue is the same one (same questions, model and options), so a resumed batch can
 * never mix two different answers in one output folder. Shards of one batch share a plan (only `shard` differs);
 * when they share one output folder the first shard to start creates `batch.json` (`createPlan`, exclusive even on
 * NFS: a hard link fails when the name exists) and the others join it.
 */
import { link, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { z } from 'zod';
import { SegEarthError } from '../../shared/errors.js';
import { writeAtomically } from '../../geo/atomicWrite.js';

export const PLAN_FILE = 'batch.json';
export { BATCH_FORMATS as OUTPUT_FORMATS, type BatchFormat as OutputFormat } from '../../shared/formats.js';
import { BATCH_FORMATS as OUTPUT_FORMATS } from '../../shared/formats.js';

export const BatchOptionsSchema = z.object({
  questions: z.array(z.string().min(1)).min(1),
  /** Model bundle id + its hash: a resumed batch must use the same model. */
  model: z.string(),
  strategy: z.enum(['tiled', 'coarse-to-fine', 'view']),
  /** Per-scene formats; the merged GeoPackage (a layer per question) is written when `merged` is true. */
  formats: z.array(z.enum(OUTPUT_FORMATS)),
  merged: z.boolean(),
  threshold: z.number().gt(0).lt(1),
  minAreaM2: z.number().nonnegative(),
  include: z.array(z.string()),
  exclude: z.array(z.string()),
});
export type BatchOptions = z.infer<typeof BatchOptionsSchema>;

export const BatchPlanSchema = z.object({
  formatVersion: z.literal(1),
  inputFolder: z.string(),
  options: BatchOptionsSchema,
  shard: z.object({ index: z.number().int().positive(), count: z.number().int().positive() }).nullable(),
  createdAt: z.string(),
});
export type BatchPlan = z.infer<typeof BatchPlanSchema>;

export async function readPlan(outputFolder: string): Promise<BatchPlan | null> {
  let text: string;
  try {
    text = await readFile(join(outputFolder, PLAN_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const parsed = BatchPlanSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new SegEarthError('BAD_ARGUMENT', `${join(outputFolder, PLAN_FILE)} is not a SegEarth batch plan.`, {
      hint: 'Choose an empty output folder, or the output folder of an earlier batch to resume it.',
    });
  }
  return parsed.data;
}

/**
 * Creates `batch.json` unless it exists: null when this call created it, else the plan already there (another
 * shard started a moment earlier): written and fsync'ed in a private temporary folder (write-file-atomic), then
 * hard-linked into place — `link`, unlike `rename`, fails when the name exists, which makes the creation exclusive.
 */
export async function createPlan(outputFolder: string, plan: BatchPlan): Promise<BatchPlan | null> {
  const tempDir = await mkdtemp(join(outputFolder, `.segearth-tmp-${PLAN_FILE}-`));
  try {
    const temp = join(tempDir, PLAN_FILE);
    await writeFileAtomic(temp, JSON.stringify(plan, null, 2) + '\n', { fsync: true });
    try {
      await link(temp, join(outputFolder, PLAN_FILE));
      return null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  } finally {
    await rm(tempDir, { recursive: true, force: true });
  }
  const saved = await readPlan(outputFolder);
  if (!saved) throw new SegEarthError('INTERNAL', `${join(outputFolder, PLAN_FILE)} vanished while it was being read.`, { hint: 'Run the batch again.' });
  return saved;
}

export async function writePlan(outputFolder: string, plan: BatchPlan): Promise<void> {
  await writeAtomically(join(outputFolder, PLAN_FILE), { overwrite: true }, (tmp) =>
    writeFile(tmp, JSON.stringify(plan, null, 2) + '\n'),
  );
}

/** Differences that forbid resuming `saved` with `requested` (empty when they are the same batch). */
export function planDifferences(saved: BatchOptions, requested: BatchOptions): string[] {
  const diffs: string[] = [];
  for (const key of Object.keys(requested) as (keyof BatchOptions)[]) {
    if (JSON.stringify(saved[key]) !== JSON.stringify(requested[key])) diffs.push(key);
  }
  return diffs;
}
