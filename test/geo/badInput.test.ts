/**
 * Bad raster input → typed SegEarthError with a code, a message naming the file, and a hint saying what to do.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRaster } from '../../src/geo/openRaster.js';
import { readRegion } from '../../src/geo/readRegion.js';
import { SegEarthError, type ErrorCode } from '../../src/shared/errors.js';
import { createRaster, createSparseRaster, makeTempDir, removeDir } from '../support/syntheticRaster.js';

let dir: string;
beforeAll(() => {
  dir = makeTempDir();
});
afterAll(() => removeDir(dir));

async function expectSegEarthError(p: Promise<unknown>, code: ErrorCode, hint: RegExp): Promise<SegEarthError> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(SegEarthError);
  const e = caught as SegEarthError;
  expect(e.code).toBe(code);
  expect(e.hint).toMatch(hint);
  return e;
}

describe('bad raster input', () => {
  it('missing path → NOT_FOUND', async () => {
    const p = path.join(dir, 'does-not-exist.tif');
    const e = await expectSegEarthError(openRaster(p), 'NOT_FOUND', /Check the path/);
    expect(e.message).toContain(p);
  });

  it('a directory → IS_DIRECTORY', async () => {
    const e = await expectSegEarthError(openRaster(dir), 'IS_DIRECTORY', /Open the image file inside the folder/);
    expect(e.message).toContain('is a folder');
  });

  it('a text file named .tif → NOT_A_RASTER', async () => {
    const p = path.join(dir, 'notes.tif');
    fs.writeFileSync(p, 'These are my field notes, not an image.\n');
    const e = await expectSegEarthError(openRaster(p), 'NOT_A_RASTER', /Choose a GeoTIFF/);
    expect(e.message).toContain(p);
  });

  it('a truncated GeoTIFF → CORRUPT_RASTER on open, and on read', async () => {
    const full = createRaster(path.join(dir, 'full.tif'), {
      width: 256,
      height: 256,
      bandCount: 3,
      dataType: 'UInt16',
      srs: 32633,
      geoTransform: [500000, 1, 0, 5000000, 0, -1],
      value: (b, x, y) => b * 1000 + x + y,
    });
    const size = fs.statSync(full).size;
    const cut = path.join(dir, 'cut.tif');
    fs.writeFileSync(cut, fs.readFileSync(full).subarray(0, Math.floor(size / 2)));
    const e = await expectSegEarthError(openRaster(cut), 'CORRUPT_RASTER', /copy it again|Copy or download it again/);
    expect(e.message).toContain('damaged');
    await expectSegEarthError(
      readRegion(cut, { window: { kind: 'full' }, outWidth: 64, outHeight: 64 }),
      'CORRUPT_RASTER',
      /Copy or download it again/,
    );
  });

  it('a GeoTIFF cut inside its header → a typed error, not a crash', async () => {
    const full = path.join(dir, 'full.tif');
    const cut = path.join(dir, 'header-cut.tif');
    fs.writeFileSync(cut, fs.readFileSync(full).subarray(0, 64));
    let caught: unknown;
    try {
      await openRaster(cut);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SegEarthError);
    expect(['CORRUPT_RASTER', 'NOT_A_RASTER']).toContain((caught as SegEarthError).code);
  });

  it('a 200000×200000 header opens without allocating, and reads are windowed', async () => {
    const p = createSparseRaster(path.join(dir, 'huge.tif'), 200000, 200000, {
      srs: 32633,
      geoTransform: [500000, 0.5, 0, 5000000, 0, -0.5],
      bandCount: 3,
    });
    expect(fs.statSync(p).size).toBeLessThan(8 * 1024 * 1024); // sparse: tile index only
    const before = process.memoryUsage().rss;
    const info = await openRaster(p);
    expect([info.width, info.height, info.bandCount]).toEqual([200000, 200000, 3]);
    expect(info.bounds).toEqual([500000, 5000000 - 100000, 500000 + 100000, 5000000]);
    // A full-resolution window far inside the raster.
    const region = await readRegion(p, {
      window: { kind: 'pixel', window: { x: 150000, y: 150000, width: 256, height: 256 } },
      outWidth: 256,
      outHeight: 256,
    });
    expect(region.rgb.length).toBe(256 * 256 * 3);
    // Unwritten sparse blocks read as 0 with no nodata set: valid zeros.
    expect(region.rgb.every((v) => v === 0)).toBe(true);
    expect(region.geoTransform).toEqual([500000 + 150000 * 0.5, 0.5, 0, 5000000 - 150000 * 0.5, 0, -0.5]);
    // 40 G pixels × 3 bands would be 120 GB; nothing near that was allocated.
    expect(process.memoryUsage().rss - before).toBeLessThan(1024 * 1024 * 1024);
  });

  it('a non-georeferenced PNG is allowed, with a warning', async () => {
    const p = createRaster(path.join(dir, 'photo.png'), { width: 8, height: 8, bandCount: 3, driver: 'PNG' });
    const info = await openRaster(p);
    expect(info.georeferenced).toBe(false);
    expect(info.warnings).toHaveLength(1);
    expect(info.warnings[0]).toMatch(/pixel coordinates/);
  });
});
