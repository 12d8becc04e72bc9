import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import gdal from 'gdal-async';
import { afterAll, describe, expect, it } from 'vitest';
import { maskToPolygons, type MaskInput } from '../../src/geo/maskToPolygons.js';
import { interactionGroups, simplifyTogether } from '../../src/geo/simplify.js';
import type { AreaGeometry, FeatureSet } from '../../src/shared/featureSet.js';
import { FeatureSetSchema } from '../../src/shared/featureSet.js';
import type { GeoTransform } from '../../src/shared/rasterInfo.js';
import { geodesicAvailable, geodesicMeasure } from '../support/geodesic.js';
import {
  GRIDS,
  countPixels,
  diagonalStrip,
  disk,
  pixelCorner,
  rasterize,
  rectangle,
  squareRing,
  wktOf,
  writeMaskFile,
  type PixelShape,
} from '../support/syntheticMask.js';

const W = 200;
const H = 160;
const work = mkdtempSync(join(tmpdir(), 'segearth-mask-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function arrayInput(shapes: PixelShape[], grid: { crs: string | null; geoTransform: GeoTransform }, value = 255): MaskInput {
  return {
    kind: 'array',
    data: rasterize(W, H, shapes, value),
    width: W,
    height: H,
    geoTransform: grid.geoTransform,
    crsWkt: grid.crs === null ? null : wktOf(grid.crs),
  };
}

function polygonsOf(geometry: AreaGeometry): number[][][][] {
  return (geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates) as number[][][][];
}

function uniqueVertices(ring: number[][]): string[] {
  return [...new Set(ring.slice(0, -1).map(([x, y]) => `${x.toFixed(6)} ${y.toFixed(6)}`))].sort();
}

function corners(gt: GeoTransform, col: number, row: number, w: number, h: number): string[] {
  return [pixelCorner(gt, col, row), pixelCorner(gt, col + w, row), pixelCorner(gt, col + w, row + h), pixelCorner(gt, col, row + h)]
    .map(([x, y]) => `${x.toFixed(6)} ${y.toFixed(6)}`)
    .sort();
}

function ogr(geometry: AreaGeometry) {
  return gdal.Geometry.fromGeoJson(geometry);
}

const RECT = rectangle(10, 20, 100, 50);
const RING = squareRing(120, 40, 60, 20);

describe('maskToPolygons on a UTM grid (10 m pixels)', () => {
  it('turns a 100×50 px rectangle into one polygon with the exact corners, 500 000 m² and 3 000 m', async () => {
    const fs = await maskToPolygons(arrayInput([RECT], GRIDS.utm));
    expect(FeatureSetSchema.parse(fs)).toEqual(fs);
    expect(fs.crsCode).toBe('EPSG:32618');
    expect(fs.features).toHaveLength(1);
    const [feature] = fs.features;
    expect(feature.geometry.type).toBe('Polygon');
    const rings = polygonsOf(feature.geometry)[0];
    expect(rings).toHaveLength(1);
    expect(uniqueVertices(rings[0])).toEqual(corners(GRIDS.utm.geoTransform, 10, 20, 100, 50));
    expect(feature.properties).toEqual({ id: 1, area_m2: 500_000, perimeter_m: 3_000 });
  });

  it('keeps the hole of a ring, and fills it only when it is smaller than fillHolesM2', async () => {
    const ringArea = (60 * 60 - 20 * 20) * 100;
    const kept = await maskToPolygons(arrayInput([RING], GRIDS.utm));
    expect(kept.features).toHaveLength(1);
    expect(polygonsOf(kept.features[0].geometry)[0]).toHaveLength(2);
    expect(kept.features[0].properties.area_m2).toBe(ringArea);
    expect(kept.features[0].properties.perimeter_m).toBe(4 * 600 + 4 * 200);
    expect(uniqueVertices(polygonsOf(kept.features[0].geometry)[0][1])).toEqual(corners(GRIDS.utm.geoTransform, 140, 60, 20, 20));

    const holeArea = 20 * 20 * 100;
    const notFilled = await maskToPolygons(arrayInput([RING], GRIDS.utm), { fillHolesM2: holeArea });
    expect(notFilled.features[0].properties.area_m2).toBe(ringArea);
    const filled = await maskToPolygons(arrayInput([RING], GRIDS.utm), { fillHolesM2: holeArea + 1 });
    expect(polygonsOf(filled.features[0].geometry)[0]).toHaveLength(1);
    expect(filled.features[0].properties.area_m2).toBe(60 * 60 * 100);
  });

  it('joins pixels touching only at corners (8-connectivity) into one valid feature', async () => {
    const strip = diagonalStrip(20, 90, 30);
    const fs = await maskToPolygons(arrayInput([strip], GRIDS.utm));
    expect(fs.features).toHaveLength(1);
    const geometry = ogr(fs.features[0].geometry);
    expect(geometry.isValid()).toBe(true);
    expect(fs.features[0].properties.area_m2).toBeCloseTo(30 * 100, 6);
    expect(fs.features[0].properties.perimeter_m).toBeCloseTo(30 * 40, 6);
  });

  it('drops features below minAreaM2 (measured before simplification) and numbers the rest 1..n', async () => {
    const blob = rectangle(150, 130, 3, 3); // 900 m²
    const all = await maskToPolygons(arrayInput([RECT, RING, blob], GRIDS.utm), { minAreaM2: 900 });
    expect(all.features.map((f) => f.properties.area_m2).sort((a, b) => Number(a) - Number(b))).toEqual([
      900,
      320_000,
      500_000,
    ]);
    const big = await maskToPolygons(arrayInput([RECT, RING, blob], GRIDS.utm), { minAreaM2: 901 });
    expect(big.features).toHaveLength(2);
    expect(big.features.map((f) => f.id)).toEqual([1, 2]);
    expect(big.features.map((f) => f.properties.id)).toEqual([1, 2]);
  });

  it('thresholds probabilities with p >= threshold (default 0.5)', async () => {
    const data = new Float32Array(W * H);
    for (let r = 0; r < H; r++) for (let c = 0; c < W; c++) data[r * W + c] = c / W; // column 100 is exactly 0.5
    const input = (): MaskInput => ({ kind: 'array', data, width: W, height: H, geoTransform: GRIDS.utm.geoTransform, crsWkt: wktOf(GRIDS.utm.crs) });
    const half = await maskToPolygons(input());
    expect(half.features).toHaveLength(1);
    expect(half.features[0].properties.area_m2).toBe(100 * H * 100);
    const high = await maskToPolygons(input(), { threshold: 0.75 });
    expect(high.features[0].properties.area_m2).toBe(50 * H * 100);
  });

  it('treats integer masks as value > 0 by default and applies a given threshold in the data scale', async () => {
    const data = rasterize(W, H, [RECT], 1);
    const strong = rasterize(W, H, [RING], 200);
    for (let i = 0; i < data.length; i++) data[i] = Math.max(data[i], strong[i]);
    const input = (): MaskInput => ({ kind: 'array', data, width: W, height: H, geoTransform: GRIDS.utm.geoTransform, crsWkt: wktOf(GRIDS.utm.crs) });
    expect((await maskToPolygons(input())).features).toHaveLength(2);
    const only = await maskToPolygons(input(), { threshold: 128 });
    expect(only.features).toHaveLength(1);
    expect(only.features[0].properties.area_m2).toBe(320_000);
  });
});

describe('maskToPolygons on other grids', () => {
  it('follows a rotated geotransform exactly (corners and area)', async () => {
    const gt = GRIDS.rotated.geoTransform;
    const fs = await maskToPolygons(arrayInput([RECT], GRIDS.rotated));
    expect(fs.features).toHaveLength(1);
    const ring = polygonsOf(fs.features[0].geometry)[0][0];
    expect(uniqueVertices(ring)).toEqual(corners(gt, 10, 20, 100, 50));
    expect(fs.features[0].properties.area_m2).toBeCloseTo(500_000, 4);
    expect(fs.features[0].properties.perimeter_m).toBeCloseTo(3_000, 6);
  });

  it('returns pixel coordinates and null measures for a mask without CRS, and refuses m² options', async () => {
    const grid = { crs: null, geoTransform: [0, 1, 0, 0, 0, 1] as GeoTransform };
    const fs = await maskToPolygons(arrayInput([RECT], grid));
    expect(fs.crsWkt).toBeNull();
    expect(uniqueVertices(polygonsOf(fs.features[0].geometry)[0][0])).toEqual(corners(grid.geoTransform, 10, 20, 100, 50));
    expect(fs.features[0].properties).toEqual({ id: 1, area_m2: null, perimeter_m: null });
    await expect(maskToPolygons(arrayInput([RECT], grid), { minAreaM2: 10 })).rejects.toMatchObject({ code: 'NOT_GEOREFERENCED' });
  });

  const haveGeod = geodesicAvailable();
  if (!haveGeod) console.warn('skipping geodesic comparisons: /usr/bin/python3 with pyproj is not available');

  describe.skipIf(!haveGeod)('ground measures against pyproj geodesics', () => {
    it('EPSG:4326: areas and perimeters are ellipsoidal (Karney geodesic of the densified outline)', async () => {
      const fs = await maskToPolygons(arrayInput([RECT, RING], GRIDS.wgs84));
      expect(fs.crsCode).toBe('EPSG:4326');
      const reference = geodesicMeasure('EPSG:4326', fs.features.map((f) => polygonsOf(f.geometry)[0]));
      fs.features.forEach((feature, i) => {
        expect(Math.abs(Number(feature.properties.area_m2) / reference[i].area - 1)).toBeLessThan(1e-6);
        expect(Math.abs(Number(feature.properties.perimeter_m) / reference[i].perimeter - 1)).toBeLessThan(1e-5);
      });
      // Sanity on the numbers themselves: ~8.5 m × 11.1 m pixels at 40°N.
      expect(Number(fs.features[0].properties.area_m2) / 5000).toBeGreaterThan(90);
      expect(Number(fs.features[0].properties.area_m2) / 5000).toBeLessThan(100);
    });

    it('UTM with measure: "ellipsoidal" gives the ground area instead of the grid area (scale factor ≈ 0.9996)', async () => {
      const fs = await maskToPolygons(arrayInput([RECT], GRIDS.utm), { measure: 'ellipsoidal' });
      const [feature] = fs.features;
      const reference = geodesicMeasure('EPSG:32618', [polygonsOf(feature.geometry)[0]])[0];
      expect(Math.abs(Number(feature.properties.area_m2) / reference.area - 1)).toBeLessThan(1e-6);
      const gridToGround = 500_000 / Number(feature.properties.area_m2); // k² near the central meridian
      expect(gridToGround).toBeGreaterThan(0.9990);
      expect(gridToGround).toBeLessThan(0.9995);
    });

    it('EPSG:3857: areas are true ground areas, not the inflated Mercator plane areas', async () => {
      const fs = await maskToPolygons(arrayInput([RECT], GRIDS.mercator));
      const [feature] = fs.features;
      const reference = geodesicMeasure('EPSG:3857', [polygonsOf(feature.geometry)[0]])[0];
      expect(Math.abs(Number(feature.properties.area_m2) / reference.area - 1)).toBeLessThan(1e-6);
      expect(Math.abs(Number(feature.properties.perimeter_m) / reference.perimeter - 1)).toBeLessThan(1e-5);
      const planar = (ogr(feature.geometry) as gdal.Polygon).getArea();
      expect(planar).toBe(500_000);
      expect(Number(feature.properties.area_m2)).toBeLessThan(0.3 * planar); // cos²(~60°) ≈ 0.25
    });
  });
});

describe('simplification', () => {
  it('reduces a pixel staircase, keeps area within 3 % and stays valid', async () => {
    const shape = disk(100, 80, 40);
    const raw = await maskToPolygons(arrayInput([shape], GRIDS.utm));
    const simple = await maskToPolygons(arrayInput([shape], GRIDS.utm), { simplify: { value: 1.5, unit: 'px' } });
    const vertices = (fs: FeatureSet) => polygonsOf(fs.features[0].geometry)[0][0].length;
    expect(vertices(simple)).toBeLessThan(vertices(raw) / 2);
    const pixels = countPixels(W, H, shape) * 100;
    expect(raw.features[0].properties.area_m2).toBe(pixels);
    expect(Math.abs(Number(simple.features[0].properties.area_m2) / pixels - 1)).toBeLessThan(0.03);
    expect(ogr(simple.features[0].geometry).isValid()).toBe(true);
    const metres = await maskToPolygons(arrayInput([shape], GRIDS.utm), { simplify: { value: 15, unit: 'm' } });
    expect(metres.features[0].geometry).toEqual(simple.features[0].geometry);
  });

  it('never makes neighbouring features overlap, where simplifying them one by one does', async () => {
    // Two combs whose teeth interleave one pixel apart: 8-connectivity keeps them separate features.
    const comb = (c: number, r: number) => r >= 20 && r < 100 && c >= 20 && c < 120 && (c < 30 || (r % 4 === 0 && c < 110));
    const other = (c: number, r: number) =>
      r >= 20 && r < 100 && c >= 20 && c < 130 && !comb(c, r) && (c >= 120 || (r % 4 === 2 && c > 40));
    const input = arrayInput([comb, other], GRIDS.utm);
    const raw = await maskToPolygons(input);
    expect(raw.features).toHaveLength(2);
    const tolerance = 4 * 10;
    const independent = raw.features.map((f) => ogr(f.geometry).simplifyPreserveTopology(tolerance));
    expect((independent[0].intersection(independent[1]) as gdal.Polygon | gdal.MultiPolygon).getArea()).toBeGreaterThan(0); // the failure mode exists

    const simplified = await maskToPolygons(arrayInput([comb, other], GRIDS.utm), { simplify: { value: 4, unit: 'px' } });
    expect(simplified.features).toHaveLength(2);
    const [a, b] = simplified.features.map((f) => ogr(f.geometry));
    expect(a.isValid() && b.isValid()).toBe(true);
    expect(a.intersects(b)).toBe(false);
    // Same guarantee from the module function itself.
    const together = await simplifyTogether(raw.features.map((f) => ogr(f.geometry)), tolerance);
    expect(together[0].intersects(together[1])).toBe(false);
  });
});

describe('interaction groups for simplification', () => {
  const square = (x: number, y: number) => gdal.Geometry.fromWKT(`POLYGON((${x} ${y},${x + 10} ${y},${x + 10} ${y + 10},${x} ${y + 10},${x} ${y}))`);

  it('groups polygons less than 2·tolerance apart, transitively, and leaves distant ones alone', () => {
    const shapes = [square(0, 0), square(13, 0), square(26, 0), square(100, 100), square(0, 40)];
    const groups = interactionGroups(shapes, 2).map((g) => g.sort((a, b) => a - b)).sort((a, b) => a[0] - b[0]);
    expect(groups).toEqual([[0, 1, 2], [3], [4]]);
    expect(interactionGroups(shapes, 1.4).length).toBe(5); // gaps of 3 > 2·1.4
  });

  it('simplifies an isolated polygon exactly as GEOS does alone', async () => {
    const blob = gdal.Geometry.fromWKT('POLYGON((0 0,10 0,10 1,11 1,11 2,12 2,12 10,0 10,0 0))');
    const [alone] = await simplifyTogether([blob, square(500, 500)], 1.5);
    expect(alone.toWKT()).toBe(blob.simplifyPreserveTopology(1.5).toWKT());
  });
});

describe('maskToPolygons reading files', () => {
  it('reads a UInt16 GeoTIFF, ignores nodata pixels and keeps the CRS', async () => {
    const path = join(work, 'mask-u16.tif');
    const data = rasterize(W, H, [RECT], 3);
    const nodataBlock = rasterize(W, H, [RING], 9);
    for (let i = 0; i < data.length; i++) data[i] = Math.max(data[i], nodataBlock[i]);
    writeMaskFile(path, { data, width: W, height: H, geoTransform: GRIDS.utm.geoTransform, crs: GRIDS.utm.crs, dataType: 'UInt16', noData: 9 });
    const fs = await maskToPolygons({ kind: 'file', path });
    expect(fs.crsCode).toBe('EPSG:32618');
    expect(fs.features).toHaveLength(1);
    expect(fs.features[0].properties.area_m2).toBe(500_000);
  });

  it('reads a binary Byte file directly, and a file with several class values through the thresholded copy', async () => {
    const binary = join(work, 'binary.tif');
    writeMaskFile(binary, { data: rasterize(W, H, [RECT, RING], 255), width: W, height: H, geoTransform: GRIDS.utm.geoTransform, crs: GRIDS.utm.crs });
    const direct = await maskToPolygons({ kind: 'file', path: binary });
    expect(direct.features.map((f) => f.properties.area_m2)).toEqual([500_000, 320_000]);
    // Classes 1 and 2 side by side: "value > 0" makes them ONE feature, not two polygons sharing an edge.
    const classes = join(work, 'classes.tif');
    const data = rasterize(W, H, [rectangle(10, 20, 50, 50)], 1);
    const right = rasterize(W, H, [rectangle(60, 20, 50, 50)], 2);
    for (let i = 0; i < data.length; i++) data[i] = Math.max(data[i], right[i]);
    writeMaskFile(classes, { data, width: W, height: H, geoTransform: GRIDS.utm.geoTransform, crs: GRIDS.utm.crs });
    const merged = await maskToPolygons({ kind: 'file', path: classes });
    expect(merged.features).toHaveLength(1);
    expect(merged.features[0].properties.area_m2).toBe(500_000);
    expect(uniqueVertices(polygonsOf(merged.features[0].geometry)[0][0])).toEqual(corners(GRIDS.utm.geoTransform, 10, 20, 100, 50));
    const onlyTwo = await maskToPolygons({ kind: 'file', path: classes }, { threshold: 2 });
    expect(onlyTwo.features.map((f) => f.properties.area_m2)).toEqual([250_000]);
  });

  it('takes the CRS of a file read directly, and refuses m² options for a file without one (its dataset then closed)', async () => {
    const noCrs = join(work, 'no-crs.tif');
    writeMaskFile(noCrs, { data: rasterize(W, H, [RECT], 1), width: W, height: H, geoTransform: [0, 1, 0, 0, 0, 1], crs: null });
    const plain = await maskToPolygons({ kind: 'file', path: noCrs });
    expect(plain.crsWkt).toBeNull();
    expect(plain.features[0].properties).toEqual({ id: 1, area_m2: null, perimeter_m: null });
    await expect(maskToPolygons({ kind: 'file', path: noCrs }, { minAreaM2: 10 })).rejects.toMatchObject({ code: 'NOT_GEOREFERENCED' });
    await expect(maskToPolygons({ kind: 'file', path: noCrs }, { fillHolesM2: 10 })).rejects.toMatchObject({ code: 'NOT_GEOREFERENCED' });
    rmSync(noCrs); // not held open (Windows could not remove it)
    const utm = join(work, 'utm.tif');
    writeMaskFile(utm, { data: rasterize(W, H, [RECT], 1), width: W, height: H, geoTransform: GRIDS.utm.geoTransform, crs: GRIDS.utm.crs });
    const projected = await maskToPolygons({ kind: 'file', path: utm }, { minAreaM2: 10 });
    expect(projected.crsCode).toBe('EPSG:32618');
    expect(projected.features[0].properties.area_m2).toBe(500_000);
  });

  it('reads Float32 probabilities from a file with p >= threshold', async () => {
    const path = join(work, 'prob.tif');
    const data = new Float32Array(W * H);
    for (let r = 0; r < H; r++) for (let c = 0; c < W; c++) data[r * W + c] = RECT(c, r) ? 0.9 : RING(c, r) ? 0.6 : 0.1;
    writeMaskFile(path, { data, width: W, height: H, geoTransform: GRIDS.utm.geoTransform, crs: GRIDS.utm.crs, dataType: 'Float32' });
    expect((await maskToPolygons({ kind: 'file', path })).features).toHaveLength(2);
    expect((await maskToPolygons({ kind: 'file', path }, { threshold: 0.7 })).features).toHaveLength(1);
  });

  it('gives typed errors that say what to do', async () => {
    await expect(maskToPolygons({ kind: 'file', path: join(work, 'nope.tif') })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const folder = join(work, 'folder.tif');
    mkdirSync(folder, { recursive: true });
    await expect(maskToPolygons({ kind: 'file', path: folder })).rejects.toMatchObject({ code: 'IS_DIRECTORY' });
    const text = join(work, 'text.tif');
    writeFileSync(text, 'not a raster at all\n');
    const err = await maskToPolygons({ kind: 'file', path: text }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NOT_A_RASTER' });
    expect((err as { hint: string }).hint).toMatch(/GeoTIFF/);
    const path = join(work, 'one-band.tif');
    writeMaskFile(path, { data: rasterize(W, H, [RECT]), width: W, height: H, geoTransform: GRIDS.utm.geoTransform, crs: GRIDS.utm.crs });
    await expect(maskToPolygons({ kind: 'file', path, band: 2 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(
      maskToPolygons({ kind: 'array', data: new Uint8Array(10), width: W, height: H, geoTransform: GRIDS.utm.geoTransform, crsWkt: null }),
    ).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(maskToPolygons(arrayInput([RECT], GRIDS.utm), { minAreaM2: -1 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    // A 200000×200000 header (a VRT of 40 G pixels) is refused before any allocation.
    const huge = join(work, 'huge.vrt');
    writeFileSync(
      huge,
      `<VRTDataset rasterXSize="200000" rasterYSize="200000"><VRTRasterBand dataType="Byte" band="1">` +
        `<SimpleSource><SourceFilename relativeToVRT="1">one-band.tif</SourceFilename><SourceBand>1</SourceBand></SimpleSource>` +
        `</VRTRasterBand></VRTDataset>`,
    );
    await expect(maskToPolygons({ kind: 'file', path: huge })).rejects.toMatchObject({ code: 'RASTER_TOO_LARGE', hint: expect.stringMatching(/tile/) });
    await expect(maskToPolygons(arrayInput([RECT], GRIDS.utm), { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'CANCELLED',
    });
  });
});

const repoRoot = resolve(import.meta.dirname, '../..');
const roads = resolve(repoRoot, '../shared/testdata/spacenet-roads');
const haveRoads = existsSync(join(roads, 'sample_road_raster_mask.tif')) && existsSync(join(roads, 'sample_roads_for_masking.geojson'));
if (!haveRoads) console.warn(`skipping the SpaceNet road-mask test: ${roads} is not present`);

describe.skipIf(!haveRoads)('the SpaceNet road mask (real data)', () => {
  it('becomes EPSG:4326 polygons with m² areas that cover ≥ 90 % of the road centre lines', async () => {
    const maskPath = join(roads, 'sample_road_raster_mask.tif');
    const fs = await maskToPolygons({ kind: 'file', path: maskPath }, { simplify: { value: 0.5, unit: 'px' } });
    expect(fs.crsCode).toBe('EPSG:4326');
    expect(fs.features.length).toBeGreaterThan(0);
    for (const f of fs.features) {
      expect(Number(f.properties.area_m2)).toBeGreaterThan(0);
      const [x, y] = polygonsOf(f.geometry)[0][0][0];
      expect(x).toBeGreaterThan(-115.24); // lon first
      expect(x).toBeLessThan(-115.22);
      expect(y).toBeGreaterThan(36.13);
      expect(y).toBeLessThan(36.15);
    }

    // Total area ≈ foreground pixels × ground area of one pixel (0.3 m pixels: ~0.0735 m² at 36.14°N).
    const ds = gdal.open(maskPath);
    const { x: w, y: h } = ds.rasterSize;
    const pixels = ds.bands.get(1).pixels.read(0, 0, w, h) as Uint8Array;
    const foreground = pixels.reduce((n, v) => n + (v > 0 ? 1 : 0), 0);
    const gt = ds.geoTransform as GeoTransform;
    ds.close();
    if (geodesicAvailable()) {
      const [cx, cy] = pixelCorner(gt, w / 2, h / 2);
      const pixel = [[cx, cy], [cx + gt[1], cy], [cx + gt[1], cy + gt[5]], [cx, cy + gt[5]], [cx, cy]];
      const pixelArea = geodesicMeasure('EPSG:4326', [[pixel]])[0].area;
      const total = fs.features.reduce((sum, f) => sum + Number(f.properties.area_m2), 0);
      expect(Math.abs(total / (foreground * pixelArea) - 1)).toBeLessThan(0.01);
    }

    const union = new gdal.MultiPolygon();
    for (const f of fs.features) {
      const g = ogr(f.geometry);
      if (g instanceof gdal.MultiPolygon) for (const part of g.children) union.children.add(part);
      else union.children.add(g);
    }
    const lines = gdal.open(join(roads, 'sample_roads_for_masking.geojson'));
    let inside = 0;
    let total = 0;
    for (const feature of lines.layers.get(0).features) {
      const line = feature.getGeometry();
      if (!line) continue;
      line.srs = null;
      total += (line as gdal.LineString).getLength();
      const within = line.intersection(union);
      inside += within instanceof gdal.LineString ? within.getLength() : within instanceof gdal.MultiLineString ? within.getLength() : 0;
    }
    lines.close();
    expect(total).toBeGreaterThan(0);
    expect(inside / total).toBeGreaterThanOrEqual(0.9);
  });
});
