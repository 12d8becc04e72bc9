import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gdal from 'gdal-async';
import { afterAll, describe, expect, it } from 'vitest';
import { writeProbabilityGrid, writeProbabilityRaster } from '../../src/geo/probabilityRaster.js';
import type { PolygonRings } from '../../src/geo/polygonMask.js';
import { gdalinfoJson } from '../support/syntheticRaster.js';
import { axisStarts, planTiles, tileWeights } from '../../src/inference/scene/tiling.js';
import { isSegEarthError } from '../../src/shared/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'segearth-tiling-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const UTM_WKT = gdal.SpatialReference.fromEPSG(32618).toWKT();

describe('planTiles', () => {
  it('covers the window with overlaps of at least `overlap`, last tile flush with the edge', () => {
    expect(axisStarts(1000, 1024, 128)).toEqual([0]);
    expect(axisStarts(1024, 1024, 128)).toEqual([0]);
    expect(axisStarts(1800, 1024, 128)).toEqual([0, 776]); // overlap 248
    expect(axisStarts(2000, 1024, 128)).toEqual([0, 488, 976]); // two tiles would overlap only 48 px
    expect(axisStarts(3000, 1024, 128)).toEqual([0, 659, 1317, 1976]);
    const plan = planTiles(3000, 1000);
    expect(plan.rows).toBe(1);
    expect(plan.cols).toBe(4);
    expect(plan.tiles[3]).toMatchObject({ x: 1976, y: 0, width: 1024, height: 1000, index: 3, col: 3 });
  });

  it('rejects an overlap of half a tile or more', () => {
    expect(() => planTiles(100, 100, 64, 32)).toThrow(/overlap/);
  });

  it('weights are positive, 1 in tile interiors and on window borders, ramped only on shared sides', () => {
    const plan = planTiles(300, 200, 128, 32);
    for (const t of plan.tiles) {
      const w = tileWeights(t, plan, 300, 200);
      expect(Math.min(...w)).toBeGreaterThan(0);
      expect(Math.max(...w)).toBe(1);
    }
    const first = plan.tiles[0]!;
    const w0 = tileWeights(first, plan, 300, 200);
    expect(w0[0]).toBe(1); // window corner
    expect(w0[127]).toBeLessThan(0.01); // right edge, shared with the next tile
    // every pixel of the window is covered by a positive total weight
    const total = new Float64Array(300 * 200);
    for (const t of plan.tiles) {
      const w = tileWeights(t, plan, 300, 200);
      for (let y = 0; y < t.height; y++) for (let x = 0; x < t.width; x++) total[(t.y + y) * 300 + t.x + x]! += w[y * t.width + x]!;
    }
    expect(Math.min(...total)).toBeGreaterThan(0.5);
  });
});

describe('writeProbabilityRaster', () => {
  const grid = { width: 300, height: 200, geoTransform: [500000, 2, 0, 4000000, 0, -2] as [number, number, number, number, number, number], crsWkt: UTM_WKT };

  it('stitches overlapping tiles of a position-independent field with no seams, georeferenced', async () => {
    const field = (x: number, y: number): number => Math.sin(x / 17) * 3 + Math.cos(y / 11) * 2;
    const plan = planTiles(grid.width, grid.height, 128, 32);
    const target = join(dir, 'prob.tif');
    await writeProbabilityRaster(target, grid, { blockSize: 64, metadata: { question: 'where?' } }, async (sink) => {
      for (const t of plan.tiles) {
        const logits = new Float32Array(t.width * t.height);
        for (let y = 0; y < t.height; y++) for (let x = 0; x < t.width; x++) logits[y * t.width + x] = field(t.x + x, t.y + y);
        await sink.add(t, logits, tileWeights(t, plan, grid.width, grid.height));
      }
    });
    const ds = gdal.open(target);
    expect(ds.rasterSize).toEqual({ x: 300, y: 200 });
    expect(ds.geoTransform).toEqual(grid.geoTransform);
    expect(ds.srs?.isSame(gdal.SpatialReference.fromEPSG(32618))).toBe(true);
    expect(ds.getMetadata().question).toBe('where?');
    const band = ds.bands.get(1);
    expect(band.dataType).toBe(gdal.GDT_Float32);
    const p = band.pixels.read(0, 0, 300, 200) as Float32Array;
    let maxErr = 0;
    for (let y = 0; y < 200; y++) {
      for (let x = 0; x < 300; x++) {
        const want = 1 / (1 + Math.exp(-field(x, y)));
        maxErr = Math.max(maxErr, Math.abs(p[y * 300 + x]! - want));
      }
    }
    expect(maxErr).toBeLessThan(1e-5);
    ds.close();
    expect(readdirSync(dir).filter((n) => n.startsWith('.segearth-tmp'))).toEqual([]);
  });

  it('a producer that is cancelled mid-way leaves nothing behind', async () => {
    const target = join(dir, 'cancelled.tif');
    const controller = new AbortController();
    const plan = planTiles(grid.width, grid.height, 128, 32);
    const err = await writeProbabilityRaster(target, grid, { signal: controller.signal }, async (sink) => {
      for (const t of plan.tiles) {
        if (t.index === 2) controller.abort();
        await sink.add(t, new Float32Array(t.width * t.height), tileWeights(t, plan, grid.width, grid.height));
      }
    }).catch((e: unknown) => e);
    expect(isSegEarthError(err, 'CANCELLED')).toBe(true);
    expect(existsSync(target)).toBe(false);
    expect(readdirSync(dir).filter((n) => n.includes('cancelled'))).toEqual([]);
  });

  it('refuses to overwrite an existing output', async () => {
    const target = join(dir, 'prob.tif');
    const err = await writeProbabilityRaster(target, grid, {}, async () => {}).catch((e: unknown) => e);
    expect(isSegEarthError(err, 'OUTPUT_EXISTS')).toBe(true);
  });
});

describe('writeProbabilityGrid', () => {
  const grid = { width: 300, height: 200, geoTransform: [500000, 2, 0, 4000000, 0, -2] as [number, number, number, number, number, number], crsWkt: UTM_WKT };
  const field = (x: number, y: number): number => Math.sin(x / 13) * 4 - Math.cos(y / 7);
  const logits = Float32Array.from({ length: 300 * 200 }, (_, i) => field(i % 300, Math.floor(i / 300)));
  // A band of uncovered pixels (nodata in the source) and a triangle AOI.
  const covered = Uint8Array.from({ length: 300 * 200 }, (_, i) => (i % 300 >= 70 && i % 300 < 90 ? 0 : 1));
  const inside: PolygonRings[] = [[[[500100, 4000000], [500600, 4000000], [500100, 3999600], [500100, 4000000]]]];

  function read(path: string): Float32Array {
    const ds = gdal.open(path);
    const p = ds.bands.get(1).pixels.read(0, 0, 300, 200) as Float32Array;
    ds.close();
    return p;
  }

  it('writes what the accumulating writer writes for one tile of weight 1 (bit for bit), preview and maximum included', async () => {
    const options = { blockSize: 64, inside, previewMaxSize: 100 };
    const direct = await writeProbabilityGrid(join(dir, 'grid.tif'), grid, options, logits, covered);
    const tiled = await writeProbabilityRaster(join(dir, 'tiled.tif'), grid, options, (sink) =>
      sink.add({ x: 0, y: 0, width: 300, height: 200 }, logits, Float32Array.from(covered)),
    );
    const a = read(direct.path);
    expect(Buffer.from(a.buffer).equals(Buffer.from(read(tiled.path).buffer))).toBe(true);
    expect(direct.maxProbability).toBe(tiled.maxProbability);
    expect(direct.preview).toEqual(tiled.preview);
    // Independent of either writer: sigmoid inside the AOI where covered, 0 elsewhere.
    const x = 60;
    const y = 20; // world (500120, 3999960): inside the triangle
    expect(a[y * 300 + x]).toBeCloseTo(1 / (1 + Math.exp(-field(x, y))), 6);
    expect(a[20 * 300 + 80]).toBe(0); // inside the AOI, not covered
    expect(a[150 * 300 + 250]).toBe(0); // outside the AOI
  });

  it('DEFLATE by default, ZSTD when asked (gdalinfo), the same values', async () => {
    const deflate = await writeProbabilityGrid(join(dir, 'deflate.tif'), grid, {}, logits, covered);
    const zstd = await writeProbabilityGrid(join(dir, 'zstd.tif'), grid, { compression: 'zstd' }, logits, covered);
    const compression = (path: string): unknown => (gdalinfoJson(path).metadata as { IMAGE_STRUCTURE: { COMPRESSION: string } }).IMAGE_STRUCTURE.COMPRESSION;
    expect(compression(deflate.path)).toBe('DEFLATE');
    expect(compression(zstd.path)).toBe('ZSTD');
    expect(Buffer.from(read(zstd.path).buffer).equals(Buffer.from(read(deflate.path).buffer))).toBe(true);
  });

  it('refuses arrays that do not match the grid', async () => {
    await expect(writeProbabilityGrid(join(dir, 'bad.tif'), grid, {}, logits.subarray(1), covered)).rejects.toThrow(/got 59999 logits/);
  });
});
