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
 */
import { mkdir, readdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SegEarthError, isSegEarthError, toErrorPayload } from '../../shared/errors.js';
import type { FeatureSet } from '../../shared/featureSet.js';
import { writeAtomically } from '../../geo/atomicWrite.js';
import { writeGeoJson } from '../../geo/writers/geojson.js';
import { writeGeoPackage } from '../../geo/writers/geopackage.js';
import { writeShapefile } from '../../geo/writers/shapefile.js';
import { planDifferences, readPlan, writePlan, type BatchOptions, type BatchPlan, type OutputFormat } from './batchPlan.js';
import { itemKey, JournalWriter, readJournal, type JournalRecord } from './journal.js';
import { writeMergedGeoPackage } from './mergeResults.js';
import { MergedBuilder, MERGED_TEMP_PREFIX } from './mergedBuilder.js';
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

async function isEmptyFolder(folder: string): Promise<boolean> {
  try {
    return (await readdir(folder)).length === 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
}

/** Creates or checks the plan; returns it. */
async function preparePlan(req: BatchRequest, inputFolder: string, outputFolder: string): Promise<BatchPlan> {
  const saved = await readPlan(outputFolder);
  const shard = req.shard && req.shard.count > 1 ? req.shard : null;
  if (saved) {
    if (!req.resume) {
      throw new SegEarthError('OUTPUT_EXISTS', `${outputFolder} already holds a batch.`, {
        hint: 'Add --resume to continue it, or choose an empty output folder for a new batch.',
        path: outputFolder,
      });
    }
    const diffs = planDifferences(saved.options, req.options);
    if (saved.inputFolder !== inputFolder) diffs.unshift('input folder');
    if (JSON.stringify(saved.shard) !== JSON.stringify(shard)) diffs.push('shard');
    if (diffs.length > 0) {
      throw new SegEarthError('BAD_ARGUMENT', `Cannot resume: this batch was started with a different ${diffs.join(', ')}.`, {
        hint: 'Resume with the same questions, model and options, or start the new batch in another output folder.',
        path: outputFolder,
      });
    }
    return saved;
  }
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
  await writePlan(outputFolder, plan);
  return plan;
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
  const all = await discoverScenes(inputFolder, { include: options.include, exclude: options.exclude });
  const scenes = selectShard(all, req.shard);
  const plan = await preparePlan(req, inputFolder, outputFolder);
  const shardLabel = plan.shard ? `${plan.shard.index}/${plan.shard.count}` : null;
  const records = await readJournal(outputFolder);
  const items = scenes.flatMap((scene) => options.questions.map((_, q) => ({ scene, q })));
  const todo = items.filter(({ scene, q }) => records.get(itemKey(scene, q))?.state !== 'done');
  req.onEvent?.({ type: 'plan', scenes: scenes.length, items: items.length, alreadyDone: items.length - todo.length });

  // Temporary merged GeoPackages left by a killed run are stale: this run rebuilds merged.gpkg.
  for (const name of await readdir(outputFolder)) {
    if (name.startsWith(MERGED_TEMP_PREFIX)) await rm(join(outputFolder, name), { recursive: true, force: true });
  }
  // Built as items finish when no item of the plan is done yet; otherwise rebuilt at the end.
  let merged = options.merged && items.length === todo.length ? await MergedBuilder.create(outputFolder, options.questions) : null;
  const journal = await JournalWriter.open(outputFolder);
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
        await mkdir(join(outputFolder, sceneFolder(scene)), { recursive: true });
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
  await writeSummary(outputFolder, summary);
  if (merged) {
    await merged.finish();
  } else if (options.merged) {
    const inPlan = new Set(items.map(({ scene, q }) => itemKey(scene, q)));
    await writeMergedGeoPackage(outputFolder, options.questions, [...records.entries()].filter(([k]) => inPlan.has(k)).map(([, r]) => r));
  }
  req.onEvent?.({ type: 'finished', summary });
  return summary;
}
