/**
 * The OGR road of the writers (`vectorizeMask` → `geo/polygonLayer` → `writeFeatures`, what `segearth vectorize`
 * uses) against GDAL's own reading of the files and against the DTO road (`toFeatureSet()` → `writeFeatures`):
 * the same bytes of geometry and the same attributes in GeoPackage, Shapefile and GeoJSON, the pixel area the
 * mask holds, and the writers' guarantees (field names, CRS, lon/lat GeoJSON) on both roads.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vectorizeMask } from '../../src/geo/maskToPolygons.js';
import type { PolygonLayer } from '../../src/geo/polygonLayer.js';
import { writeFeatures } from '../../src/geo/writers/writeFeatures.js';
import { GRIDS, countPixels, disk, maskArrayInput, rasterize, rectangle, squareRing, type PixelShape } from '../support/syntheticMask.js';
import { readBackLayer } from '../support/vectorReadBack.js';

const W = 240;
const H = 200;
const work = mkdtempSync(join(tmpdir(), 'segearth-polygonlayer-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// Two squares touching at a corner (one invalid Polygonize polygon, repaired into a MultiPolygon), a ring with
// a hole, a disk, a rectangle: 4 features.
const pinched: PixelShape = (c, r) => (c >= 10 && c < 30 && r >= 10 && r < 30) || (c >= 30 && c < 50 && r >= 30 && r < 50);
const shapes = [pinched, squareRing(80, 20, 60, 20), disk(170, 120, 25), rectangle(20, 150, 40, 30)];
const pixels = countPixels(W, H, (c, r) => shapes.some((shape) => shape(c, r)));

let polygons: PolygonLayer;
beforeAll(async () => {
  polygons = await vectorizeMask(maskArrayInput(W, H, shapes, GRIDS.utm));
});
afterAll(() => polygons.close());

/** Geometry bytes and attributes of every feature, as GDAL's SQLite dialect prints them. */
function gpkgDump(path: string, layer: string): string {
  return execFileSync(
    'ogrinfo',
    ['-ro', '-q', '-dialect', 'SQLite', '-sql', `SELECT hex(geom), id, area_m2, perimeter_m, ST_IsValid(geom) AS valid FROM "${layer}"`, path],
    { encoding: 'utf8' },
  );
}

/** `ogrinfo -al` of a file without its first lines (which name the file). */
function ogrinfoAll(path: string): string {
  return execFileSync('ogrinfo', ['-ro', '-al', path], { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n').slice(2).join('\n');
}

describe('vectorizeMask → PolygonLayer', () => {
  it('holds one measured feature per blob, ids 1..n, the mask’s pixel area and CRS', () => {
    expect(polygons.featureCount).toBe(4); // the pinched squares are one 8-connected feature
    expect(polygons.crsCode).toBe('EPSG:32618');
    expect(polygons.totalAreaM2).toBeCloseTo(pixels * 100, 6);
    const dto = polygons.toFeatureSet();
    expect(dto.features.map((f) => f.id)).toEqual([1, 2, 3, 4]);
    expect(dto.features.map((f) => f.properties.id)).toEqual([1, 2, 3, 4]);
    expect(dto.features.some((f) => f.geometry.type === 'MultiPolygon')).toBe(true); // the pinched squares
    const positions = dto.features.reduce((n, f) => n + (f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates).flat().reduce((k, ring) => k + ring.length, 0), 0);
    expect(polygons.vertexCount).toBe(positions);
  });
});

describe('writers: the OGR road and the DTO road write the same file', () => {
  it('GeoPackage: identical geometry bytes and attributes, all valid, areas as GDAL measures them', async () => {
    const direct = join(work, 'direct.gpkg');
    const viaDto = join(work, 'dto.gpkg');
    expect((await writeFeatures([{ name: 'blobs', features: polygons }], direct)).featureCount).toBe(4);
    await writeFeatures([{ name: 'blobs', features: polygons.toFeatureSet() }], viaDto);
    const dump = gpkgDump(direct, 'blobs');
    expect(dump).toBe(gpkgDump(viaDto, 'blobs'));
    expect(dump.match(/valid \(Integer\) = 1/g)).toHaveLength(4);
    const back = readBackLayer(direct, 'blobs');
    expect(back.crsCode).toBe('EPSG:32618');
    expect(back.planarArea).toBeCloseTo(pixels * 100, 6);
    for (const feature of back.features) expect(feature.geometry.type).toBe('MultiPolygon');
    const ogrArea = execFileSync('ogrinfo', ['-ro', '-q', '-dialect', 'SQLite', '-sql', 'SELECT SUM(ABS(area_m2 - ST_Area(geom))) AS diff FROM blobs', direct], {
      encoding: 'utf8',
    });
    expect(Number(/diff \(Real\) = ([-\d.e+]+)/.exec(ogrArea)?.[1])).toBeLessThan(1e-6);
  });

  it('GeoPackage --append: adds the layer to an existing file on both roads alike', async () => {
    const direct = join(work, 'append-direct.gpkg');
    const viaDto = join(work, 'append-dto.gpkg');
    for (const out of [direct, viaDto]) await writeFeatures([{ name: 'first', features: polygons.toFeatureSet() }], out);
    await writeFeatures([{ name: 'second', features: polygons }], direct, { append: true });
    await writeFeatures([{ name: 'second', features: polygons.toFeatureSet() }], viaDto, { append: true });
    expect(gpkgDump(direct, 'second')).toBe(gpkgDump(viaDto, 'second'));
    expect(gpkgDump(direct, 'first')).toBe(gpkgDump(viaDto, 'first'));
  });

  it('Shapefile: the same files, with the documented short field names and the .prj', async () => {
    const [dirA, dirB] = [mkdtempSync(join(work, 'shp-a-')), mkdtempSync(join(work, 'shp-b-'))];
    await writeFeatures([{ name: 'blobs', features: polygons }], join(dirA, 'blobs.shp'));
    await writeFeatures([{ name: 'blobs', features: polygons.toFeatureSet() }], join(dirB, 'blobs.shp'));
    expect(readdirSync(dirA).sort()).toEqual(['blobs.cpg', 'blobs.dbf', 'blobs.prj', 'blobs.shp', 'blobs.shx']);
    expect(ogrinfoAll(join(dirA, 'blobs.shp'))).toBe(ogrinfoAll(join(dirB, 'blobs.shp')));
    for (const ext of ['.shp', '.dbf', '.prj', '.cpg']) {
      expect(readFileSync(join(dirA, `blobs${ext}`)).equals(readFileSync(join(dirB, `blobs${ext}`)))).toBe(true);
    }
    const back = readBackLayer(join(dirA, 'blobs.shp'));
    expect(Object.keys(back.features[0].properties).sort()).toEqual(['area_m2', 'id', 'perim_m']);
    expect(back.crsCode).toBe('EPSG:32618');
  });

  it('GeoJSON: the same lon/lat file (RFC 7946)', async () => {
    const direct = join(work, 'direct.geojson');
    const viaDto = join(work, 'dto.geojson');
    await writeFeatures([{ name: 'blobs', features: polygons }], direct);
    await writeFeatures([{ name: 'blobs', features: polygons.toFeatureSet() }], viaDto);
    expect(readFileSync(direct, 'utf8')).toBe(readFileSync(viaDto, 'utf8'));
    const json = JSON.parse(readFileSync(direct, 'utf8')) as { features: { geometry: { coordinates: number[][][][] } }[] };
    const [lon, lat] = json.features[0].geometry.coordinates.flat(3).slice(0, 2) as unknown as [number, number];
    expect(lon).toBeGreaterThan(-76);
    expect(lon).toBeLessThan(-74);
    expect(lat).toBeGreaterThan(39);
    expect(lat).toBeLessThan(40.5);
  });

  it('GeoJSON: the same file on both roads from geographic and Web Mercator grids too', async () => {
    for (const grid of [GRIDS.wgs84, GRIDS.mercator]) {
      const layer = await vectorizeMask(maskArrayInput(W, H, shapes, grid));
      try {
        const direct = join(work, 'direct-other.geojson');
        const viaDto = join(work, 'dto-other.geojson');
        await writeFeatures([{ name: 'blobs', features: layer }], direct, { overwrite: true });
        await writeFeatures([{ name: 'blobs', features: layer.toFeatureSet() }], viaDto, { overwrite: true });
        expect(readFileSync(direct, 'utf8')).toBe(readFileSync(viaDto, 'utf8'));
        expect(JSON.parse(readFileSync(direct, 'utf8')).features).toHaveLength(4);
      } finally {
        layer.close();
      }
    }
  });
});

describe('PolygonLayer without a CRS', () => {
  it('leaves areas unknown (null) and writes pixel coordinates to GeoPackage', async () => {
    const pixelsOnly = await vectorizeMask({ kind: 'array', data: rasterize(W, H, shapes), width: W, height: H, geoTransform: [0, 1, 0, 0, 0, -1], crsWkt: null });
    try {
      expect(pixelsOnly.totalAreaM2).toBeNull();
      expect(pixelsOnly.toFeatureSet().features.every((f) => f.properties.area_m2 === null && f.properties.perimeter_m === null)).toBe(true);
      const out = join(work, 'pixels.gpkg');
      await writeFeatures([{ name: 'blobs', features: pixelsOnly }], out);
      const back = readBackLayer(out, 'blobs');
      expect(back.crsCode).toBeNull();
      expect(back.planarArea).toBeCloseTo(pixels, 6);
      expect(back.features.every((f) => f.properties.area_m2 === null)).toBe(true);
    } finally {
      pixelsOnly.close();
    }
  });
});
