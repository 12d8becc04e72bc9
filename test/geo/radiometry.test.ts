/**
 * Radiometry: 2–98 % cut computed once per raster from valid values, 8-bit identity, cache keyed by file
 * content, overview-based sampling for big rasters, and the default band mapping rules.
 */
import fs from 'node:fs';
import path from 'node:path';
import gdal from 'gdal-async';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getStretch, stretchValue } from '../../src/geo/radiometry.js';
import { resolveBandMapping } from '../../src/geo/bandMapping.js';
import { openRaster } from '../../src/geo/openRaster.js';
import { readRegion } from '../../src/geo/readRegion.js';
import { closeAllRasters } from '../../src/geo/datasetCache.js';
import { createRaster, createSparseRaster, makeTempDir, removeDir } from '../support/syntheticRaster.js';

/** The QGIS-style cumulative cut the brief asks for. */
const CUT_LOW = 0.02;
const CUT_HIGH = 0.98;

let dir: string;
beforeAll(() => {
  dir = makeTempDir();
});
afterAll(() => {
  closeAllRasters();
  removeDir(dir);
});

/** Independent nearest-rank quantile over all values of a list. */
function cut(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.round(q * (s.length - 1))];
}

describe('stretch', () => {
  it('8-bit bands pass through unchanged', async () => {
    const file = createRaster(path.join(dir, 'byte.tif'), { width: 40, height: 30, bandCount: 3, value: (b, x, y) => (b * 30 + x * y) % 256 });
    const s = await getStretch(file);
    expect(s.rgb.every((t) => t.identity)).toBe(true);
    for (const v of [0, 1, 77, 254, 255]) expect(stretchValue(s.rgb[0], v)).toBe(v);
  });

  it('Float32: 2–98 % of the valid values (NaN and nodata excluded)', async () => {
    const value = (_b: number, x: number, y: number): number => (x === 0 ? Number.NaN : y === 0 ? -1 : Math.sin(x * 0.37) * 100 + y * 0.5);
    const file = createRaster(path.join(dir, 'f32.tif'), { width: 90, height: 70, dataType: 'Float32', noData: -1, value });
    const expected: number[] = [];
    for (let y = 0; y < 70; y++) for (let x = 0; x < 90; x++) if (x !== 0 && y !== 0) expected.push(Math.fround(value(1, x, y)));
    const s = await getStretch(file);
    expect(s.sampleCount).toBe(89 * 69);
    expect(s.rgb[0].min).toBeCloseTo(cut(expected, CUT_LOW), 5);
    expect(s.rgb[0].max).toBeCloseTo(cut(expected, CUT_HIGH), 5);
    expect(stretchValue(s.rgb[0], s.rgb[0].min)).toBe(0);
    expect(stretchValue(s.rgb[0], s.rgb[0].max)).toBe(255);
    expect(stretchValue(s.rgb[0], (s.rgb[0].min + s.rgb[0].max) / 2)).toBe(128);
  });

  it('is computed once and cached, and recomputed when the file changes', async () => {
    const file = path.join(dir, 'cache.tif');
    createRaster(file, { width: 50, height: 50, dataType: 'UInt16', value: (_b, x) => 100 + x });
    const a = await getStretch(file);
    expect(await getStretch(file)).toBe(a);
    expect(a.rgb[0].min).toBe(cut(Array.from({ length: 2500 }, (_, i) => 100 + (i % 50)), CUT_LOW));
    await new Promise((r) => setTimeout(r, 20));
    fs.rmSync(file);
    createRaster(file, { width: 50, height: 50, dataType: 'UInt16', value: (_b, x) => 5000 + 2 * x });
    const b = await getStretch(file);
    expect(b).not.toBe(a);
    expect(b.rgb[0].min).toBe(cut(Array.from({ length: 2500 }, (_, i) => 5000 + 2 * (i % 50)), CUT_LOW));
  });

  it('large rasters are sampled through their overviews', async () => {
    // full resolution 2000..2999, overview levels hold 7000..7099: a sample from the overviews shows 7000s
    const file = createRaster(path.join(dir, 'big-ovr.tif'), {
      width: 2400,
      height: 2400,
      dataType: 'UInt16',
      value: (_b, x) => 2000 + (x % 1000),
      overviews: [2, 4],
      overviewValue: (_b, _l, x) => 7000 + (x % 100),
    });
    const s = await getStretch(file);
    expect(s.rgb[0].min).toBeGreaterThanOrEqual(7000);
    expect(s.rgb[0].max).toBeLessThan(7100);
  });

  it('a 200000² raster without overviews is sampled on a block grid without reading it all', async () => {
    const file = createSparseRaster(path.join(dir, 'huge.tif'), 200000, 200000, { dataType: 'UInt16' });
    const s = await getStretch(file);
    expect(s.sampleCount).toBe(16 * 16 * 64 * 64);
    expect([s.rgb[0].min, s.rgb[0].max]).toEqual([0, 1]); // all zeros: a flat band gets a unit range
  });
});

describe('band mapping', () => {
  it('defaults: colour interpretation, else first three, grey for one band', async () => {
    const bgr = createRaster(path.join(dir, 'bgr.tif'), { width: 4, height: 4, bandCount: 3, colorInterpretations: ['Blue', 'Green', 'Red'] });
    expect(resolveBandMapping(await openRaster(bgr)).rgb).toEqual([3, 2, 1]);
    const rgbn = createRaster(path.join(dir, 'rgbn.tif'), { width: 4, height: 4, bandCount: 4, dataType: 'UInt16' });
    expect(resolveBandMapping(await openRaster(rgbn)).rgb).toEqual([1, 2, 3]);
    const grey = createRaster(path.join(dir, 'grey.tif'), { width: 4, height: 4 });
    expect(resolveBandMapping(await openRaster(grey)).rgb).toEqual([1, 1, 1]);
    const s2 = createRaster(path.join(dir, 's2.tif'), { width: 4, height: 4, bandCount: 13, dataType: 'UInt16' });
    expect(resolveBandMapping(await openRaster(s2), [4, 3, 2]).rgb).toEqual([4, 3, 2]);
    expect(resolveBandMapping(await openRaster(s2), [8]).rgb).toEqual([8, 8, 8]);
    const greyInfo = await openRaster(grey);
    expect(() => resolveBandMapping(greyInfo, [1, 1])).toThrow(/1 or 3 bands/);
    expect(() => resolveBandMapping(greyInfo, [2])).toThrow(/Band 2 does not exist/);
  });

  it('a palette band is expanded through its colour table', async () => {
    const file = path.join(dir, 'palette.tif');
    const ds = gdal.open(file, 'w', 'GTiff', 8, 8, 1, 'Byte');
    const band = ds.bands.get(1);
    const ct = new gdal.ColorTable('RGB');
    ct.set(0, { c1: 0, c2: 0, c3: 0, c4: 0 });
    ct.set(1, { c1: 200, c2: 30, c3: 40, c4: 255 });
    ct.set(2, { c1: 10, c2: 220, c3: 90, c4: 255 });
    band.colorTable = ct;
    band.noDataValue = 0; // TIFF colour maps carry no alpha: index 0 is declared nodata instead
    const data = new Uint8Array(64);
    for (let i = 0; i < 64; i++) data[i] = i % 8 < 4 ? 1 : 2;
    data[0] = 0;
    band.pixels.write(0, 0, 8, 8, data);
    ds.close();
    const info = await openRaster(file);
    expect(info.bands[0].colorInterpretation).toBe('Palette');
    expect(resolveBandMapping(info).palette).toBe(true);
    const r = await readRegion(file, { window: { kind: 'full' }, outWidth: 8, outHeight: 8 });
    expect(Array.from(r.rgb.subarray(3, 6))).toEqual([200, 30, 40]);
    expect(Array.from(r.rgb.subarray(5 * 3, 6 * 3))).toEqual([10, 220, 90]);
    expect(r.valid[0]).toBe(0); // nodata index
    expect(r.valid[1]).toBe(1);
  });
});
