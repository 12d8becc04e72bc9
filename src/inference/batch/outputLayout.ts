/**
 * @module inference/batch/outputLayout
 * Where a batch puts things in its output folder (documented in the README):
 *
 *   batch.json                  the plan (questions, model, options)
 *   journal.jsonl               one line per state change, the basis of --resume
 *   journal.shard-<i>-of-<n>.jsonl, summary.shard-<i>-of-<n>.{json,csv}
 *                               the same for shard i/n (shards may share the folder; `segearth merge` then writes
 *                               the batch's summary.* and merged.gpkg)
 *   scenes/<scene>/q<k>.*       per-scene outputs for question k (1-based): .features.json (always; what merges
 *                               are built from), .gpkg, .geojson, .shp (+ .shx .dbf .prj .cpg), .probability.tif
 *                               (format `mask`: the float32 probability raster on the scene grid)
 *   merged.gpkg                 one layer per question, every feature with its `source` scene (plus
 *                               `<layer>_no_crs` for scenes without a CRS)
 *   summary.json, summary.csv   per (scene, question): status, time, polygons, total area, error
 *
 * `<scene>` is the scene's path relative to the input folder with its extension's dot made an underscore
 * (`2024/tile_07.tif` → `2024/tile_07_tif`), so two scenes never share a folder.
 */
import { posix } from 'node:path';
import type { OutputFormat } from './batchPlan.js';

export const SCENES_DIR = 'scenes';
export const MERGED_FILE = 'merged.gpkg';

export function sceneFolder(scene: string): string {
  const ext = posix.extname(scene);
  const stem = ext ? `${scene.slice(0, -ext.length)}_${ext.slice(1)}` : scene;
  return posix.join(SCENES_DIR, stem);
}

/** Relative output path of one format for question index `q` (0-based) of `scene`. */
export function itemOutput(scene: string, q: number, format: OutputFormat | 'features'): string {
  const base = posix.join(sceneFolder(scene), `q${q + 1}`);
  switch (format) {
    case 'features':
      return `${base}.features.json`;
    case 'gpkg':
      return `${base}.gpkg`;
    case 'geojson':
      return `${base}.geojson`;
    case 'shp':
      return `${base}.shp`;
    case 'mask':
      return `${base}.probability.tif`;
  }
}

/** A GeoPackage/Shapefile-safe layer name for question k: `q1_where_could_flood_water_spread`. */
export function questionLayerName(q: number, question: string): string {
  const slug = question
    .normalize('NFKD')
    .replace(/[^\p{L}\p{N}]+/gu, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase()
    .slice(0, 40);
  return slug ? `q${q + 1}_${slug}` : `q${q + 1}`;
}
