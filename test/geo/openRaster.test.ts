/**
 * openRaster on synthetic rasters whose georeferencing is known, checked against independent numbers
 * (gdaltransform CLI, closed-form ellipsoid formulas, hand-computed corners).
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRaster } from '../../src/geo/openRaster.js';
import { RasterInfoSchema } from '../../src/shared/rasterInfo.js';
import { createRaster, gdalinfoJson, gdaltransform, makeTempDir, removeDir } from '../support/syntheticRaster.js';

let dir: string;
beforeAll(() => {
  dir = makeTempDir();
});
afterAll(() => removeDir(dir));

/** WGS 84 lengths of one degree (closed form). */
const A = 6378137;
const F = 1 / 298.257223563;
const E2 = F * (2 - F);
function degLonMetres(latDeg: number): number {
  const phi = (latDeg * Math.PI) / 180;
  return (Math.PI * A * Math.cos(phi)) / (180 * Math.sqrt(1 - E2 * Math.sin(phi) ** 2));
}
function degLatMetres(latDeg: number): number {
  const phi = (latDeg * Math.PI) / 180;
  return (Math.PI * A * (1 - E2)) / (180 * (1 - E2 * Math.sin(phi) ** 2) ** 1.5);
}

describe('openRaster: UTM 33N, UInt16, 3 bands, nodata', () => {
  it('reports driver, size, bands, CRS, bounds and lon/lat bounds', async () => {
    const file = createRaster(path.join(dir, 'utm.tif'), {
      width: 100,
      height: 50,
      bandCount: 3,
      dataType: 'UInt16',
      srs: 32633,
      geoTransform: [500000, 10, 0, 5000000, 0, -10],
      noData: 0,
      colorInterpretations: ['Red', 'Green', 'Blue'],
      value: (b, x, y) => 100 * b + x + y,
    });
    const info = await openRaster(file);
    expect(RasterInfoSchema.parse(info)).toEqual(info);
    expect(info.driver).toBe('GTiff');
    expect([info.width, info.height, info.bandCount]).toEqual([100, 50, 3]);
    expect(info.bands.map((b) => b.dataType)).toEqual(['UInt16', 'UInt16', 'UInt16']);
    expect(info.bands.map((b) => b.colorInterpretation)).toEqual(['Red', 'Green', 'Blue']);
    expect(info.bands.map((b) => b.noData)).toEqual([0, 0, 0]);
    expect(info.bands[0].maskFlags).toEqual(['NODATA']);
    expect(info.crs?.code).toBe('EPSG:32633');
    expect(info.crs?.name).toBe('WGS 84 / UTM zone 33N');
    expect(info.crs?.wkt.startsWith('PROJCRS[')).toBe(true); // WKT2
    expect(info.crs?.proj4).toContain('+proj=utm +zone=33');
    expect(info.crs?.units).toBe('metre');
    expect(info.crs?.isGeographic).toBe(false);
    expect(info.georeferenced).toBe(true);
    expect(info.geoTransform).toEqual([500000, 10, 0, 5000000, 0, -10]);
    expect(info.bounds).toEqual([500000, 4999500, 501000, 5000000]);
    expect(info.warnings).toEqual([]);

    // lon/lat of the corners from the gdaltransform CLI (traditional lon, lat order).
    const ref = gdaltransform('EPSG:32633', 'EPSG:4326', [
      [500000, 5000000],
      [501000, 4999500],
    ]);
    expect(info.cornersLonLat?.upperLeft[0]).toBeCloseTo(ref[0][0], 9);
    expect(info.cornersLonLat?.upperLeft[1]).toBeCloseTo(ref[0][1], 9);
    expect(info.cornersLonLat?.lowerRight[0]).toBeCloseTo(ref[1][0], 9);
    expect(info.cornersLonLat?.lowerRight[1]).toBeCloseTo(ref[1][1], 9);
    // The central meridian of zone 33 is 15°E: the upper-left corner sits on it.
    expect(info.cornersLonLat?.upperLeft[0]).toBeCloseTo(15, 9);
    const [minLon, minLat, maxLon, maxLat] = info.boundsLonLat!;
    expect(minLon).toBeCloseTo(15, 6);
    expect(maxLat).toBeCloseTo(ref[0][1], 6);
    expect(maxLon).toBeGreaterThan(15.0126);
    expect(minLat).toBeLessThan(ref[0][1]);

    // Ground pixel size: grid distance = k · ground distance, k = 0.9996 on the central meridian, so 10 m of
    // grid are 10 / 0.9996 m on the ground.
    expect(info.pixelSizeMetres![0]).toBeCloseTo(10 / 0.9996, 4);
    expect(info.pixelSizeMetres![1]).toBeCloseTo(10 / 0.9996, 4);
  });
});

describe('openRaster: EPSG:4326 Float32 with NaN nodata', () => {
  it('keeps lon/lat order and measures pixels geodesically', async () => {
    const file = createRaster(path.join(dir, 'geo.tif'), {
      width: 200,
      height: 100,
      dataType: 'Float32',
      srs: 4326,
      geoTransform: [10, 0.001, 0, 50, 0, -0.001],
      noData: Number.NaN,
      value: (_b, x) => x / 10,
    });
    const info = await openRaster(file);
    expect(info.crs?.code).toBe('EPSG:4326');
    expect(info.crs?.isGeographic).toBe(true);
    expect(info.crs?.units).toBe('degree');
    expect(info.bands[0].dataType).toBe('Float32');
    expect(info.bands[0].noData).toBeNull();
    expect(info.bands[0].noDataIsNaN).toBe(true);
    expect(info.bounds[0]).toBeCloseTo(10, 12);
    expect(info.bounds[1]).toBeCloseTo(49.9, 12);
    expect(info.bounds[2]).toBeCloseTo(10.2, 12);
    expect(info.bounds[3]).toBeCloseTo(50, 12);
    // lon first, lat second
    expect(info.boundsLonLat![0]).toBeCloseTo(10, 9);
    expect(info.boundsLonLat![1]).toBeCloseTo(49.9, 9);
    expect(info.boundsLonLat![2]).toBeCloseTo(10.2, 9);
    expect(info.boundsLonLat![3]).toBeCloseTo(50, 9);
    const latC = 49.95;
    expect(info.pixelSizeMetres![0]).toBeCloseTo(0.001 * degLonMetres(latC), 2);
    expect(info.pixelSizeMetres![1]).toBeCloseTo(0.001 * degLatMetres(latC), 2);
  });
});

describe('openRaster: EPSG:3857', () => {
  it('reports Web Mercator and true ground pixel size', async () => {
    // Upper-left at 10°E, 50°N; 1 m Mercator pixels.
    const [x0, y0] = gdaltransform('EPSG:4326', 'EPSG:3857', [[10, 50]])[0];
    const file = createRaster(path.join(dir, 'merc.tif'), {
      width: 64,
      height: 64,
      bandCount: 4,
      srs: 3857,
      geoTransform: [x0, 1, 0, y0, 0, -1],
      colorInterpretations: ['Red', 'Green', 'Blue', 'Alpha'],
    });
    const info = await openRaster(file);
    expect(info.crs?.code).toBe('EPSG:3857');
    expect(info.bands.map((b) => b.colorInterpretation)).toEqual(['Red', 'Green', 'Blue', 'Alpha']);
    expect(info.bands[0].maskFlags).toEqual(['PER_DATASET', 'ALPHA']);
    expect(info.cornersLonLat!.upperLeft[0]).toBeCloseTo(10, 9);
    expect(info.cornersLonLat!.upperLeft[1]).toBeCloseTo(50, 9);
    // Mercator scale at latitude φ on the ellipsoid: k = sec φ · sqrt(1 − e² sin² φ) (spherical formula on
    // ellipsoidal lat for EPSG:3857); ground = 1 m / k.
    const phi = (info.cornersLonLat!.center[1] * Math.PI) / 180;
    const kx = Math.sqrt(1 - E2 * Math.sin(phi) ** 2) / Math.cos(phi);
    expect(info.pixelSizeMetres![0]).toBeCloseTo(1 / kx, 3);
  });
});

describe('openRaster: rotated geotransform', () => {
  it('computes all four corners and the rotation-aware bounds', async () => {
    const gt: [number, number, number, number, number, number] = [300000, 8, 3, 4000000, 2, -8];
    const file = createRaster(path.join(dir, 'rot.tif'), { width: 40, height: 30, srs: 32633, geoTransform: gt });
    const info = await openRaster(file);
    expect(info.rotated).toBe(true);
    expect(info.geoTransform).toEqual(gt);
    expect(info.corners!.upperLeft).toEqual([300000, 4000000]);
    expect(info.corners!.upperRight).toEqual([300000 + 40 * 8, 4000000 + 40 * 2]);
    expect(info.corners!.lowerLeft).toEqual([300000 + 30 * 3, 4000000 - 30 * 8]);
    expect(info.corners!.lowerRight).toEqual([300000 + 40 * 8 + 30 * 3, 4000000 + 40 * 2 - 30 * 8]);
    expect(info.bounds).toEqual([300000, 4000000 - 240, 300000 + 320 + 90, 4000000 + 80]);
    const gi = gdalinfoJson(file) as { cornerCoordinates: Record<string, [number, number]> };
    for (const k of ['upperLeft', 'lowerLeft', 'lowerRight', 'upperRight', 'center'] as const) {
      expect(info.corners![k][0]).toBeCloseTo(gi.cornerCoordinates[k][0], 6);
      expect(info.corners![k][1]).toBeCloseTo(gi.cornerCoordinates[k][1], 6);
    }
  });
});

describe('openRaster: band counts and types', () => {
  it.each([
    { bands: 1, type: 'Byte' as const },
    { bands: 4, type: 'UInt16' as const },
    { bands: 13, type: 'UInt16' as const },
    { bands: 3, type: 'Float32' as const },
  ])('$bands band(s) of $type', async ({ bands, type }) => {
    const file = createRaster(path.join(dir, `b${bands}-${type}.tif`), {
      width: 16,
      height: 8,
      bandCount: bands,
      dataType: type,
      srs: 32633,
      geoTransform: [0, 1, 0, 0, 0, -1],
      noData: bands === 13 ? 7 : undefined, // GeoTIFF stores one nodata value for all bands
    });
    const info = await openRaster(file);
    expect(info.bandCount).toBe(bands);
    expect(info.bands.map((b) => b.index)).toEqual(Array.from({ length: bands }, (_, i) => i + 1));
    expect(new Set(info.bands.map((b) => b.dataType))).toEqual(new Set([type]));
    if (bands === 13) expect(info.bands.map((b) => b.noData)).toEqual(Array.from({ length: 13 }, () => 7));
  });
});

describe('openRaster: other drivers', () => {
  it('non-georeferenced PNG opens with a warning in pixel coordinates', async () => {
    const file = createRaster(path.join(dir, 'plain.png'), { width: 30, height: 20, bandCount: 3, driver: 'PNG' });
    const info = await openRaster(file);
    expect(info.driver).toBe('PNG');
    expect(info.georeferenced).toBe(false);
    expect(info.crs).toBeNull();
    expect(info.boundsLonLat).toBeNull();
    expect(info.pixelSizeMetres).toBeNull();
    expect(info.geoTransform).toEqual([0, 1, 0, 0, 0, 1]);
    expect(info.bounds).toEqual([0, 0, 30, 20]);
    expect(info.warnings.join(' ')).toMatch(/no georeferencing.*pixel coordinates.*world file/);
  });

  it('PNG with a world file gets its geotransform (world files give pixel centres)', async () => {
    const file = createRaster(path.join(dir, 'world.png'), { width: 10, height: 10, driver: 'PNG' });
    // pixel size 2, rotation 0, 0, -2, centre of the upper-left pixel (1001, 1999)
    fs.writeFileSync(path.join(dir, 'world.pgw'), '2\n0\n0\n-2\n1001\n1999\n');
    const info = await openRaster(file);
    expect(info.georeferenced).toBe(true);
    expect(info.geoTransform).toEqual([1000, 2, 0, 2000, 0, -2]);
    expect(info.bounds).toEqual([1000, 1980, 1020, 2000]);
    expect(info.crs).toBeNull();
    expect(info.warnings.join(' ')).toMatch(/no coordinate reference system/);
  });

  it('VRT, COG and JPEG2000 keep the georeferencing', async () => {
    const src = createRaster(path.join(dir, 'src.tif'), {
      width: 32,
      height: 32,
      bandCount: 3,
      srs: 32633,
      geoTransform: [400000, 5, 0, 5100000, 0, -5],
      value: (b, x, y) => (b * 40 + x + y) % 256,
    });
    const vrt = path.join(dir, 'src.vrt');
    execFileSync('gdal_translate', ['-q', '-of', 'VRT', src, vrt]);
    const vinfo = await openRaster(vrt);
    expect(vinfo.driver).toBe('VRT');
    expect(vinfo.geoTransform).toEqual([400000, 5, 0, 5100000, 0, -5]);
    expect(vinfo.crs?.code).toBe('EPSG:32633');

    const big = createRaster(path.join(dir, 'big.tif'), { width: 600, height: 600, srs: 32633, geoTransform: [400000, 5, 0, 5100000, 0, -5] });
    const cog = path.join(dir, 'big-cog.tif');
    execFileSync('gdal_translate', ['-q', '-of', 'COG', big, cog]); // 512 px blocks → one 300 px overview
    const cinfo = await openRaster(cog);
    expect(cinfo.driver).toBe('GTiff'); // COGs are GeoTIFFs
    expect(cinfo.geoTransform).toEqual([400000, 5, 0, 5100000, 0, -5]);
    expect(cinfo.bands[0].overviews).toEqual([[300, 300]]);

    const jp2 = path.join(dir, 'src.jp2');
    execFileSync('gdal_translate', ['-q', '-of', 'JP2OpenJPEG', src, jp2]);
    const jinfo = await openRaster(jp2);
    expect(jinfo.driver).toBe('JP2OpenJPEG');
    expect(jinfo.geoTransform).toEqual([400000, 5, 0, 5100000, 0, -5]);
    expect(jinfo.crs?.code).toBe('EPSG:32633');
    expect(jinfo.bandCount).toBe(3);
  });
});
