/**
 * @module inference/batch/mergeShards
 * `segearth merge`: joins the output folders of the shards of one batch (`--shard 1/n` … `n/n`, run on many
 * machines) into one output folder that looks exactly like an unsharded run: per-scene outputs copied, one
 * journal, `summary.json`/`summary.csv`, and `merged.gpkg` rebuilt from every shard's results.
 *
 * Shards that shared one output folder (a cluster's shared storage) are finished in place: `segearth merge <folder>`
 * writes that folder's `summary.json`/`summary.csv` and `merged.gpkg` from the journals of all its shards.
 * The summary lists every scene of the input folder (as the unsharded run would), so the scenes of a shard that
 * never started are `pending`, not missing; when the input folder cannot be read here, the journals' scenes.
 */
import { cp, mkdir, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SegEarthError } from '../../shared/errors.js';
import { planDifferences, readPlan, writePlan, type BatchPlan } from './batchPlan.js';
import { itemKey, JournalWriter, readJournal, type JournalRecord } from './journal.js';
import { writeMergedGeoPackage } from './mergeResults.js';
import { MERGED_TEMP_PREFIX } from './mergedBuilder.js';
import { sceneFolder } from './outputLayout.js';
import { discoverScenes } from './sceneDiscovery.js';
import { summarize, writeSummary, type BatchSummary } from './summary.js';

/** The batch's scenes: the input folder's (as the shards saw it), or those the journals name when it is not here. */
async function batchScenes(plan: BatchPlan, records: ReadonlyMap<string, JournalRecord>): Promise<string[]> {
  const journaled = [...new Set([...records.values()].map((r) => r.scene))];
  const found = await discoverScenes(plan.inputFolder, { include: plan.options.include, exclude: plan.options.exclude }).catch(() => []);
  return [...new Set([...found, ...journaled])].sort();
}

/** Summaries and merged.gpkg of a shared output folder, written into it (the shards must have finished). */
async function finishInPlace(folder: string, plan: BatchPlan): Promise<BatchSummary> {
  const records = await readJournal(folder);
  const summary = summarize(plan.inputFolder, plan.options.questions, await batchScenes(plan, records), records, itemKey, null);
  await writeSummary(folder, summary);
  if (plan.options.merged) {
    // Left by a killed merge or unsharded run: this merge rebuilds merged.gpkg.
    for (const name of await readdir(folder)) {
      if (name.startsWith(MERGED_TEMP_PREFIX)) await rm(join(folder, name), { recursive: true, force: true });
    }
    await writeMergedGeoPackage(folder, plan.options.questions, [...records.values()]);
  }
  return summary;
}

/** `outputFolder` null: finish the one (shared) folder given in place. */
export async function mergeShards(shardFolders: readonly string[], outputFolder: string | null): Promise<BatchSummary> {
  if (shardFolders.length === 0) {
    throw new SegEarthError('BAD_ARGUMENT', 'No shard output folders were given.', {
      hint: 'Pass the output folders of every shard, e.g. segearth merge out-1 out-2 out-3 -o out.',
    });
  }
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
  if (outputFolder === null) {
    if (plans.length > 1) {
      throw new SegEarthError('BAD_ARGUMENT', 'Merging several output folders needs a new output folder.', {
        hint: 'Add -o <new folder>; without -o, merge finishes one folder that all shards wrote into.',
      });
    }
    return finishInPlace(plans[0]!.folder, first);
  }
  const out = resolve(outputFolder);
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
  const scenes = await batchScenes(plan, records);
  const summary = summarize(plan.inputFolder, plan.options.questions, scenes, records, itemKey, null);
  await writeSummary(out, summary);
  if (plan.options.merged) {
    await writeMergedGeoPackage(out, plan.options.questions, finished.map(([, r]) => r));
  }
  return summary;
}
