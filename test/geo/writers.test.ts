import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskToPolygons } from '../../src/geo/maskToPolygons.js';
import { writeRasterGeoTiff } from '../../src/geo/writers/maskGeoTiff.js';
import { SHAPEFILE_FIELD_NAMES, shapefileFieldNamer } from '../../src/geo/writers/shapefileFieldNames.js';
import { writeFeatures } from '../../src/geo/writers/writeFeatures.js';
import type { FeatureSet } from '../../src/shared/featureSet.js';
import { geodesicAvailable, geodesicMeasure } from '../support/geodesic.js';
import { GRIDS, diagonalStrip, maskArrayInput, rasterize, rectangle, squareRing, wktOf } from '../support/syntheticMask.js';
import { layerNames, qgisAvailable, qgisValidity, readBackLayer } from '../support/vectorReadBack.js';

const W = 200;
const H = 160;
const work = mkdtempSync(join(tmpdir(), 'segearth-writers-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let utm: FeatureSet;
let wgs84: FeatureSet;
const haveQgis = qgisAvailable();
if (!haveQgis) console.warn('skipping QGIS validity checks: qgis_process is not installed');
const haveGeod = geodesicAvailable();
if (!haveGeod) console.warn('skipping the GeoJSON geodesic area check: /usr/bin/python3 with pyproj is not available');

const LABEL = 'Straße über Brücke — 東京';

beforeAll(async () => {
  const shapes = [rectangle(10, 20, 100, 50), squareRing(120, 40, 60, 20)];
  const base = await maskToPolygons(maskArrayInput(W, H, shapes, GRIDS.utm));
  utm = {
    ...base,
    features: base.features.map((f) => ({ ...f, properties: { ...f.properties, description_text: LABEL } })),
  };
  wgs84 = await maskToPolygons(maskArrayInput(W, H, [rectangle(10, 20, 100, 50), diagonalStrip(20, 100, 30)], GRIDS.wgs84));
});

const sum = (values: unknown[]) => values.reduce<number>((s, v) => s + Number(v), 0);
const areaSum = (fs: FeatureSet) => sum(fs.features.map((f) => f.properties.area_m2));

describe('GeoPackage writer', () => {
  it('writes several results as layers of one file, each in its native CRS, read back identically by ogr2ogr', async () => {
    const out = join(work, 'results.gpkg');
    const result = await writeFeatures([{ name: 'fields', features: utm }, { name: 'roads', features: wgs84 }], out);
    expect(result).toEqual({ format: 'gpkg', paths: [out], featureCount: 4 });
    expect(layerNames(out)).toEqual(['fields', 'roads']);

    const fields = readBackLayer(out, 'fields');
    expect(fields.crsCode).toBe('EPSG:32618');
    expect(fields.features).toHaveLength(2);
    expect(fields.planarArea).toBeCloseTo(820_000, 6);
    expect(sum(fields.features.map((f) => f.properties.area_m2))).toBe(areaSum(utm));
    expect(fields.features[0].properties.description_text).toBe(LABEL);
    expect(fields.features.every((f) => f.geometry.type === 'MultiPolygon')).toBe(true);
    expect((fields.features[0].geometry.coordinates as number[][][][])[0]).toEqual(utm.features[0].geometry.coordinates);

    const roads = readBackLayer(out, 'roads');
    expect(roads.crsCode).toBe('EPSG:4326');
    expect(roads.features).toHaveLength(2);
    expect(sum(roads.features.map((f) => f.properties.area_m2))).toBeCloseTo(areaSum(wgs84), 6);
    const [lon, lat] = (roads.features[0].geometry.coordinates as number[][][][])[0][0][0];
    expect(lon).toBeCloseTo(-74.999, 9);
    expect(lat).toBeCloseTo(39.998, 9);
  });

  it.skipIf(!haveQgis)('passes QGIS validity for every feature of every layer', () => {
    const out = join(work, 'results.gpkg');
    expect(qgisValidity(out, 'fields')).toEqual({ valid: 2, invalid: 0, errors: 0 });
    expect(qgisValidity(out, 'roads')).toEqual({ valid: 2, invalid: 0, errors: 0 });
  });

  it('adds layers to an existing GeoPackage on request, never replacing a layer silently', async () => {
    const out = join(work, 'append.gpkg');
    await writeFeatures([{ name: 'fields', features: utm }], out);
    await writeFeatures([{ name: 'roads', features: wgs84 }], out, { append: true });
    expect(layerNames(out)).toEqual(['fields', 'roads']);
    await expect(writeFeatures([{ name: 'fields', features: wgs84 }], out, { append: true })).rejects.toMatchObject({
      code: 'OUTPUT_EXISTS',
    });
    expect(readBackLayer(out, 'fields').crsCode).toBe('EPSG:32618');
    await expect(writeFeatures([{ name: 'other', features: wgs84 }], out)).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
    await writeFeatures([{ name: 'fields', features: wgs84 }], out, { append: true, overwrite: true });
    expect(layerNames(out).sort()).toEqual(['fields', 'roads']); // the replaced layer is re-created last
    expect(readBackLayer(out, 'fields').crsCode).toBe('EPSG:4326');
    expect(readdirSync(work).filter((n) => n.startsWith('.segearth-tmp'))).toEqual([]);
  });

  it('writes an empty result as an empty layer', async () => {
    const out = join(work, 'empty.gpkg');
    await writeFeatures([{ name: 'nothing', features: { ...utm, features: [] } }], out);
    expect(layerNames(out)).toEqual(['nothing']);
    expect(readBackLayer(out, 'nothing').features).toHaveLength(0);
  });
});

function signedArea(ring: number[][]): number {
  let s = 0;
  for (let i = 0; i < ring.length - 1; i++) s += ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1];
  return s / 2;
}

describe('GeoJSON writer (RFC 7946)', () => {
  it('writes lon/lat WGS 84, right-hand rule, 7 decimals, no crs member', async () => {
    const out = join(work, 'fields.geojson');
    await writeFeatures([{ name: 'fields', features: utm }], out);
    const text = readFileSync(out, 'utf8');
    const json = JSON.parse(text) as { crs?: unknown; features: Array<{ geometry: { coordinates: number[][][] }; properties: Record<string, unknown> }> };
    expect(json.crs).toBeUndefined();
    expect(json.features).toHaveLength(2);
    const maxDecimals = Math.max(...[...text.matchAll(/-?\d+\.(\d+)/g)].filter((m) => !m[0].includes('e')).map((m) => m[1].length));
    expect(maxDecimals).toBeLessThanOrEqual(7);
    for (const feature of json.features) {
      const [shell, ...holes] = feature.geometry.coordinates;
      expect(signedArea(shell)).toBeGreaterThan(0); // counter-clockwise exterior
      for (const hole of holes) expect(signedArea(hole)).toBeLessThan(0);
      for (const [lon, lat] of shell) {
        expect(lon).toBeGreaterThan(-76);
        expect(lon).toBeLessThan(-74);
        expect(lat).toBeGreaterThan(39);
        expect(lat).toBeLessThan(41);
      }
    }
    expect(json.features[1].geometry.coordinates).toHaveLength(2); // the ring keeps its hole
    expect(json.features[0].properties.description_text).toBe(LABEL);
    const back = readBackLayer(out);
    expect(back.crsCode).toBe('EPSG:4326');
    expect(back.features).toHaveLength(2);
    if (haveGeod) {
      const geodesic = geodesicMeasure('EPSG:4326', json.features.map((f) => f.geometry.coordinates));
      expect(Math.abs(sum(geodesic.map((g) => g.area)) / areaSum(utm) - 1)).toBeLessThan(5e-3); // UTM plane vs ellipsoid
    }
  });

  it('honours the precision option and merges several results with a layer property', async () => {
    const out = join(work, 'merged.geojson');
    await writeFeatures([{ name: 'fields', features: utm }, { name: 'roads', features: wgs84 }], out, { precision: 3 });
    const text = readFileSync(out, 'utf8');
    const decimals = [...text.matchAll(/\[\s*(-?\d+\.\d+)/g)].map((m) => m[1].split('.')[1].length);
    expect(Math.max(...decimals)).toBeLessThanOrEqual(3);
    const json = JSON.parse(text) as { features: Array<{ properties: { layer: string } }> };
    expect(json.features.map((f) => f.properties.layer)).toEqual(['fields', 'fields', 'roads', 'roads']);
    await expect(writeFeatures([{ name: 'x', features: utm }], join(work, 'bad.geojson'), { precision: 40 })).rejects.toMatchObject({
      code: 'BAD_ARGUMENT',
    });
  });

  it.skipIf(!haveQgis)('passes QGIS validity', () => {
    expect(qgisValidity(join(work, 'fields.geojson'))).toEqual({ valid: 2, invalid: 0, errors: 0 });
  });
});

describe('Shapefile writer', () => {
  it('writes .shp .shx .dbf .prj .cpg in the native CRS, UTF-8, with the documented short field names', async () => {
    const dir = mkdtempSync(join(work, 'shp-'));
    const out = join(dir, 'fields.shp');
    const result = await writeFeatures([{ name: 'fields', features: utm }], out);
    expect(readdirSync(dir).sort()).toEqual(['fields.cpg', 'fields.dbf', 'fields.prj', 'fields.shp', 'fields.shx']);
    expect(result.paths).toHaveLength(5);
    expect(readFileSync(join(dir, 'fields.cpg'), 'utf8').trim()).toBe('UTF-8');
    const back = readBackLayer(out);
    expect(back.crsCode).toBe('EPSG:32618');
    expect(back.features).toHaveLength(2);
    expect(back.planarArea).toBeCloseTo(820_000, 6);
    expect(Object.keys(back.features[0].properties).sort()).toEqual(['area_m2', 'descriptio', 'id', 'perim_m']);
    expect(back.features[0].properties.descriptio).toBe(LABEL);
    expect(back.features[0].properties.perim_m).toBe(3000);
    if (haveQgis) expect(qgisValidity(out)).toEqual({ valid: 2, invalid: 0, errors: 0 });
  });

  it('writes one shapefile per result with a _<layer> suffix', async () => {
    const dir = mkdtempSync(join(work, 'shp-multi-'));
    await writeFeatures([{ name: 'fields', features: utm }, { name: 'road lines', features: wgs84 }], join(dir, 'out.shp'));
    expect(readdirSync(dir).filter((n) => n.endsWith('.shp')).sort()).toEqual(['out_fields.shp', 'out_road_lines.shp']);
    expect(readBackLayer(join(dir, 'out_road_lines.shp')).crsCode).toBe('EPSG:4326');
  });

  it('maps field names to ≤ 10 unique characters', () => {
    const namer = shapefileFieldNamer(['id', 'area_m2', 'perimeter_m', 'description_text', 'description_other']);
    expect(namer('perimeter_m')).toBe(SHAPEFILE_FIELD_NAMES.perimeter_m);
    expect(namer('description_text')).toBe('descriptio');
    expect(namer('description_other')).toBe('descript_1');
    for (const n of ['id', 'area_m2', 'perimeter_m', 'description_text', 'description_other']) expect(namer(n).length).toBeLessThanOrEqual(10);
  });
});

describe('mask / probability GeoTIFF writer', () => {
  it('writes a DEFLATE COG on the same grid and CRS that vectorizes back to the same area', async () => {
    const data = rasterize(W, H, [rectangle(10, 20, 100, 50)], 255);
    const out = join(work, 'mask.tif');
    await writeRasterGeoTiff(data, W, H, GRIDS.utm.geoTransform, wktOf(GRIDS.utm.crs), out, { type: 'mask' });
    const info = JSON.parse(execFileSync('gdalinfo', ['-json', out], { encoding: 'utf8' })) as {
      size: number[];
      geoTransform: number[];
      bands: Array<{ type: string }>;
      metadata: Record<string, Record<string, string>>;
      coordinateSystem: { wkt: string };
    };
    expect(info.size).toEqual([W, H]);
    expect(info.geoTransform).toEqual(GRIDS.utm.geoTransform);
    expect(info.bands[0].type).toBe('Byte');
    expect(info.metadata.IMAGE_STRUCTURE).toMatchObject({ COMPRESSION: 'DEFLATE', LAYOUT: 'COG' });
    expect(info.coordinateSystem.wkt).toMatch(/ID\["EPSG",32618\]\]$/);
    const again = await maskToPolygons({ kind: 'file', path: out });
    expect(again.features.map((f) => f.properties.area_m2)).toEqual([500_000]);
    await expect(
      writeRasterGeoTiff(data, W, H, GRIDS.utm.geoTransform, wktOf(GRIDS.utm.crs), out, { type: 'mask' }),
    ).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
  });

  it('writes Float32 probabilities unchanged', async () => {
    const data = new Float32Array(W * H).map((_, i) => (i % W) / W);
    const out = join(work, 'prob.tif');
    await writeRasterGeoTiff(data, W, H, GRIDS.wgs84.geoTransform, wktOf(GRIDS.wgs84.crs), out, { type: 'probability' });
    const stats = JSON.parse(execFileSync('gdalinfo', ['-json', '-mm', out], { encoding: 'utf8' })) as {
      bands: Array<{ type: string; computedMin: number; computedMax: number }>;
    };
    expect(stats.bands[0].type).toBe('Float32');
    expect(stats.bands[0].computedMin).toBe(0);
    expect(stats.bands[0].computedMax).toBeCloseTo((W - 1) / W, 6);
    expect((await maskToPolygons({ kind: 'file', path: out })).features[0].properties.area_m2).toBeGreaterThan(0);
  });
});

describe('writeFeatures errors', () => {
  it('refuses unknown extensions, nothing to export and duplicate layer names', async () => {
    await expect(writeFeatures([{ name: 'a', features: utm }], join(work, 'out.kml'))).rejects.toMatchObject({
      code: 'UNSUPPORTED_FORMAT',
      hint: expect.stringMatching(/\.gpkg/),
    });
    await expect(writeFeatures([], join(work, 'none.gpkg'))).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(
      writeFeatures([{ name: 'a', features: utm }, { name: 'A', features: wgs84 }], join(work, 'dup.gpkg')),
    ).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });

  it('writes pixel-coordinate results (no CRS) to GeoPackage but refuses GeoJSON, which must be lon/lat', async () => {
    const pixels: FeatureSet = { ...utm, crsWkt: null, crsCode: null };
    await writeFeatures([{ name: 'pixels', features: pixels }], join(work, 'pixels.gpkg'));
    const back = readBackLayer(join(work, 'pixels.gpkg'), 'pixels');
    expect(back.crsCode).toBeNull();
    expect(back.features).toHaveLength(2);
    await expect(writeFeatures([{ name: 'pixels', features: pixels }], join(work, 'pixels.geojson'))).rejects.toMatchObject({
      code: 'NOT_GEOREFERENCED',
    });
    expect(readdirSync(work).filter((n) => n.startsWith('pixels.geojson'))).toEqual([]);
  });

  it('reports an impossible folder as OUTPUT_NOT_WRITABLE and leaves no partial output', async () => {
    const dir = mkdtempSync(join(work, 'nowrite-'));
    const file = join(dir, 'file.txt');
    writeFileSync(file, 'x');
    for (const name of ['out.gpkg', 'out.geojson', 'out.shp']) {
      await expect(writeFeatures([{ name: 'a', features: utm }], join(file, name))).rejects.toMatchObject({
        code: 'OUTPUT_NOT_WRITABLE',
      });
    }
    expect(readdirSync(dir)).toEqual(['file.txt']);
    expect(statSync(file).size).toBe(1);
  });
});
