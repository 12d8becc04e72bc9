/**
 * @module inference/batch/runBatch
 * The batch engine shared by `segearth batch` and the app's batch panel: the same question(s) over every scene
 * of a folder, one (scene, question) item at a time, scene by scene so the questions of a scene share its
 * image-side work.
 *
 * Reliability rules:
 * - every output is written atomically, and an item's `done` line is journaled (fsync) only after all its
 *   outputs are in place — so after a crash or `kill -9`, `resume` re-runs exactly the unfinished items and
 *   produces the same outputs;
 * - a scene that fails (unreadable, corrupt, bad georeferencing) is journaled with its error and the batch goes
 *   on; failed items are tried again on resume (the file may have been fixed);
 * - the summaries are rebuilt from the journal at the end; `merged.gpkg` is built as items finish, in a hidden
 *   temporary file renamed into place at the end (`MergedBuilder`: one item's features in memory at a time).
 *   A resumed batch, or one whose scenes turn out to be in several CRSs, rebuilds it from the items'
 *   `.features.json` at the end instead (`writeMergedGeoPackage`), so a feature is never there twice.
 *
 * Shards (`--shard i/n` of a job array) may write into one shared output folder at once: the first creates the
 * plan and the others join it (same batch, same shard count); each appends to its own journal and writes its
 * own `summary.shard-i-of-n.*`; their scenes never overlap, so neither do their per-scene outputs (each written
 * through its own temporary folder). A shard writes no `merged.gpkg`: `segearth merge` builds it, with the
 * summaries of the whole batch, once the shards finished. Nothing a shard writes is ever written by another.
 */
import { mkdir, readdir, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SegEarthError, isSegEarthError, toErrorPayload } from '../../shared/errors.js';
import type { FeatureSet } from '../../shared/featureSet.js';
import { writeAtomically } from '../../geo/atomicWrite.js';
import { writeGeoJson } from '../../geo/writers/geojson.js';
import { writeGeoPackage } from '../../geo/writers/geopackage.js';
import { writeShapefile } from '../../geo/writers/shapefile.js';
import { createPlan, planDifferences, readPlan, type BatchOptions, type BatchPlan, type OutputFormat } from './batchPlan.js';
import { itemKey, journalFileName, JournalWriter, readJournal, type JournalRecord } from './journal.js';
import { writeMergedGeoPackage } from './mergeResults.js';
import { MergedBuilder, MERGED_TEMP_PREFIX, noCrsLayerName } from './mergedBuilder.js';
import { itemOutput, questionLayerName, sceneFolder } from './outputLayout.js';
import { discoverScenes } from './sceneDiscovery.js';
import type { SceneProcessor } from './sceneProcessor.js';
import { selectShard, type Shard } from './shard.js';
import { summarize, writeSummary, type BatchSummary } from './summary.js';

export type BatchEvent =
  | { type: 'plan'; scenes: number; items: number; alreadyDone: number }
  | { type: 'item-start'; scene: string; question: number; index: number; total: number }
  | { type: 'item-progress'; scene: string; question: number; fraction: number; stage: string; etaSeconds: number | null }
  | { type: 'item-end'; record: JournalRecord; index: number; total: number; etaSeconds: number | null }
  | { type: 'paused' }
  | { type: 'resumed' }
  | { type: 'finished'; summary: BatchSummary };

export interface BatchRequest {
  inputFolder: string;
  outputFolder: string;
  options: BatchOptions;
  shard?: Shard;
  /** Continue the batch already in `outputFolder` (its plan must match). */
  resume?: boolean;
  processor: SceneProcessor;
  signal?: AbortSignal;
  onEvent?: (event: BatchEvent) => void;
  /** Awaited before each item: the app's pause button holds it until resumed. */
  gate?: () => Promise<void>;
}

/** Hidden temporary folders of atomic writes (another shard's, or a killed run's) do not make a folder "used". */
async function isEmptyFolder(folder: string): Promise<boolean> {
  try {
    return (await readdir(folder)).every((name) => name.startsWith('.segearth-tmp-'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
}

async function fileExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function describeShard(shard: Shard | null): string {
  return shard ? `split into ${shard.count} shards` : 'not sharded';
}

/** Checks that this run may continue (or, as another shard, join) the batch whose plan is `saved`. */
async function checkSavedPlan(req: BatchRequest, saved: BatchPlan, inputFolder: string, outputFolder: string, shard: Shard | null): Promise<void> {
  const diffs = planDifferences(saved.options, req.options);
  if (saved.inputFolder !== inputFolder) diffs.unshift('input folder');
  if ((saved.shard?.count ?? null) !== (shard?.count ?? null)) {
    diffs.push(`shard count (the batch is ${describeShard(saved.shard)}, this run is ${describeShard(shard)})`);
  }
  if (diffs.length > 0) {
    throw new SegEarthError('BAD_ARGUMENT', `Cannot resume: this batch was started with a different ${diffs.join(', ')}.`, {
      hint: 'Resume with the same questions, model, options and shard count (--shard i/n with the n the batch started with), or start the new batch in another output folder.',
      path: outputFolder,
    });
  }
  // Another shard of the batch joins the shared folder freely; a run that already ran here needs --resume.
  const ranHere = shard === null || (await fileExists(join(outputFolder, journalFileName(shard))));
  if (ranHere && !req.resume) {
    throw new SegEarthError('BATCH_EXISTS', `${outputFolder} already holds ${shard ? `shard ${shard.index}/${shard.count} of ` : ''}a batch.`, {
      hint: 'Add --resume to continue it, or choose an empty output folder for a new batch.',
      path: outputFolder,
    });
  }
}

/** Creates or checks the plan; returns the batch's plan (for a shard joining a shared folder: the first shard's). */
async function preparePlan(req: BatchRequest, inputFolder: string, outputFolder: string, shard: Shard | null): Promise<BatchPlan> {
  // Another shard may create the plan between our look and our emptiness check: look again when not empty.
  let saved = await readPlan(outputFolder);
  if (!saved && !(await isEmptyFolder(outputFolder))) saved = await readPlan(outputFolder);
  if (!saved) {
    if (!(await isEmptyFolder(outputFolder))) {
      throw new SegEarthError('OUTPUT_EXISTS', `The output folder ${outputFolder} is not empty.`, {
        hint: 'Choose an empty (or new) folder so batch results are never mixed with other files.',
        path: outputFolder,
      });
    }
    try {
      await mkdir(outputFolder, { recursive: true });
    } catch (cause) {
      throw new SegEarthError('OUTPUT_NOT_WRITABLE', `Cannot create the output folder ${outputFolder}.`, {
        hint: 'Choose a folder you have write permission for.',
        path: outputFolder,
        cause,
      });
    }
    const plan: BatchPlan = { formatVersion: 1, inputFolder, options: req.options, shard, createdAt: new Date().toISOString() };
    saved = await createPlan(outputFolder, plan);
    if (!saved) return plan;
  }
  await checkSavedPlan(req, saved, inputFolder, outputFolder, shard);
  return saved;
}

/**
 * Creates a scene's output folder, removing the temporary folders a killed run left in it (an atomic write cut
 * short). Only this run writes into its scenes' folders — a scene belongs to one shard — so none is in use.
 */
async function removeStaleTemporaries(folder: string): Promise<void> {
  await mkdir(folder, { recursive: true });
  for (const name of await readdir(folder)) {
    if (name.startsWith('.segearth-tmp-')) await rm(join(folder, name), { recursive: true, force: true });
  }
}

const VECTOR_WRITERS = { gpkg: writeGeoPackage, geojson: writeGeoJson, shp: writeShapefile } as const;

async function writeItemOutputs(
  outputFolder: string,
  scene: string,
  q: number,
  question: string,
  features: FeatureSet,
  formats: readonly OutputFormat[],
): Promise<string[]> {
  const written: string[] = [];
  const layer = [{ name: questionLayerName(q, question), features }];
  for (const format of formats) {
    if (format === 'mask') continue; // written by the processor next to the others
    const rel = itemOutput(scene, q, format);
    const result = await VECTOR_WRITERS[format](layer, join(outputFolder, rel), { overwrite: true });
    written.push(...result.paths.map((p) => p.slice(outputFolder.length + 1).split('\\').join('/')));
  }
  // Written last: its presence is what merges are built from.
  const featuresRel = itemOutput(scene, q, 'features');
  await writeAtomically(join(outputFolder, featuresRel), { overwrite: true }, (tmp) => writeFile(tmp, JSON.stringify(features)));
  written.push(featuresRel);
  return written;
}

function totalArea(features: FeatureSet): number {
  return features.features.reduce((sum, f) => {
    const a = f.properties['area_m2'];
    return sum + (typeof a === 'number' ? a : 0);
  }, 0);
}

export async function runBatch(req: BatchRequest): Promise<BatchSummary> {
  const inputFolder = resolve(req.inputFolder);
  const outputFolder = resolve(req.outputFolder);
  const { options } = req;
  const blank = options.questions.findIndex((q) => !q.trim());
  if (options.questions.length === 0 || blank >= 0) {
    throw new SegEarthError('BAD_ARGUMENT', options.questions.length === 0 ? 'No question given.' : `Question ${blank + 1} is empty.`, {
      hint: 'Give every question as text, e.g. -q "where could flood water spread?".',
    });
  }
  const shard = req.shard && req.shard.count > 1 ? req.shard : null;
  const all = await discoverScenes(inputFolder, { include: options.include, exclude: options.exclude });
  const scenes = selectShard(all, req.shard);
  await preparePlan(req, inputFolder, outputFolder, shard);
  const shardLabel = shard ? `${shard.index}/${shard.count}` : null;
  const records = await readJournal(outputFolder);
  const items = scenes.flatMap((scene) => options.questions.map((_, q) => ({ scene, q })));
  const todo = items.filter(({ scene, q }) => records.get(itemKey(scene, q))?.state !== 'done');
  req.onEvent?.({ type: 'plan', scenes: scenes.length, items: items.length, alreadyDone: items.length - todo.length });

  // A shard leaves merged.gpkg to `segearth merge` (other shards may be writing into this folder now).
  const mergedHere = options.merged && shard === null;
  // Temporary merged GeoPackages left by a killed run are stale: this run rebuilds merged.gpkg.
  if (mergedHere) {
    for (const name of await readdir(outputFolder)) {
      if (name.startsWith(MERGED_TEMP_PREFIX)) await rm(join(outputFolder, name), { recursive: true, force: true });
    }
  }
  // Built as items finish when no item of the plan is done yet; otherwise rebuilt at the end.
  let merged = mergedHere && items.length === todo.length ? await MergedBuilder.create(outputFolder, options.questions) : null;
  const journal = await JournalWriter.open(outputFolder, journalFileName(shard));
  const started = Date.now();
  let finished = 0;
  const eta = (fractionOfCurrent: number): number | null => {
    const doneWork = finished + fractionOfCurrent;
    if (doneWork <= 0) return null;
    return ((Date.now() - started) / 1000 / doneWork) * (todo.length - doneWork);
  };
  try {
    for (const [i, { scene, q }] of todo.entries()) {
      if (req.gate) await req.gate();
      if (req.signal?.aborted) break;
      const question = options.questions[q] ?? '';
      const index = items.length - todo.length + i + 1;
      req.onEvent?.({ type: 'item-start', scene, question: q, index, total: items.length });
      await journal.append({ scene, question: q, state: 'started', at: new Date().toISOString() });
      const t0 = Date.now();
      let record: JournalRecord;
      try {
        await removeStaleTemporaries(join(outputFolder, sceneFolder(scene)));
        const maskRel = options.formats.includes('mask') ? itemOutput(scene, q, 'mask') : undefined;
        const answer = await req.processor({
          scenePath: join(inputFolder, scene),
          question,
          threshold: options.threshold,
          minAreaM2: options.minAreaM2,
          cacheViews: options.questions.length > 1,
          ...(maskRel ? { maskPath: join(outputFolder, maskRel) } : {}),
          signal: req.signal ?? new AbortController().signal,
          onProgress: (fraction, stage) =>
            req.onEvent?.({ type: 'item-progress', scene, question: q, fraction, stage, etaSeconds: eta(fraction) }),
        });
        const outputs = await writeItemOutputs(outputFolder, scene, q, question, answer.features, options.formats);
        if (maskRel) outputs.unshift(maskRel);
        // Scenes in several CRSs (or the append failed): merged.gpkg is rebuilt at the end instead.
        if (merged && !(await merged.add(scene, q, answer.features).catch(() => false))) {
          await merged.discard();
          merged = null;
        }
        record = {
          scene,
          question: q,
          state: 'done',
          at: new Date().toISOString(),
          seconds: (Date.now() - t0) / 1000,
          polygons: answer.features.features.length,
          totalAreaM2: totalArea(answer.features),
          outputs,
          ...(answer.features.crsWkt === null
            ? { note: `the scene has no coordinate reference system: its polygons stay in the scene's own (pixel) coordinates, in the layer ${noCrsLayerName(q, question)} of merged.gpkg` }
            : {}),
        };
      } catch (err) {
        if (isSegEarthError(err, 'CANCELLED') || req.signal?.aborted) break;
        // Output folder problems stop the batch: every further scene would fail the same way.
        if (isSegEarthError(err, 'OUTPUT_NOT_WRITABLE')) throw err;
        await rmdir(join(outputFolder, sceneFolder(scene))).catch(() => undefined); // only when left empty
        record = { scene, question: q, state: 'failed', at: new Date().toISOString(), seconds: (Date.now() - t0) / 1000, error: toErrorPayload(err) };
      }
      await journal.append(record);
      records.set(itemKey(scene, q), record);
      finished += 1;
      req.onEvent?.({ type: 'item-end', record, index, total: items.length, etaSeconds: eta(0) });
    }
  } catch (err) {
    await merged?.discard();
    throw err;
  } finally {
    await journal.close();
  }

  const summary = summarize(inputFolder, options.questions, scenes, records, itemKey, shardLabel);
  await writeSummary(outputFolder, summary, shard);
  if (merged) {
    await merged.finish();
  } else if (mergedHere) {
    const inPlan = new Set(items.map(({ scene, q }) => itemKey(scene, q)));
    await writeMergedGeoPackage(outputFolder, options.questions, [...records.entries()].filter(([k]) => inPlan.has(k)).map(([, r]) => r));
  }
  req.onEvent?.({ type: 'finished', summary });
  return summary;
}
