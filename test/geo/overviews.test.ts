/**
 * Overviews on request: a sidecar .ovr, the source file untouched, progress reported, cancellation leaving
 * nothing behind, and reads picking the new overviews up.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOverviews, needsOverviews, overviewFactors } from '../../src/geo/overviews.js';
import { openRaster } from '../../src/geo/openRaster.js';
import { readRegion } from '../../src/geo/readRegion.js';
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

const sha = (f: string): string => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const leftovers = (d: string): string[] => fs.readdirSync(d).filter((n) => n.startsWith('.segearth-ovr-'));

describe('needsOverviews / overviewFactors', () => {
  it('asks for overviews only for large rasters without them', async () => {
    const small = createRaster(path.join(dir, 'small.tif'), { width: 500, height: 400 });
    const big = createSparseRaster(path.join(dir, 'big.tif'), 5000, 3000, { srs: 32633, geoTransform: [0, 1, 0, 0, 0, -1] });
    const withOvr = createRaster(path.join(dir, 'withovr.tif'), { width: 2100, height: 100, overviews: [2, 4, 8, 16] });
    expect(needsOverviews(await openRaster(small))).toBe(false);
    expect(needsOverviews(await openRaster(big))).toBe(true);
    expect(needsOverviews(await openRaster(withOvr))).toBe(false);
  });

  it('levels go down to ≤ 256 px', () => {
    expect(overviewFactors(256, 100)).toEqual([]);
    expect(overviewFactors(300, 100)).toEqual([2]);
    expect(overviewFactors(1200, 1000)).toEqual([2, 4, 8]);
    expect(overviewFactors(10000, 10000)).toEqual([2, 4, 8, 16, 32, 64]);
  });
});

describe('buildOverviews', () => {
  it('writes <raster>.ovr, leaves the source byte-identical, reports progress, and reads use it', async () => {
    const file = createRaster(path.join(dir, 'scene.tif'), {
      width: 1200,
      height: 1000,
      bandCount: 3,
      dataType: 'UInt16',
      srs: 32633,
      geoTransform: [500000, 2, 0, 5000000, 0, -2],
      noData: 0,
      value: (b, x, y) => (x < 100 ? 0 : 1000 * b + ((x + y) % 500)),
    });
    const before = { hash: sha(file), mtime: fs.statSync(file).mtimeMs };
    // a read before the build (caches a dataset handle that must be refreshed afterwards)
    await readRegion(file, { window: { kind: 'full' }, outWidth: 150, outHeight: 125 });
    const progress: number[] = [];
    const { ovrPath } = await buildOverviews(file, { onProgress: (f) => progress.push(f) });
    expect(ovrPath).toBe(`${file}.ovr`);
    expect(fs.existsSync(ovrPath)).toBe(true);
    expect(sha(file)).toBe(before.hash);
    expect(fs.statSync(file).mtimeMs).toBe(before.mtime);
    expect(leftovers(dir)).toEqual([]);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress[progress.length - 1]).toBe(1);
    for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThanOrEqual(progress[i - 1]);

    const info = await openRaster(file);
    expect(info.bands[0].overviews).toEqual([
      [600, 500],
      [300, 250],
      [150, 125],
    ]);
    expect(needsOverviews(info)).toBe(false);
    // nodata-aware AVERAGE: the nodata strip (x < 100 → 12.5 px at 1/8) stays invalid in the coarsest level
    const r = await readRegion(file, { window: { kind: 'full' }, outWidth: 150, outHeight: 125, resampling: 'nearest' });
    expect(r.valid[60 * 150 + 5]).toBe(0);
    expect(r.valid[60 * 150 + 100]).toBe(1);

    // a second call finds the overviews and does nothing
    const again = await buildOverviews(file);
    expect(again.ovrPath).toBe(ovrPath);
    expect(sha(file)).toBe(before.hash);
  });

  it('an aborted build rejects with CANCELLED and leaves no .ovr or temporary files', async () => {
    const file = createRaster(path.join(dir, 'cancel.tif'), { width: 2000, height: 2000, dataType: 'UInt16', value: (_b, x, y) => x ^ y });
    const ac = new AbortController();
    const p = buildOverviews(file, { signal: ac.signal, onProgress: () => ac.abort() });
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SegEarthError);
    expect((err as SegEarthError).code).toBe('CANCELLED');
    // GDAL finishes in the background, then its output is removed
    for (let i = 0; i < 100 && leftovers(dir).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(leftovers(dir)).toEqual([]);
    expect(fs.existsSync(`${file}.ovr`)).toBe(false);
  });

  it('refuses to touch an unrelated existing .ovr', async () => {
    const file = createRaster(path.join(dir, 'clash.tif'), { width: 600, height: 600 });
    fs.writeFileSync(`${file}.ovr`, 'not an overview file');
    const err = await buildOverviews(file).catch((e: unknown) => e);
    expect((err as SegEarthError).code).toBe('OUTPUT_EXISTS');
    expect((err as SegEarthError).hint).toMatch(/delete or rename it/);
    expect(fs.readFileSync(`${file}.ovr`, 'utf8')).toBe('not an overview file');
  });
});
