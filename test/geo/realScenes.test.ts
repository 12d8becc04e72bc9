/**
 * Real scenes from ../shared/testdata: openRaster must agree with `gdalinfo -json` (gdal-bin), and the
 * valid-data footprint of RGB.byte.tif must equal its non-zero pixels.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import gdal from 'gdal-async';
import { openRaster } from '../../src/geo/openRaster.js';
import { readRegion } from '../../src/geo/readRegion.js';
import { gdalinfoJson } from '../support/syntheticRaster.js';
import { TESTDATA_DIR } from '../support/parityFixtures.js';

const haveTestdata = fs.existsSync(TESTDATA_DIR);
if (!haveTestdata) console.warn(`realScenes: skipped, ${TESTDATA_DIR} is absent (real imagery lives outside the repo).`);

const SCENES = [
  path.join(TESTDATA_DIR, 'landsat-rgb', 'RGB.byte.tif'),
  path.join(TESTDATA_DIR, 'spacenet-roads', 'road_mask_input.tif'),
  path.join(TESTDATA_DIR, 'spacenet-roads', 'sample_road_raster_mask.tif'),
];

interface GdalInfoJson {
  driverShortName: string;
  size: [number, number];
  geoTransform: number[];
  coordinateSystem: { wkt: string };
  cornerCoordinates: Record<'upperLeft' | 'lowerLeft' | 'lowerRight' | 'upperRight' | 'center', [number, number]>;
  wgs84Extent: { coordinates: Array<Array<[number, number]>> };
  bands: Array<{ type: string; noDataValue?: number; colorInterpretation: string }>;
}

describe.skipIf(!haveTestdata)('real scenes: openRaster equals gdalinfo -json', () => {
  it.each(SCENES)('%s', async (file) => {
    const ref = gdalinfoJson(file) as unknown as GdalInfoJson;
    const info = await openRaster(file);
    expect(info.driver).toBe(ref.driverShortName);
    expect([info.width, info.height]).toEqual(ref.size);
    info.geoTransform.forEach((v, i) => expect(v).toBeCloseTo(ref.geoTransform[i], 10));
    // Same CRS. (Not byte-equal WKT: within one process GDAL 3.6's GeoTIFF SRS lookup may render WGS 84 as
    // DATUM[...] instead of ENSEMBLE[...] once another GeoTIFF was opened; both denote EPSG:4326.)
    const mine = gdal.SpatialReference.fromWKT(info.crs!.wkt);
    expect(mine.isSame(gdal.SpatialReference.fromWKT(ref.coordinateSystem.wkt))).toBe(true);
    expect(info.crs!.wkt.split('\n')[0]).toBe(ref.coordinateSystem.wkt.split('\n')[0]);
    expect(info.bands.map((b) => b.dataType)).toEqual(ref.bands.map((b) => b.type));
    expect(info.bands.map((b) => b.noData)).toEqual(ref.bands.map((b) => b.noDataValue ?? null));
    expect(info.bands.map((b) => b.colorInterpretation)).toEqual(ref.bands.map((b) => b.colorInterpretation));
    for (const k of ['upperLeft', 'lowerLeft', 'lowerRight', 'upperRight', 'center'] as const) {
      expect(info.corners![k][0]).toBeCloseTo(ref.cornerCoordinates[k][0], 6);
      expect(info.corners![k][1]).toBeCloseTo(ref.cornerCoordinates[k][1], 6);
    }
    // gdalinfo's wgs84Extent ring is [upperLeft, lowerLeft, lowerRight, upperRight, upperLeft], lon/lat, 7 decimals.
    const ring = ref.wgs84Extent.coordinates[0];
    const mineLonLat = [info.cornersLonLat!.upperLeft, info.cornersLonLat!.lowerLeft, info.cornersLonLat!.lowerRight, info.cornersLonLat!.upperRight];
    mineLonLat.forEach((p, i) => {
      expect(Math.abs(p[0] - ring[i][0])).toBeLessThan(1e-6);
      expect(Math.abs(p[1] - ring[i][1])).toBeLessThan(1e-6);
    });
  });

  it('RGB.byte.tif is EPSG:32618 with ~300 m pixels', async () => {
    const info = await openRaster(SCENES[0]);
    expect(info.crs?.code).toBe('EPSG:32618');
    expect(info.pixelSizeMetres![0]).toBeGreaterThan(295);
    expect(info.pixelSizeMetres![0]).toBeLessThan(305);
  });

  it('the road mask keeps its geographic CRS (degrees) and has ~0.3 m ground pixels', async () => {
    const info = await openRaster(SCENES[2]);
    expect(info.crs?.code).toBe('EPSG:4326');
    expect(info.crs?.units).toBe('degree');
    expect(info.pixelSizeMetres![1]).toBeGreaterThan(0.25);
    expect(info.pixelSizeMetres![1]).toBeLessThan(0.35);
  });
});

describe.skipIf(!haveTestdata)('real scenes: valid-data footprint', () => {
  it('RGB.byte.tif: valid pixels = pixels whose three bands are non-zero', async () => {
    const file = SCENES[0];
    const ds = gdal.open(file);
    const { x: w, y: h } = ds.rasterSize;
    const bands = [1, 2, 3].map((b) => ds.bands.get(b).pixels.read(0, 0, w, h));
    ds.close();
    let nonZero = 0;
    for (let i = 0; i < w * h; i++) if (bands[0][i] !== 0 && bands[1][i] !== 0 && bands[2][i] !== 0) nonZero++;
    const region = await readRegion(file, { window: { kind: 'full' }, outWidth: w, outHeight: h, resampling: 'nearest' });
    let valid = 0;
    for (let i = 0; i < w * h; i++) valid += region.valid[i];
    expect(valid).toBe(nonZero);
    expect(nonZero).toBeGreaterThan(0.3 * w * h);
    expect(nonZero).toBeLessThan(w * h);
    // 8-bit data passes through unchanged where valid; invalid pixels are black.
    let checked = 0;
    for (let i = 0; i < w * h; i += 97) {
      const expected = region.valid[i] ? [bands[0][i], bands[1][i], bands[2][i]] : [0, 0, 0];
      expect([region.rgb[i * 3], region.rgb[i * 3 + 1], region.rgb[i * 3 + 2]]).toEqual(expected);
      checked += region.valid[i];
    }
    expect(checked).toBeGreaterThan(1000);
  });
});
