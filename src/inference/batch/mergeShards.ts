/**
 * @module inference/batch/mergeShards
 * `segearth merge`: joins the output folders of the shards of one batch (`--shard 1/n` … `n/n`, run on many
 * machines) into one output folder that looks exactly like an unsharded run: per-scene outputs copied, one
 * journal, `summary.json`/`summary.csv`, and `merged.gpkg` rebuilt from every shard's results.
 */
import { cp, mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SegEarthError } from '../../shared/errors.js';
import { planDifferences, readPlan, writePlan, type BatchPlan } from './batchPlan.js';
import { itemKey, JournalWriter, readJournal, type JournalRecord } from './journal.js';
import { writeMergedGeoPackage } from './mergeResults.js';
import { sceneFolder } from './outputLayout.js';
import { summarize, writeSummary, type BatchSummary } from './summary.js';

export async function mergeShards(shardFolders: readonly string[], outputFolder: string): Promise<BatchSummary> {
  if (shardFolders.length === 0) {
    throw new SegEarthError('BAD_ARGUMENT', 'No shard output folders were given.', {
      hint: 'Pass the output folders of every shard, e.g. segearth merge out-1 out-2 out-3 -o out.',
    });
  }
  const out = resolve(outputFolder);
  const plans: { folder: string; plan: BatchPlan }[] = [];
  for (const folder of shardFolders.map((f) => resolve(f))) {
    const plan = await readPlan(folder);
    if (!plan) {
      throw new SegEarthError('BAD_ARGUMENT', `${folder} is not a batch output folder (no batch.json).`, {
        hint: 'Pass the folders given to `segearth batch -o` for each shard.',
        path: folder,
      });
    }
    plans.push({ folder, plan });
  }
  const first = plans[0]!.plan;
  const counts = new Set<string>();
  for (const { folder, plan } of plans) {
    const diffs = planDifferences(first.options, plan.options);
    if (plan.inputFolder !== first.inputFolder) diffs.unshift('input folder');
    if (diffs.length) {
      throw new SegEarthError('BAD_ARGUMENT', `${folder} belongs to a different batch (${diffs.join(', ')} differ).`, {
        hint: 'Merge only the shards of one batch: same input folder, questions, model and options.',
        path: folder,
      });
    }
    if (plan.shard) {
      const label = `${plan.shard.index}/${plan.shard.count}`;
      if (counts.has(label)) throw new SegEarthError('BAD_ARGUMENT', `Shard ${label} was given twice.`, { hint: 'Pass each shard folder once.' });
      counts.add(label);
    }
  }
  const existing = await readdir(out).catch(() => [] as string[]);
  if (existing.length > 0) {
    throw new SegEarthError('OUTPUT_EXISTS', `The output folder ${out} is not empty.`, { hint: 'Merge into a new or empty folder.', path: out });
  }
  await mkdir(out, { recursive: true });

  const records = new Map<string, JournalRecord>();
  const folderOf = new Map<string, string>();
  for (const { folder } of plans) {
    for (const [key, rec] of await readJournal(folder)) {
      const prev = records.get(key);
      // A scene belongs to one shard; if folders overlap, a finished result wins over a failed or started one.
      if (!prev || (prev.state !== 'done' && rec.state === 'done')) {
        records.set(key, rec);
        folderOf.set(key, folder);
      }
    }
  }
  const finished = [...records.entries()].filter(([, r]) => r.state !== 'started');
  for (const [key, rec] of finished) {
    if (rec.state !== 'done') continue;
    const from = join(folderOf.get(key)!, sceneFolder(rec.scene));
    await cp(from, join(out, sceneFolder(rec.scene)), { recursive: true, force: true });
  }
  const plan: BatchPlan = { ...first, shard: null, createdAt: new Date().toISOString() };
  await writePlan(out, plan);
  const journal = await JournalWriter.open(out);
  try {
    for (const [, rec] of finished.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) await journal.append(rec);
  } finally {
    await journal.close();
  }
  const scenes = [...new Set([...records.values()].map((r) => r.scene))].sort();
  const summary = summarize(plan.inputFolder, plan.options.questions, scenes, records, itemKey, null);
  await writeSummary(out, summary);
  if (plan.options.merged) {
    await writeMergedGeoPackage(out, plan.options.questions, finished.map(([, r]) => r));
  }
  return summary;
}
