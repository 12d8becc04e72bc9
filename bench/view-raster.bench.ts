/**
 * @module bench/view-raster
 * What a `view` run costs after the model: the 256² mask logits of one question → the probability raster on
 * the output grid (`viewStrategy`: un-letterbox + bilinear resampling, valid-mask weights, the writer's
 * sigmoid, compression and heatmap preview) → the answer's polygons (`result.answerPolygons`: threshold +
 * Polygonize + `zonalMean`), per output size, each stage timed on its own. The logits are the official
 * fixture's `mask_logits_256` (../shared/fixtures, README there) when present, else a smooth synthetic field.
 *
 * Writer variants (`--variants`): `accumulator` (the tiled strategies' writer: the logits go through its
 * two-band accumulator file) or `grid` (`writeProbabilityGrid`, what a view run uses), each with a compression
 * (`deflate`, the kept file's; `zstd`, the app's own copy; `none`). Then the polygons of every size are burnt
 * on the scene's 4096² grid with `gdal_rasterize` and compared with those of the 4096² raster: IoU, area, and
 * how undecided the model is (|p − 0.5|) where they disagree.
 *
 * Run: `node --import tsx bench/view-raster.bench.ts [--sizes 4096,2048,1024] [--variants grid:zstd,...]
 * [--repeat 3]` (also `npm run bench:view`). The fastest of `--repeat` rounds counts (the machine is shared).
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { join } from 'node:path';
import { vectorizeMask } from '../src/geo/maskToPolygons.js';
import { writeProbabilityGrid, writeProbabilityRaster, type ProbabilityCompression, type RasterGrid } from '../src/geo/probabilityRaster.js';
import { windowGeoTransform } from '../src/geo/geoTransform.js';
import { SafetensorsFile } from '../src/inference/bundle/safetensors.js';
import { letterboxGeometry, unletterbox } from '../src/inference/preprocessing/preprocess.js';
import { resampleMask } from '../src/inference/scene/gridResampling.js';
import { annotatePolygons, PROVENANCE_FIELDS } from '../src/inference/scene/result.js';
import { writeFeatures } from '../src/geo/writers/writeFeatures.js';
import type { FeatureSet } from '../src/shared/featureSet.js';
import { OFFICIAL } from '../test/support/parityFixtures.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const sizes = (option('--sizes') ?? '4096,2048,1024').split(',').map(Number);
/** Writer variants: `accumulator` (the tiled strategies' road) or `grid` (`writeProbabilityGrid`) × compression. */
const variants = (option('--variants') ?? 'accumulator:deflate,grid:deflate,grid:zstd').split(',').map((v) => {
  const [writer, compression] = v.split(':') as ['accumulator' | 'grid', ProbabilityCompression];
  return { writer, compression };
});
const repeat = Number(option('--repeat') ?? 3);
/** The scene: 4096² px of 0.5 m in UTM 32631 (the clock bench's scenes have the same grid). */
const SCENE = 4096;
const SCENE_GT = [300000, 0.5, 0, 4000000, 0, -0.5] as const;
const CRS = 'EPSG:32631';

async function logits256(): Promise<{ logits: Float32Array; source: string }> {
  const io = join(OFFICIAL, 'io.safetensors');
  if (existsSync(io)) return { logits: (await SafetensorsFile.load(io)).float32('mask_logits_256'), source: 'official fixture mask_logits_256' };
  const logits = new Float32Array(256 * 256);
  for (let y = 0; y < 256; y++) for (let x = 0; x < 256; x++) logits[y * 256 + x] = 3 * Math.sin(x / 9) * Math.cos(y / 13) + Math.sin((x + y) / 5);
  return { logits, source: 'synthetic (fixtures not found)' };
}

interface Variant {
  writer: 'accumulator' | 'grid';
  compression: ProbabilityCompression;
}

interface Row {
  size: number;
  variant: Variant;
  bytes: number;
  stages: Record<string, number>;
  features: number;
}

async function once(size: number, variant: Variant, logits: Float32Array, dir: string, wkt: string): Promise<Row> {
  const stages: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string): void => {
    const now = performance.now();
    stages[name] = now - t;
    t = now;
  };
  const lb = { ...letterboxGeometry(SCENE, SCENE, 1024), srcWidth: size, srcHeight: size };
  const window = { x: 0, y: 0, width: SCENE, height: SCENE };
  const grid: RasterGrid = { width: size, height: size, geoTransform: windowGeoTransform([...SCENE_GT], window, size, size), crsWkt: wkt };
  const grid2 = unletterbox(logits, 256, lb);
  lap('resample');
  const weights = resampleMask(new Uint8Array(1024 * 1024).fill(1), 1024, 1024, size, size);
  lap('weights');
  const path = join(dir, `p${size}.tif`);
  const options = { overwrite: true, previewMaxSize: 1024, compression: variant.compression };
  if (variant.writer === 'grid') await writeProbabilityGrid(path, grid, options, grid2, weights);
  else await writeProbabilityRaster(path, grid, options, (sink) => sink.add({ x: 0, y: 0, width: size, height: size }, grid2, weights));
  lap('write');
  const bytes = statSync(path).size;
  const polygons = await vectorizeMask({ kind: 'file', path }, { threshold: 0.5, minAreaM2: 0, fields: PROVENANCE_FIELDS });
  lap('polygons');
  await annotatePolygons(polygons, path, { question: 'q', modelId: 'm', bundleSha256: 's', source: 'x', threshold: 0.5, createdAt: 'now' });
  lap('zonal');
  const raw = polygons.toFeatureSet();
  polygons.close();
  polygonsBySize.set(size, raw);
  if (size === SCENE) sceneLogits = grid2;
  return { size, variant, bytes, stages, features: raw.features.length };
}

/** The polygons of the last run per output size (the agreement check rasterizes them). */
const polygonsBySize = new Map<number, FeatureSet>();
/** The logits on the scene's own grid (the run at the scene's size), for the agreement check. */
let sceneLogits: Float32Array | null = null;

/**
 * Burns polygons onto the scene's full grid with `gdal_rasterize` (pixel centres inside → 1) and returns the
 * mask, so polygons from rasters of different sizes are compared on one grid.
 */
async function burn(features: FeatureSet, dir: string, name: string): Promise<Uint8Array> {
  const vector = join(dir, `${name}.gpkg`);
  const raster = join(dir, `${name}.tif`);
  await writeFeatures([{ name: 'answer', features }], vector, { overwrite: true });
  const [x0, a, , y0, , e] = SCENE_GT;
  execFileSync('gdal_rasterize', ['-q', '-burn', '1', '-ot', 'Byte', '-init', '0', '-te', String(x0), String(y0 + SCENE * e), String(x0 + SCENE * a), String(y0), '-ts', String(SCENE), String(SCENE), vector, raster]);
  const gdal = (await import('gdal-async')).default;
  const ds = gdal.open(raster);
  try {
    return ds.bands.get(1).pixels.read(0, 0, SCENE, SCENE) as Uint8Array;
  } finally {
    ds.close();
  }
}

/**
 * IoU and area ratio of polygons against a reference, both burnt on the scene's grid, and how undecided the
 * model is where they disagree: the largest and the 99th-percentile |p − 0.5| of the reference raster there.
 */
function agreement(mask: Uint8Array, reference: Uint8Array, referenceLogits: Float32Array): { iou: number; areaRatio: number; margin: number; margin99: number } {
  let both = 0;
  let either = 0;
  let area = 0;
  let refArea = 0;
  const margins: number[] = [];
  for (let i = 0; i < mask.length; i++) {
    const m = mask[i]!;
    const r = reference[i]!;
    if (m && r) both++;
    if (m || r) either++;
    area += m;
    refArea += r;
    if (m !== r) margins.push(Math.abs(1 / (1 + Math.exp(-referenceLogits[i]!)) - 0.5));
  }
  const sorted = Float64Array.from(margins).sort();
  return {
    iou: either ? both / either : 1,
    areaRatio: refArea ? area / refArea : 1,
    margin: sorted.length ? sorted[sorted.length - 1]! : 0,
    margin99: sorted.length ? sorted[Math.floor(sorted.length * 0.99)]! : 0,
  };
}

const { logits, source } = await logits256();
const gdal = (await import('gdal-async')).default;
const wkt = gdal.SpatialReference.fromUserInput(CRS).toWKT();
const dir = mkdtempSync(join(os.tmpdir(), 'segearth-bench-view-'));
try {
  console.log(`view raster after the model: ${SCENE}² scene, logits: ${source}; fastest of ${repeat}; load ${os.loadavg()[0]!.toFixed(1)}`);
  const rows: Row[] = [];
  const total = (x: Row): number => Object.values(x.stages).reduce((a, b) => a + b, 0);
  for (const size of sizes) {
    for (const variant of variants) {
      let best: Row | null = null;
      for (let r = 0; r < repeat; r++) {
        const row = await once(size, variant, logits, dir, wkt);
        if (!best || total(row) < total(best)) best = row;
      }
      rows.push(best!);
    }
  }
  const names = Object.keys(rows[0]!.stages);
  console.log(`| output px | writer | compression | MB | ${names.join(' ms | ')} ms | total ms | features |`);
  console.log(`|---:|---|---|---:|${names.map(() => '---:').join('|')}|---:|---:|`);
  for (const r of rows) {
    const cells = names.map((n) => r.stages[n]!.toFixed(0)).join(' | ');
    console.log(`| ${r.size}² | ${r.variant.writer} | ${r.variant.compression} | ${(r.bytes / 1e6).toFixed(1)} | ${cells} | ${total(r).toFixed(0)} | ${r.features} |`);
  }
  const full = polygonsBySize.get(SCENE);
  if (!full || !sceneLogits) throw new Error(`the agreement check needs ${SCENE} among --sizes`);
  const reference = await burn(full, dir, `burn${SCENE}`);
  console.log(`\npolygons against those of the ${SCENE}² raster (both burnt on the scene grid with gdal_rasterize); |p − 0.5| of the ${SCENE}² raster where they disagree:`);
  console.log('| output px | features | IoU | area ÷ reference | max \\|p − 0.5\\| | 99th pct \\|p − 0.5\\| |');
  console.log('|---:|---:|---:|---:|---:|---:|');
  for (const [size, features] of polygonsBySize) {
    const { iou, areaRatio, margin, margin99 } = agreement(await burn(features, dir, `burn${size}`), reference, sceneLogits);
    console.log(`| ${size}² | ${features.features.length} | ${iou.toFixed(4)} | ${areaRatio.toFixed(4)} | ${margin.toFixed(3)} | ${margin99.toFixed(3)} |`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
