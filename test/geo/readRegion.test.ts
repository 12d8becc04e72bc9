/**
 * readRegion: pixel values, valid masks, windows partly outside, map extents, overviews, band mapping,
 * geotransform of the output grid, cancellation.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRegion } from '../../src/geo/readRegion.js';
import { getStretch } from '../../src/geo/radiometry.js';
import { closeAllRasters } from '../../src/geo/datasetCache.js';
import { SegEarthError } from '../../src/shared/errors.js';
import { createRaster, createSparseRaster, makeTempDir, removeDir } from '../support/syntheticRaster.js';

let dir: string;
beforeAll(() => {
  dir = makeTempDir();
});
afterAll(() => {
  closeAllRasters();
  removeDir(dir);
});

const UTM_GT: [number, number, number, number, number, number] = [500000, 10, 0, 5000000, 0, -10];
/** Byte RGB whose value encodes band and position: easy to check exactly. */
const rgbValue = (b: number, x: number, y: number): number => (b * 50 + x + 2 * y) % 256;

function rgbAt(rgb: Uint8Array, width: number, x: number, y: number): [number, number, number] {
  const i = (y * width + x) * 3;
  return [rgb[i], rgb[i + 1], rgb[i + 2]];
}

describe('readRegion on an 8-bit RGB raster', () => {
  let file: string;
  beforeAll(() => {
    file = createRaster(path.join(dir, 'rgb8.tif'), {
      width: 64,
      height: 48,
      bandCount: 3,
      srs: 32633,
      geoTransform: UTM_GT,
      colorInterpretations: ['Red', 'Green', 'Blue'],
      value: rgbValue,
    });
  });

  it('full window at native size returns the pixels unchanged (8-bit identity) and the raster geotransform', async () => {
    const r = await readRegion(file, { window: { kind: 'full' }, outWidth: 64, outHeight: 48, resampling: 'nearest' });
    expect(r.rgb.length).toBe(64 * 48 * 3);
    expect(r.valid.every((v) => v === 1)).toBe(true);
    for (const [x, y] of [
      [0, 0],
      [63, 0],
      [10, 20],
      [63, 47],
    ]) {
      expect(rgbAt(r.rgb, 64, x, y)).toEqual([rgbValue(1, x, y), rgbValue(2, x, y), rgbValue(3, x, y)]);
    }
    expect(r.geoTransform).toEqual(UTM_GT);
    expect(r.sourceWindow).toEqual({ x: 0, y: 0, width: 64, height: 48 });
  });

  it('a window partly outside the raster marks outside pixels invalid and keeps georeferencing', async () => {
    const r = await readRegion(file, {
      window: { kind: 'pixel', window: { x: -8, y: -4, width: 32, height: 16 } },
      outWidth: 32,
      outHeight: 16,
      resampling: 'nearest',
    });
    let validCount = 0;
    for (let y = 0; y < 16; y++) {
      for (let x = 0; x < 32; x++) {
        const inside = x >= 8 && y >= 4;
        expect(r.valid[y * 32 + x]).toBe(inside ? 1 : 0);
        validCount += r.valid[y * 32 + x];
        if (inside) expect(rgbAt(r.rgb, 32, x, y)).toEqual([1, 2, 3].map((b) => rgbValue(b, x - 8, y - 4)));
        else expect(rgbAt(r.rgb, 32, x, y)).toEqual([0, 0, 0]);
      }
    }
    expect(validCount).toBe(24 * 12);
    expect(r.geoTransform).toEqual([500000 - 80, 10, 0, 5000000 + 40, 0, -10]);
  });

  it('a window entirely outside is all invalid', async () => {
    const r = await readRegion(file, { window: { kind: 'pixel', window: { x: 1000, y: 0, width: 10, height: 10 } }, outWidth: 5, outHeight: 5 });
    expect(r.valid.every((v) => v === 0)).toBe(true);
    expect(r.rgb.every((v) => v === 0)).toBe(true);
  });

  it('a map extent reads the same pixels as the equivalent pixel window', async () => {
    // pixels x 16..40, y 8..24 → E 500160..500400, N 4999760..4999920
    const byMap = await readRegion(file, { window: { kind: 'map', extent: [500160, 4999760, 500400, 4999920] }, outWidth: 24, outHeight: 16, resampling: 'nearest' });
    const byPixel = await readRegion(file, { window: { kind: 'pixel', window: { x: 16, y: 8, width: 24, height: 16 } }, outWidth: 24, outHeight: 16, resampling: 'nearest' });
    expect(byMap.sourceWindow).toEqual({ x: 16, y: 8, width: 24, height: 16 });
    expect(Array.from(byMap.rgb)).toEqual(Array.from(byPixel.rgb));
    expect(byMap.geoTransform).toEqual([500160, 10, 0, 4999920, 0, -10]);
  });

  it('downsampling by 2 gives the output grid geotransform with doubled pixel size', async () => {
    const r = await readRegion(file, { window: { kind: 'full' }, outWidth: 32, outHeight: 24 });
    expect(r.geoTransform).toEqual([500000, 20, 0, 5000000, 0, -20]);
    // bilinear average of a 2×2 block of a linear ramp = value at the block centre
    const [red] = rgbAt(r.rgb, 32, 5, 5);
    const expected = (rgbValue(1, 10, 10) + rgbValue(1, 11, 10) + rgbValue(1, 10, 11) + rgbValue(1, 11, 11)) / 4;
    expect(Math.abs(red - expected)).toBeLessThanOrEqual(1);
  });

  it('rejects bad arguments and honours an aborted signal', async () => {
    await expect(readRegion(file, { window: { kind: 'full' }, outWidth: 0, outHeight: 10 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(readRegion(file, { window: { kind: 'full' }, outWidth: 10, outHeight: 10, bands: [5] })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    const ac = new AbortController();
    ac.abort();
    const err = await readRegion(file, { window: { kind: 'full' }, outWidth: 10, outHeight: 10, signal: ac.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SegEarthError);
    expect((err as SegEarthError).code).toBe('CANCELLED');
  });
});

describe('readRegion uses overviews', () => {
  it('reads the overview level matching the output size, never full resolution', async () => {
    // Full resolution is 10 everywhere; overview level 0 (1/2) is overwritten with 77, level 1 (1/4) with 99.
    const file = createRaster(path.join(dir, 'ovr.tif'), {
      width: 512,
      height: 512,
      srs: 32633,
      geoTransform: UTM_GT,
      value: () => 10,
      overviews: [2, 4],
      overviewValue: (_b, level) => (level === 0 ? 77 : 99),
    });
    const half = await readRegion(file, { window: { kind: 'full' }, outWidth: 256, outHeight: 256 });
    expect(new Set(half.rgb)).toEqual(new Set([77]));
    const quarter = await readRegion(file, { window: { kind: 'full' }, outWidth: 128, outHeight: 128, resampling: 'average' });
    expect(new Set(quarter.rgb)).toEqual(new Set([99]));
    const native = await readRegion(file, { window: { kind: 'pixel', window: { x: 100, y: 100, width: 64, height: 64 } }, outWidth: 64, outHeight: 64 });
    expect(new Set(native.rgb)).toEqual(new Set([10]));
  });

  it('a 200000² raster without overviews refuses a full-extent thumbnail with a build-overviews hint', async () => {
    const file = createSparseRaster(path.join(dir, 'huge.tif'), 200000, 200000, { srs: 32633, geoTransform: [500000, 0.5, 0, 5000000, 0, -0.5] });
    const err = await readRegion(file, { window: { kind: 'full' }, outWidth: 256, outHeight: 256 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SegEarthError);
    expect((err as SegEarthError).code).toBe('RASTER_TOO_LARGE');
    expect((err as SegEarthError).hint).toMatch(/Build overviews/);
  });
});

describe('readRegion: nodata, NaN, alpha, band mapping, stretch', () => {
  it('UInt16 nodata → invalid, and the stretch ignores nodata', async () => {
    // left quarter is nodata (0); the rest is a ramp 1000..1000+3*63
    const file = createRaster(path.join(dir, 'u16.tif'), {
      width: 64,
      height: 32,
      dataType: 'UInt16',
      srs: 32633,
      geoTransform: UTM_GT,
      noData: 0,
      value: (_b, x) => (x < 16 ? 0 : 1000 + 3 * x),
    });
    const r = await readRegion(file, { window: { kind: 'full' }, outWidth: 64, outHeight: 32, resampling: 'nearest' });
    for (let x = 0; x < 64; x++) expect(r.valid[5 * 64 + x]).toBe(x < 16 ? 1 - 1 : 1);
    const s = await getStretch(file);
    expect(s.rgb[0].identity).toBe(false);
    // valid values: 1000+3x for x in 16..63, 32 rows each → sorted ramp; 2 % and 98 % nearest-rank cut
    const values = Array.from({ length: 48 * 32 }, (_, i) => 1000 + 3 * (16 + Math.floor(i / 32)));
    const lo = values[Math.round(0.02 * (values.length - 1))];
    const hi = values[Math.round(0.98 * (values.length - 1))];
    expect([s.rgb[0].min, s.rgb[0].max]).toEqual([lo, hi]);
    // grey replicated to R = G = B, stretched
    const px = rgbAt(r.rgb, 64, 40, 5);
    const v = 1000 + 3 * 40;
    const expected = Math.round(((v - lo) / (hi - lo)) * 255);
    expect(px).toEqual([expected, expected, expected]);
  });

  it('downsampling is nodata-aware: valid output pixels are not blended with nodata', async () => {
    const file = createRaster(path.join(dir, 'edge.tif'), {
      width: 64,
      height: 64,
      srs: 32633,
      geoTransform: UTM_GT,
      noData: 0,
      value: (_b, x) => (x < 16 ? 0 : 200),
    });
    for (const resampling of ['bilinear', 'cubic', 'average'] as const) {
      const r = await readRegion(file, { window: { kind: 'full' }, outWidth: 32, outHeight: 32, resampling });
      for (let x = 0; x < 32; x++) {
        expect(r.valid[10 * 32 + x]).toBe(x < 8 ? 0 : 1);
        expect(r.rgb[(10 * 32 + x) * 3]).toBe(x < 8 ? 0 : 200);
      }
      // the same through the translate path (window partly outside): output x covers source [2x − 2, 2x)
      const t = await readRegion(file, { window: { kind: 'pixel', window: { x: -2, y: 0, width: 66, height: 64 } }, outWidth: 33, outHeight: 32, resampling });
      for (let x = 0; x < 33; x++) {
        expect(t.valid[10 * 33 + x]).toBe(x < 9 ? 0 : 1);
        expect(t.rgb[(10 * 33 + x) * 3]).toBe(x < 9 ? 0 : 200);
      }
    }
  });

  it('Float32 NaN and nodata mask the pixel', async () => {
    const file = createRaster(path.join(dir, 'f32.tif'), {
      width: 20,
      height: 10,
      dataType: 'Float32',
      srs: 4326,
      geoTransform: [10, 0.01, 0, 50, 0, -0.01],
      noData: -9999,
      value: (_b, x, y) => (x === 3 ? Number.NaN : y === 2 ? -9999 : x * 0.5),
    });
    const r = await readRegion(file, { window: { kind: 'full' }, outWidth: 20, outHeight: 10, resampling: 'nearest' });
    let valid = 0;
    for (let y = 0; y < 10; y++) for (let x = 0; x < 20; x++) {
      expect(r.valid[y * 20 + x]).toBe(x === 3 || y === 2 ? 0 : 1);
      valid += r.valid[y * 20 + x];
    }
    expect(valid).toBe(19 * 9);
  });

  it('RGBA: the alpha band is the validity mask and is not shown', async () => {
    const file = createRaster(path.join(dir, 'rgba.tif'), {
      width: 16,
      height: 16,
      bandCount: 4,
      srs: 3857,
      geoTransform: [1000, 1, 0, 2000, 0, -1],
      colorInterpretations: ['Red', 'Green', 'Blue', 'Alpha'],
      value: (b, x) => (b === 4 ? (x < 4 ? 0 : 255) : b * 60),
    });
    const r = await readRegion(file, { window: { kind: 'full' }, outWidth: 16, outHeight: 16, resampling: 'nearest' });
    expect(r.valid[3]).toBe(0);
    expect(r.valid[4]).toBe(1);
    expect(rgbAt(r.rgb, 16, 8, 8)).toEqual([60, 120, 180]);
  });

  it('13-band UInt16 with a Sentinel-2 [4,3,2] override', async () => {
    // band b: ramp along x with offset 1000·b and slope b, so each band has its own cut
    const file = createRaster(path.join(dir, 's2.tif'), {
      width: 50,
      height: 20,
      bandCount: 13,
      dataType: 'UInt16',
      srs: 32633,
      geoTransform: UTM_GT,
      value: (b, x) => 1000 * b + b * x,
    });
    const s = await getStretch(file, [4, 3, 2]);
    expect(s.rgb.map((t) => t.band)).toEqual([4, 3, 2]);
    for (const t of s.rgb) {
      const values = Array.from({ length: 50 * 20 }, (_, i) => 1000 * t.band + t.band * Math.floor(i / 20));
      expect(t.min).toBe(values[Math.round(0.02 * (values.length - 1))]);
      expect(t.max).toBe(values[Math.round(0.98 * (values.length - 1))]);
    }
    const r = await readRegion(file, { window: { kind: 'full' }, outWidth: 50, outHeight: 20, resampling: 'nearest', bands: [4, 3, 2] });
    const x = 25;
    const expected = s.rgb.map((t) => Math.round(((1000 * t.band + t.band * x - t.min) / (t.max - t.min)) * 255));
    expect(rgbAt(r.rgb, 50, x, 3)).toEqual(expected);
    // default mapping without colour interpretation: the first three bands
    const d = await getStretch(file);
    expect(d.rgb.map((t) => t.band)).toEqual([1, 2, 3]);
  });

  it('the stretch does not depend on the window: overlapping reads give identical pixels', async () => {
    const file = createRaster(path.join(dir, 'u16rgb.tif'), {
      width: 300,
      height: 200,
      bandCount: 3,
      dataType: 'UInt16',
      srs: 32633,
      geoTransform: UTM_GT,
      // a dark left half and a bright right half: per-window stretches would differ
      value: (b, x, y) => (x < 150 ? 100 + b * 10 + ((x + y) % 50) : 3000 + b * 100 + ((x * y) % 700)),
    });
    const left = await readRegion(file, { window: { kind: 'pixel', window: { x: 0, y: 0, width: 160, height: 100 } }, outWidth: 160, outHeight: 100, resampling: 'nearest' });
    const right = await readRegion(file, { window: { kind: 'pixel', window: { x: 140, y: 0, width: 160, height: 100 } }, outWidth: 160, outHeight: 100, resampling: 'nearest' });
    // pixel columns 140..159 are in both
    for (let y = 0; y < 100; y += 7) {
      for (let x = 140; x < 160; x++) expect(rgbAt(left.rgb, 160, x, y)).toEqual(rgbAt(right.rgb, 160, x - 140, y));
    }
  });
});
