/**
 * @module inference/batch/mergeResults
 * Builds `merged.gpkg` from the per-scene `.features.json` files of every finished item: one layer per
 * question, each feature carrying `source` (the scene, relative to the input folder) and `question`. It is
 * always rebuilt from scratch (temporary file, then rename), never appended to, so a resumed or merged batch
 * cannot hold a feature twice. Scenes in one CRS keep it; scenes in several CRSs are merged in EPSG:4326.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FeatureSetSchema, type FeatureSet, type VectorFeature } from '../../shared/featureSet.js';
import { reprojectFeatureSet } from '../../geo/reproject.js';
import { writeGeoPackage } from '../../geo/writers/geopackage.js';
import type { JournalRecord } from './journal.js';
import { itemOutput, MERGED_FILE, questionLayerName } from './outputLayout.js';

export async function readItemFeatures(outputFolder: string, scene: string, q: number): Promise<FeatureSet> {
  const text = await readFile(join(outputFolder, itemOutput(scene, q, 'features')), 'utf8');
  return FeatureSetSchema.parse(JSON.parse(text));
}

/** `records`: the finished items; `folderOf` says which output folder holds an item (several after `merge`). */
export async function writeMergedGeoPackage(
  outputFolder: string,
  questions: readonly string[],
  records: readonly JournalRecord[],
  folderOf: (record: JournalRecord) => string = () => outputFolder,
): Promise<{ path: string; featureCount: number }> {
  const done = records
    .filter((r) => r.state === 'done')
    .sort((a, b) => a.question - b.question || (a.scene < b.scene ? -1 : a.scene > b.scene ? 1 : 0));
  const sets: { record: JournalRecord; features: FeatureSet }[] = [];
  for (const record of done) {
    sets.push({ record, features: await readItemFeatures(folderOf(record), record.scene, record.question) });
  }
  const crsKeys = new Set(sets.map((s) => s.features.crsCode ?? s.features.crsWkt ?? 'none'));
  // One CRS: keep it. Several: everything in EPSG:4326 (scenes without georeferencing cannot be merged with others).
  const projected = crsKeys.size <= 1 ? sets : sets.map((s) => ({ ...s, features: reprojectFeatureSet(s.features, 'EPSG:4326') }));
  const crsWkt = projected[0]?.features.crsWkt ?? null;
  const crsCode = projected[0]?.features.crsCode ?? null;
  const layers = questions.map((question, q) => {
    const features: VectorFeature[] = [];
    for (const { record, features: fs } of projected.filter((s) => s.record.question === q)) {
      for (const f of fs.features) {
        const id = features.length + 1;
        features.push({ id, geometry: f.geometry, properties: { ...f.properties, id, source: record.scene, question } });
      }
    }
    return { name: questionLayerName(q, question), features: { crsWkt, crsCode, features } };
  });
  const path = join(outputFolder, MERGED_FILE);
  const result = await writeGeoPackage(layers, path, { overwrite: true });
  return { path, featureCount: result.featureCount };
}
