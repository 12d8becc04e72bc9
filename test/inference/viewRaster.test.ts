/**
 * The `view` strategy's probability raster on a scene larger than the model's answer: at most 1024 px per side
 * by default, georeferenced exactly over the window (checked with `gdalinfo`), DEFLATE for a kept file and ZSTD
 * for the app's own copy; and the answer's polygons on it (`runtime.polygons`, the app's slider road) against
 * GDAL's own tools on the same raster: `gdal_calc.py` threshold → `gdal_polygonize.py -8`, both burnt back
 * with `gdal_rasterize`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gdal from 'gdal-async';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFeatures } from '../../src/geo/writers/writeFeatures.js';
import { InferenceRuntime } from '../../src/inference/runtime/runtime.js';
import { gdalinfoJson } from '../support/syntheticRaster.js';
import { ensureTinyBundle } from '../support/tinyBundle.js';
import { writeScene } from './support/scenes.js';

const dir = mkdtempSync(join(tmpdir(), 'segearth-view-raster-'));
const scene = join(dir, 'scene.tif');
let runtime: InferenceRuntime;

beforeAll(async () => {
  // 2300 × 1500 px of 2 m from (500000, 4000000): larger than 2× the model's input, so the view is read at 1024.
  writeScene(scene, 2300, 1500);
  runtime = await InferenceRuntime.open(await ensureTinyBundle(), { ep: 'cpu', worker: false });
}, 300_000);

afterAll(async () => {
  await runtime?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

interface GdalInfo {
  size: [number, number];
  geoTransform: number[];
  cornerCoordinates: { upperLeft: [number, number]; lowerRight: [number, number] };
  metadata: { IMAGE_STRUCTURE?: { COMPRESSION?: string } };
}

function expectClose(actual: readonly number[], expected: readonly number[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
}

function readBand(path: string): { data: Float32Array | Uint8Array; width: number; height: number } {
  const ds = gdal.open(path);
  try {
    const { x: width, y: height } = ds.rasterSize;
    return { data: ds.bands.get(1).pixels.read(0, 0, width, height) as Float32Array | Uint8Array, width, height };
  } finally {
    ds.close();
  }
}

describe('view strategy: the probability raster of a large window', () => {
  it('the whole scene: 1024 px on the long side, exactly over the scene (gdalinfo), DEFLATE by default', async () => {
    const path = join(dir, 'whole.tif');
    const result = await runtime.ask({ rasterPath: scene, question: 'where are the fields?', strategy: 'view', probabilityPath: path, skipPolygons: true });
    expect(result.window).toEqual({ x: 0, y: 0, width: 2300, height: 1500 });
    expect([result.grid.width, result.grid.height]).toEqual([1024, 668]); // 1500 / (2300 / 1024) = 667.8
    const info = gdalinfoJson(path) as unknown as GdalInfo;
    expect(info.size).toEqual([1024, 668]);
    expectClose(info.geoTransform, [500000, 4600 / 1024, 0, 4000000, 0, -3000 / 668]);
    expectClose(info.cornerCoordinates.upperLeft, [500000, 4000000]);
    expectClose(info.cornerCoordinates.lowerRight, [504600, 3997000]);
    expect(info.metadata.IMAGE_STRUCTURE?.COMPRESSION).toBe('DEFLATE');
  }, 300_000);

  it('an AOI: the grid covers exactly its window, ZSTD when asked; polygons equal gdal_polygonize on the same raster', async () => {
    const path = join(dir, 'aoi.tif');
    // Pixels 100..2200 × 100..1300 of the scene.
    const aoi: [number, number, number, number] = [500200, 3997400, 504400, 3999800];
    const result = await runtime.ask({
      rasterPath: scene,
      question: 'where are the fields?',
      aoi,
      strategy: 'view',
      probabilityPath: path,
      probabilityCompression: 'zstd',
      skipPolygons: true,
    });
    expect(result.window).toEqual({ x: 100, y: 100, width: 2100, height: 1200 });
    const info = gdalinfoJson(path) as unknown as GdalInfo;
    expect(info.size).toEqual([1024, 585]); // 1200 / (2100 / 1024) = 585.1
    expectClose(info.cornerCoordinates.upperLeft, [aoi[0], aoi[3]]);
    expectClose(info.cornerCoordinates.lowerRight, [aoi[2], aoi[1]]);
    expect(info.metadata.IMAGE_STRUCTURE?.COMPRESSION).toBe('ZSTD');

    // A threshold that splits the random model's probabilities in two (a float32 value, so JavaScript's and
    // numpy's comparisons agree exactly).
    const probability = readBand(path);
    const sorted = Float32Array.from(probability.data).sort();
    const threshold = sorted[Math.floor(sorted.length * 0.6)]!;
    expect(threshold > 0 && threshold < 1).toBe(true);
    const ours = await runtime.polygons(path, { threshold, minAreaM2: 0 }, { question: 'where are the fields?', source: scene, createdAt: new Date().toISOString() });
    expect(ours.features.length).toBeGreaterThan(0);

    // GDAL's tools: threshold (0 = nodata, so only the foreground is polygonized), 8-connected polygons.
    const mask = join(dir, 'mask.tif');
    const reference = join(dir, 'reference.gpkg');
    execFileSync('gdal_calc.py', ['--quiet', '-A', path, '--calc', `A>=${threshold}`, '--type', 'Byte', '--NoDataValue', '0', '--outfile', mask]);
    execFileSync('gdal_polygonize.py', ['-q', '-8', mask, '-f', 'GPKG', reference]);
    const refDs = gdal.open(reference);
    const refAreas = refDs.layers.get(0).features.map((f) => (f.getGeometry() as gdal.Polygon).getArea());
    refDs.close();
    expect(ours.features.length).toBe(refAreas.length);
    const ourArea = ours.features.reduce((n, f) => n + (f.properties.area_m2 as number), 0);
    const refArea = refAreas.reduce((n, a) => n + a, 0);
    expect(Math.abs(ourArea - refArea) / refArea).toBeLessThan(1e-9);

    // Both burnt on the raster's grid: the same pixels, and exactly the thresholded ones.
    const oursFile = join(dir, 'ours.gpkg');
    await writeFeatures([{ name: 'answer', features: ours }], oursFile);
    const burn = (vector: string, name: string): Uint8Array => {
      const out = join(dir, name);
      execFileSync('gdal_rasterize', ['-q', '-burn', '1', '-init', '0', '-ot', 'Byte', '-te', String(aoi[0]), String(aoi[1]), String(aoi[2]), String(aoi[3]), '-ts', '1024', '585', vector, out]);
      return readBand(out).data as Uint8Array;
    };
    const oursBurnt = burn(oursFile, 'ours-burnt.tif');
    const refBurnt = burn(reference, 'reference-burnt.tif');
    let differ = 0;
    let differFromMask = 0;
    let foreground = 0;
    for (let i = 0; i < oursBurnt.length; i++) {
      if (oursBurnt[i] !== refBurnt[i]) differ++;
      const want = probability.data[i]! >= threshold ? 1 : 0;
      if (oursBurnt[i] !== want) differFromMask++;
      foreground += want;
    }
    expect(foreground).toBeGreaterThan(0);
    expect(differ).toBe(0);
    expect(differFromMask).toBe(0);
  }, 300_000);
});
