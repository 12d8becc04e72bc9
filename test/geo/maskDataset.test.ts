/**
 * Large thresholded masks go to a temporary 1-bit compressed GeoTIFF instead of memory (`geo/maskDataset`):
 * the pixels read back are the ones written, the file is gone after `close()`, and vectorizing a probability
 * raster above the in-memory limit gives exactly the rectangles it holds (areas known analytically) and leaves
 * no temporary folder.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gdal from 'gdal-async';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMaskDataset, MEMORY_MASK_PIXELS } from '../../src/geo/maskDataset.js';
import { maskToPolygons } from '../../src/geo/maskToPolygons.js';
import type { GeoTransform } from '../../src/shared/rasterInfo.js';
import { createRaster } from '../support/syntheticRaster.js';

const work = mkdtempSync(join(tmpdir(), 'segearth-maskds-'));
// This file's own temporary folder: what the mask writes there is all that can appear in it.
const temp = join(work, 'tmp');
const savedTmp = process.env.TMPDIR;
const GT: GeoTransform = [500000, 10, 0, 5000000, 0, -10];

beforeAll(() => {
  mkdirSync(temp);
  process.env.TMPDIR = temp;
});
afterAll(() => {
  if (savedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmp;
  rmSync(work, { recursive: true, force: true });
});

const maskFolders = (): string[] => readdirSync(temp).filter((n) => n.startsWith('segearth-mask-'));

describe('geo/maskDataset', () => {
  it('above the in-memory limit the mask is a temporary file holding the written 0/1 values, removed by close()', async () => {
    const width = 300;
    const height = 200;
    const mask = await createMaskDataset(width, height, GT, gdal.SpatialReference.fromEPSG(32633), { memoryPixels: 1000 });
    expect(mask.onDisk).toBe(true);
    const rows = new Uint8Array(width * height).map((_, i) => ((i % width) * 7 + Math.floor(i / width) * 3) % 5 === 0 ? 1 : 0);
    for (let y = 0; y < height; y += 64) {
      const h = Math.min(64, height - y);
      await mask.writeRows(y, h, rows.subarray(y * width, (y + h) * width));
    }
    const back = new Uint8Array(width * height);
    await mask.dataset.bands.get(1).pixels.readAsync(0, 0, width, height, back);
    expect(Buffer.from(back).equals(Buffer.from(rows))).toBe(true);
    expect(mask.dataset.geoTransform).toEqual(GT);
    const folders = maskFolders();
    expect(folders).toHaveLength(1);
    expect(readdirSync(join(temp, folders[0]!))).toEqual(['mask.tif']);
    await mask.close();
    expect(maskFolders()).toEqual([]);
  });

  it('at or below the limit the mask stays in memory (nothing in the temporary folder)', async () => {
    const mask = await createMaskDataset(30, 20, GT, null, { memoryPixels: 600 });
    expect(mask.onDisk).toBe(false);
    expect(mask.dataset.driver.description).toBe('MEM');
    expect(maskFolders()).toEqual([]);
    await mask.close();
  });

  it(`vectorizes a probability raster above ${MEMORY_MASK_PIXELS} px through the file: exactly its rectangles, nothing left behind`, async () => {
    const width = 4200;
    const height = 4100;
    expect(width * height).toBeGreaterThan(MEMORY_MASK_PIXELS);
    // Three rectangles of p = 0.9 (pixel boxes [x0, y0, x1, y1)), the rest 0.1; one touches the last column.
    const boxes: Array<[number, number, number, number]> = [
      [10, 20, 110, 70],
      [2000, 3000, 2400, 4090],
      [4150, 5, 4200, 55],
    ];
    const file = join(work, 'prob.tif');
    createRaster(file, {
      width, height, dataType: 'Float32', srs: 32633, geoTransform: GT, creationOptions: ['COMPRESS=DEFLATE', 'TILED=YES'],
      value: (_b, x, y) => (boxes.some(([x0, y0, x1, y1]) => x >= x0 && x < x1 && y >= y0 && y < y1) ? 0.9 : 0.1),
    });
    const features = await maskToPolygons({ kind: 'file', path: file }, { threshold: 0.5 });
    const areas = features.features.map((f) => f.properties.area_m2).sort((a, b) => Number(a) - Number(b));
    const expected = boxes.map(([x0, y0, x1, y1]) => (x1 - x0) * (y1 - y0) * 100).sort((a, b) => a - b);
    expect(areas).toEqual(expected);
    expect(maskFolders()).toEqual([]);
  }, 120_000);
});
