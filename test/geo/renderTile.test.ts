/**
 * Tile grid and PNG tiles: grid numbers, tile pixels decoded back with GDAL's PNG driver, alpha for nodata and
 * outside pixels, non-georeferenced and rotated rasters.
 */
import path from 'node:path';
import gdal from 'gdal-async';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getTileGrid, tileExtent } from '../../src/geo/tileGrid.js';
import { renderTile } from '../../src/geo/renderTile.js';
import { openRaster } from '../../src/geo/openRaster.js';
import { getStretch, stretchValue } from '../../src/geo/radiometry.js';
import { closeAllRasters } from '../../src/geo/datasetCache.js';
import { TileGridSpecSchema } from '../../src/shared/tileGrid.js';
import { createRaster, makeTempDir, removeDir } from '../support/syntheticRaster.js';

let dir: string;
beforeAll(() => {
  dir = makeTempDir();
});
afterAll(() => {
  closeAllRasters();
  removeDir(dir);
});

interface DecodedTile {
  width: number;
  height: number;
  bands: number;
  /** [r, g, b, a] at (x, y) */
  at(x: number, y: number): [number, number, number, number];
}

let decodeCounter = 0;
function decodePng(png: Uint8Array): DecodedTile {
  const name = `/vsimem/test-decode-${++decodeCounter}.png`;
  gdal.vsimem.copy(Buffer.from(png), name);
  const ds = gdal.open(name);
  try {
    const { x: width, y: height } = ds.rasterSize;
    const bands = ds.bands.count();
    expect(ds.driver.description).toBe('PNG');
    const planes = [1, 2, 3, 4].map((b) => ds.bands.get(b).pixels.read(0, 0, width, height) as Uint8Array);
    return {
      width,
      height,
      bands,
      at: (x, y) => planes.map((p) => p[y * width + x]) as [number, number, number, number],
    };
  } finally {
    ds.close();
    gdal.vsimem.release(name);
  }
}

const rgbValue = (b: number, x: number, y: number): number => (b * 40 + x + 3 * y) % 256;

describe('getTileGrid', () => {
  it('north-up UTM raster: native resolution at max zoom, whole raster in one tile at zoom 0', async () => {
    const file = createRaster(path.join(dir, 'grid.tif'), { width: 1000, height: 600, srs: 32633, geoTransform: [500000, 10, 0, 5000000, 0, -10] });
    const grid = getTileGrid(await openRaster(file));
    expect(TileGridSpecSchema.parse(grid)).toEqual(grid);
    expect(grid.mode).toBe('geotransform');
    expect(grid.tileSize).toBe(256);
    expect(grid.resolutions).toEqual([40, 20, 10]);
    expect([grid.minZoom, grid.maxZoom]).toEqual([0, 2]);
    expect(grid.extent).toEqual([500000, 4994000, 510000, 5000000]);
    expect(grid.origin).toEqual([500000, 5000000]);
    expect(tileExtent(grid, 0, 0, 0)).toEqual([500000, 5000000 - 10240, 510240, 5000000]);
    expect(tileExtent(grid, 2, 1, 2)).toEqual([502560, 5000000 - 7680, 505120, 5000000 - 5120]);
  });

  it('non-georeferenced raster: pixel mode, y = −row', async () => {
    const file = createRaster(path.join(dir, 'plain.png'), { width: 300, height: 200, bandCount: 3, driver: 'PNG' });
    const grid = getTileGrid(await openRaster(file));
    expect(grid.mode).toBe('pixel');
    expect(grid.extent).toEqual([0, -200, 300, 0]);
    expect(grid.resolutions).toEqual([2, 1]);
    expect(grid.displayGeoTransform).toEqual([0, 1, 0, 0, 0, -1]);
  });
});

describe('renderTile', () => {
  it('max-zoom tile pixels equal the source pixels; beyond the raster edge is transparent', async () => {
    const file = createRaster(path.join(dir, 'rgb.tif'), {
      width: 600,
      height: 300,
      bandCount: 3,
      srs: 32633,
      geoTransform: [500000, 10, 0, 5000000, 0, -10],
      colorInterpretations: ['Red', 'Green', 'Blue'],
      value: rgbValue,
    });
    const grid = getTileGrid(await openRaster(file));
    expect(grid.maxZoom).toBe(2);
    // tile (2, 2, 1): columns 512..767 (raster ends at 600), rows 256..511 (raster ends at 300)
    const tile = decodePng(await renderTile(file, 2, 2, 1));
    expect([tile.width, tile.height, tile.bands]).toEqual([256, 256, 4]);
    expect(tile.at(0, 0)).toEqual([rgbValue(1, 512, 256), rgbValue(2, 512, 256), rgbValue(3, 512, 256), 255]);
    expect(tile.at(87, 43)).toEqual([rgbValue(1, 599, 299), rgbValue(2, 599, 299), rgbValue(3, 599, 299), 255]);
    expect(tile.at(88, 10)[3]).toBe(0);
    expect(tile.at(10, 44)[3]).toBe(0);
    let opaque = 0;
    for (let y = 0; y < 256; y++) for (let x = 0; x < 256; x++) opaque += tile.at(x, y)[3] === 255 ? 1 : 0;
    expect(opaque).toBe(88 * 44);
    // a tile outside the grid extent is fully transparent
    const empty = decodePng(await renderTile(file, 2, 5, 5));
    expect(empty.at(128, 128)[3]).toBe(0);
    await expect(renderTile(file, 3, 0, 0)).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });

  it('UInt16 tiles use the per-raster stretch; nodata is transparent', async () => {
    const file = createRaster(path.join(dir, 'u16.tif'), {
      width: 512,
      height: 256,
      dataType: 'UInt16',
      srs: 4326,
      geoTransform: [10, 0.0001, 0, 50, 0, -0.0001],
      noData: 0,
      value: (_b, x, y) => (y < 10 ? 0 : 500 + x * 7 + y),
    });
    const s = await getStretch(file);
    const left = decodePng(await renderTile(file, 1, 0, 0));
    const right = decodePng(await renderTile(file, 1, 1, 0));
    expect(left.at(5, 5)[3]).toBe(0);
    for (const [tile, x0] of [
      [left, 0],
      [right, 256],
    ] as const) {
      for (const [x, y] of [
        [3, 20],
        [200, 100],
        [255, 255],
      ]) {
        const v = stretchValue(s.rgb[0], 500 + (x0 + x) * 7 + y);
        expect(tile.at(x, y)).toEqual([v, v, v, 255]);
      }
    }
  });

  it('non-georeferenced PNG renders upright in pixel mode', async () => {
    const file = createRaster(path.join(dir, 'photo.png'), { width: 100, height: 80, bandCount: 3, driver: 'PNG', value: rgbValue });
    const grid = getTileGrid(await openRaster(file));
    expect(grid.maxZoom).toBe(0);
    const tile = decodePng(await renderTile(file, 0, 0, 0));
    expect(tile.at(0, 0)).toEqual([rgbValue(1, 0, 0), rgbValue(2, 0, 0), rgbValue(3, 0, 0), 255]);
    expect(tile.at(99, 79)).toEqual([rgbValue(1, 99, 79), rgbValue(2, 99, 79), rgbValue(3, 99, 79), 255]);
    expect(tile.at(100, 10)[3]).toBe(0);
  });

  it('rotated raster: tiles are warped north-up, outside the rotated footprint is transparent', async () => {
    // 200×200 px of 1 m, rotated 30°: left half red, right half blue
    const a = Math.PI / 6;
    const gt: [number, number, number, number, number, number] = [1000, Math.cos(a), Math.sin(a), 5000, Math.sin(a), -Math.cos(a)];
    const file = createRaster(path.join(dir, 'rot.tif'), {
      width: 200,
      height: 200,
      bandCount: 3,
      srs: 32633,
      geoTransform: gt,
      colorInterpretations: ['Red', 'Green', 'Blue'],
      value: (b, x) => (b === 1 ? (x < 100 ? 220 : 10) : b === 3 ? (x < 100 ? 10 : 220) : 60),
    });
    const info = await openRaster(file);
    const grid = getTileGrid(info);
    expect(grid.mode).toBe('warped');
    expect(grid.extent).toEqual(info.bounds);
    const z = grid.maxZoom;
    const res = grid.resolutions[z];
    // map point of pixel (50, 100) (red half) and (150, 100) (blue half), and a point outside the footprint
    const pointToTilePixel = (mx: number, my: number): [number, number, number, number] => {
      const fx = (mx - grid.origin[0]) / res;
      const fy = (grid.origin[1] - my) / res;
      return [Math.floor(fx / 256), Math.floor(fy / 256), Math.floor(fx % 256), Math.floor(fy % 256)];
    };
    const mapOf = (px: number, py: number): [number, number] => [gt[0] + px * gt[1] + py * gt[2], gt[3] + px * gt[4] + py * gt[5]];
    for (const [px, expectRed] of [
      [50, true],
      [150, false],
    ] as const) {
      const [tx, ty, ix, iy] = pointToTilePixel(...mapOf(px, 100));
      const tile = decodePng(await renderTile(file, z, tx, ty));
      const [r, g, b, alpha] = tile.at(ix, iy);
      expect(alpha).toBe(255);
      expect(g).toBe(60);
      expect(expectRed ? r : b).toBe(220);
      expect(expectRed ? b : r).toBe(10);
    }
    // the upper-left corner of the bounding box is outside the rotated footprint
    const [tx, ty, ix, iy] = pointToTilePixel(grid.extent[0] + 1, grid.extent[3] - 1);
    expect(decodePng(await renderTile(file, z, tx, ty)).at(ix, iy)[3]).toBe(0);
  });
});
