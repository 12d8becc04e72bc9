/**
 * One answer pipeline for the app, the CLI and batch, on the production path: the app's inference service over
 * the real runtime adapter (tiny bundle, worker thread) answers a question about a real Landsat scene; then
 * `segearth ask` and `segearth batch` (the binaries, in their own processes) answer the same question with
 * the same settings. All three GeoPackages, read back with GDAL's `ogr2ogr`, hold the same polygons with the
 * same attributes. The app's highest probability is the exact maximum of its probability raster (read back
 * with GDAL), the same number `segearth ask --json` prints; its provenance carries the sha256 of the bundle's
 * manifest (hashed here); re-vectorising at the same threshold gives the same polygons without running the
 * model; a polygon AOI leaves nothing but zeros outside the polygon (checked with `gdal_rasterize`).
 */
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gdal from 'gdal-async';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/main/services/createApi.js';
import type { InferenceBackend } from '../../src/main/services/backends.js';
import type { Aoi, JobEvent, ResultSummary } from '../../src/shared/api/dto.js';
import { TESTDATA_DIR } from '../support/parityFixtures.js';
import { createAppBackend } from '../support/appBackend.js';
import { ensureTinyBundle, REPO_ROOT } from '../support/tinyBundle.js';
import { readBackLayer, type ReadBackFeature } from '../support/vectorReadBack.js';

const SCENE = join(TESTDATA_DIR, 'landsat-rgb', 'RGB.byte.tif');
/** 1300² px: larger than the 1024-px heatmap, so a decimated read could miss the highest probability. */
const LARGE_SCENE = join(TESTDATA_DIR, 'spacenet-roads', 'road_mask_input.tif');
const haveScene = existsSync(SCENE);
if (!haveScene) console.warn(`answerPipeline: skipped, ${SCENE} is absent (real imagery lives outside the repo).`);
const QUESTION = 'where could flood water spread?';

let dir: string;
let scene: string;
let bundle: string;
let backend: Backend;
let runtime: InferenceBackend;
let events: JobEvent[];

function segearth(...args: string[]): string {
  const run = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/segearth.js'), ...args], { encoding: 'utf8', timeout: 300_000 });
  if (run.status !== 0) throw new Error(`segearth ${args[0]} exited ${run.status}: ${run.stderr}`);
  return run.stdout;
}

async function appAsk(threshold: number, aoi: Aoi = { kind: 'scene' }): Promise<ResultSummary> {
  const layer = (await backend.api.workspace.listLayers({}, { transport: 'direct' }))[0]!;
  const { jobId } = await backend.api.inference.ask(
    { layerId: layer.id, question: QUESTION, aoi, threshold, minAreaM2: 0, strategy: 'view' },
    { transport: 'direct' },
  );
  await backend.inference.idle();
  const last = events.filter((e) => e.jobId === jobId).at(-1)!;
  if (last.type !== 'result') throw new Error(`no result: ${JSON.stringify(last)}`);
  return last.result;
}

/** Highest value of band 1 of a raster, read with GDAL. */
function rasterMax(path: string): number {
  const ds = gdal.open(path);
  try {
    const { x, y } = ds.rasterSize;
    const data = ds.bands.get(1).pixels.read(0, 0, x, y) as Float32Array;
    let max = 0;
    for (const v of data) if (v > max) max = v;
    return max;
  } finally {
    ds.close();
  }
}

/** Polygons as comparable records: geometry and the attributes that do not depend on when or where they were written. */
function comparable(features: ReadBackFeature[]): string[] {
  return features
    .map((f) => {
      const { created_at: _created, id: _id, fid: _fid, ...rest } = f.properties as Record<string, unknown>;
      return JSON.stringify({ geometry: f.geometry, properties: Object.fromEntries(Object.entries(rest).sort()) });
    })
    .sort();
}

beforeAll(async () => {
  if (!haveScene) return;
  bundle = await ensureTinyBundle();
  dir = mkdtempSync(join(tmpdir(), 'segearth-pipeline-'));
  mkdirSync(join(dir, 'scenes'));
  scene = join(dir, 'scenes', 'RGB.byte.tif');
  copyFileSync(SCENE, scene);
  ({ backend, runtime, events } = await createAppBackend(dir, bundle));
  await backend.api.workspace.openRaster({ path: scene }, { transport: 'direct' });
}, 300_000);

afterAll(async () => {
  if (!backend) return;
  backend.inference.cancelAll();
  await backend.inference.idle();
  await backend.batch.idle();
  await runtime.dispose?.();
  rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
});

describe.skipIf(!haveScene)('one answer pipeline (tiny bundle, Landsat scene)', () => {
  it('the app, segearth ask and segearth batch give the same polygons for the same question and settings', async () => {
    const first = await appAsk(0.5);
    const cached = join(dir, 'data', 'cache', 'results', `${first.id}.probability.tif`);
    // Exact: the maximum of the raster the answer wrote, not of a decimated read.
    expect(first.maxProbability).toBe(rasterMax(cached));
    expect(first.maxProbability).toBeGreaterThan(0);

    // A threshold just under the highest probability: the tiny model's random answer gives polygons there.
    const threshold = Math.round(Math.max(first.maxProbability / 2, first.maxProbability - 0.01) * 1e4) / 1e4;
    const app = await appAsk(threshold);
    expect(app.featureCount).toBeGreaterThan(0);
    const features = await backend.api.inference.getFeatures({ resultId: app.id }, { transport: 'direct' });
    const manifestSha = createHash('sha256').update(readFileSync(join(bundle, 'manifest.json'))).digest('hex');
    for (const f of features.features) {
      expect(f.properties).toMatchObject({ question: QUESTION, model_id: 'tiny-test', bundle_sha: manifestSha, source: scene, threshold });
      expect(f.properties.mean_prob).toBeGreaterThanOrEqual(threshold - 1e-4);
    }

    // The slider path: the first answer re-vectorised at the same threshold, the model not run again.
    const mtime = statSync(cached).mtimeMs;
    const redrawn = await backend.api.inference.revectorize({ resultId: first.id, threshold, minAreaM2: 0 }, { transport: 'direct' });
    expect(redrawn.result.featureCount).toBe(app.featureCount);
    expect(statSync(cached).mtimeMs).toBe(mtime);

    const appGpkg = join(dir, 'app.gpkg');
    await backend.api.export.results({ resultIds: [app.id], format: 'gpkg', path: appGpkg, overwrite: false }, { transport: 'direct' });
    const redrawnGpkg = join(dir, 'redrawn.gpkg');
    await backend.api.export.results({ resultIds: [first.id], format: 'gpkg', path: redrawnGpkg, overwrite: false }, { transport: 'direct' });

    const cliGpkg = join(dir, 'cli.gpkg');
    const cli = JSON.parse(
      segearth('ask', scene, QUESTION, '-o', cliGpkg, '--model', bundle, '--strategy', 'view', '--threshold', String(threshold), '--json'),
    ) as { maxProbability: number; featureCount: number };
    expect(cli.maxProbability).toBe(first.maxProbability);

    const out = join(dir, 'batch');
    segearth('batch', join(dir, 'scenes'), '-q', QUESTION, '-o', out, '--model', bundle, '--strategy', 'view', '--threshold', String(threshold), '--format', 'gpkg', '--no-merged');
    const batchGpkg = join(out, 'scenes', 'RGB.byte_tif', 'q1.gpkg');

    const appPolygons = comparable(readBackLayer(appGpkg).features);
    expect(appPolygons).toHaveLength(app.featureCount);
    expect(comparable(readBackLayer(redrawnGpkg).features)).toEqual(appPolygons);
    expect(comparable(readBackLayer(cliGpkg).features)).toEqual(appPolygons);
    expect(comparable(readBackLayer(batchGpkg).features)).toEqual(appPolygons);
  }, 600_000);

  it('reports the exact highest probability of a scene larger than the heatmap', async () => {
    const large = join(dir, 'scenes-large', 'road_mask_input.tif');
    mkdirSync(join(dir, 'scenes-large'));
    copyFileSync(LARGE_SCENE, large);
    const layer = await backend.api.workspace.openRaster({ path: large }, { transport: 'direct' });
    const { jobId } = await backend.api.inference.ask(
      // Tiled: the source grid (1300²), larger than the heatmap (a view run's raster is at most 1024 px).
      { layerId: layer.id, question: QUESTION, aoi: { kind: 'scene' }, threshold: 0.5, minAreaM2: 0, strategy: 'tiled' },
      { transport: 'direct' },
    );
    await backend.inference.idle();
    const last = events.filter((e) => e.jobId === jobId).at(-1)!;
    if (last.type !== 'result') throw new Error(`no result: ${JSON.stringify(last)}`);
    expect(last.result.probability).toMatchObject({ width: 1300, height: 1300 });
    expect(last.result.maxProbability).toBe(rasterMax(join(dir, 'data', 'cache', 'results', `${last.result.id}.probability.tif`)));
    await backend.api.workspace.removeLayer({ layerId: layer.id }, { transport: 'direct' });
  }, 600_000);

  it('applies a polygon AOI once: zero outside the polygon (gdal_rasterize), polygons inside it', async () => {
    // A triangle over the scene's centre, in its CRS (UTM 18N).
    const info = (await backend.api.workspace.listLayers({}, { transport: 'direct' }))[0]!.info;
    const [minX, minY, maxX, maxY] = info.bounds;
    const w = maxX - minX;
    const h = maxY - minY;
    const ring: Array<[number, number]> = [
      [minX + 0.2 * w, minY + 0.2 * h],
      [minX + 0.8 * w, minY + 0.3 * h],
      [minX + 0.4 * w, minY + 0.8 * h],
      [minX + 0.2 * w, minY + 0.2 * h],
    ];
    const probe = await appAsk(0.5, { kind: 'polygon', ring });
    const threshold = Math.round(Math.max(probe.maxProbability / 2, probe.maxProbability - 0.01) * 1e4) / 1e4;
    const result = await appAsk(threshold, { kind: 'polygon', ring });
    const cached = join(dir, 'data', 'cache', 'results', `${result.id}.probability.tif`);

    // gdal_rasterize burns the triangle onto a copy of the probability raster's grid: 1 inside.
    const inside = join(dir, 'inside.tif');
    execFileSync('gdal_translate', ['-q', '-ot', 'Byte', '-scale', '0', '1', '0', '0', cached, inside]);
    const geojson = join(dir, 'aoi.geojson');
    const crs = { type: 'name', properties: { name: info.crs!.code } };
    writeFileSync(geojson, JSON.stringify({ type: 'FeatureCollection', crs, features: [{ type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [ring] } }] }));
    execFileSync('gdal_rasterize', ['-q', '-burn', '1', geojson, inside]);
    const read = (path: string): ArrayLike<number> => {
      const ds = gdal.open(path);
      try {
        return ds.bands.get(1).pixels.read(0, 0, ds.rasterSize.x, ds.rasterSize.y) as unknown as ArrayLike<number>;
      } finally {
        ds.close();
      }
    };
    const p = read(cached);
    const mask = read(inside);
    let outsideMax = 0;
    let insideMax = 0;
    let insideCount = 0;
    for (let i = 0; i < p.length; i++) {
      if (mask[i]) {
        insideCount++;
        insideMax = Math.max(insideMax, p[i]!);
      } else outsideMax = Math.max(outsideMax, p[i]!);
    }
    expect(insideCount).toBeGreaterThan(1000);
    expect(outsideMax).toBe(0);
    expect(result.maxProbability).toBe(insideMax);

    expect(result.featureCount).toBeGreaterThan(0);
    const features = await backend.api.inference.getFeatures({ resultId: result.id }, { transport: 'direct' });
    const [bx0, by0, bx1, by1] = [minX + 0.2 * w, minY + 0.2 * h, minX + 0.8 * w, minY + 0.8 * h];
    const pixel = info.geoTransform[1];
    let area = 0;
    for (const f of features.features) {
      area += f.properties.area_m2 as number;
      for (const ringCoords of f.geometry.type === 'Polygon' ? f.geometry.coordinates : f.geometry.coordinates.flat()) {
        for (const [x, y] of ringCoords) {
          expect(x).toBeGreaterThanOrEqual(bx0 - pixel);
          expect(x).toBeLessThanOrEqual(bx1 + pixel);
          expect(y).toBeGreaterThanOrEqual(by0 - pixel);
          expect(y).toBeLessThanOrEqual(by1 + pixel);
        }
      }
    }
    // No more area than the triangle itself.
    expect(area).toBeGreaterThan(0);
    expect(area).toBeLessThanOrEqual(0.5 * Math.abs((0.6 * w) * (0.6 * h) - (0.2 * w) * (0.1 * h)) + 4 * pixel * pixel * features.features.length);
    expect(result.totalAreaM2).toBeCloseTo(area, 3);
  }, 600_000);
});
