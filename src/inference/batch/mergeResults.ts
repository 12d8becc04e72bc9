/**
 * @module inference/batch/mergeResults
 * Builds `merged.gpkg` from the per-scene `.features.json` files of every finished item: one layer per
 * question, each feature carrying `source` (the scene, relative to the input folder) and `question`. It is
 * rebuilt from scratch (temporary file, then rename), never appended to, so a resumed or merged batch cannot
 * hold a feature twice. Scenes in one CRS keep it; scenes in several CRSs are merged in EPSG:4326; scenes without
 * a CRS go to `<question layer>_no_crs` layers of their own (`MergedBuilder`). (An
 * uninterrupted batch builds the same file as its items finish, `runBatch` + `MergedBuilder`, without this
 * second reading of every item.)
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SegEarthError } from '../../shared/errors.js';
import { FeatureSetSchema, type FeatureSet } from '../../shared/featureSet.js';
import type { JournalRecord } from './journal.js';
import { MergedBuilder } from './mergedBuilder.js';
import { itemOutput } from './outputLayout.js';

export async function readItemFeatures(outputFolder: string, scene: string, q: number): Promise<FeatureSet> {
  const text = await readFile(join(outputFolder, itemOutput(scene, q, 'features')), 'utf8');
  return FeatureSetSchema.parse(JSON.parse(text));
}

/**
 * `records`: the finished items; `folderOf` says which output folder holds an item (several after `merge`).
 * Items are read and appended one at a time (`MergedBuilder`), so memory holds one item's features, not all.
 */
export async function writeMergedGeoPackage(
  outputFolder: string,
  questions: readonly string[],
  records: readonly JournalRecord[],
  folderOf: (record: JournalRecord) => string = () => outputFolder,
): Promise<{ path: string; featureCount: number }> {
  const done = records
    .filter((r) => r.state === 'done')
    .sort((a, b) => a.question - b.question || (a.scene < b.scene ? -1 : a.scene > b.scene ? 1 : 0));
  // One CRS: keep it. Several (found when an item differs from the first): start again in EPSG:4326 (scenes
  // without a CRS keep their own layers either way).
  for (const reprojectTo of [null, 'EPSG:4326']) {
    const builder = await MergedBuilder.create(outputFolder, questions, reprojectTo);
    try {
      let oneCrs = true;
      for (const record of done) {
        const features = await readItemFeatures(folderOf(record), record.scene, record.question);
        if (!(await builder.add(record.scene, record.question, features))) {
          oneCrs = false;
          break;
        }
      }
      if (oneCrs) return await builder.finish();
    } finally {
      await builder.discard();
    }
  }
  throw new SegEarthError('INTERNAL', 'The merged GeoPackage could not be built in EPSG:4326.', {
    hint: 'This is a bug in SegEarth Desktop; please report it.',
  });
}
