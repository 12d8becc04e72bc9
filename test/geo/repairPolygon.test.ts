import { describe, expect, it } from 'vitest';
import gdal from 'gdal-async';
import { isCleanPixelPolygon, polygonalPart, repairPixelPolygon, repairPolygon } from '../../src/geo/repairPolygon.js';

/** Polygonize (8-connectivity) of a pseudo-random binary mask: speckle whose rings touch themselves. */
function speckle(size: number, density: number, seed: number): gdal.Geometry[] {
  let s = seed >>> 0;
  const mask = new Uint8Array(size * size);
  for (let i = 0; i < mask.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    mask[i] = s / 2 ** 32 < density ? 1 : 0;
  }
  const raster = gdal.open('', 'w', 'MEM', size, size, 1, gdal.GDT_Byte);
  raster.geoTransform = [0, 1, 0, size, 0, -1];
  raster.bands.get(1).pixels.write(0, 0, size, size, mask);
  const vector = gdal.open('speckle', 'w', 'Memory');
  const layer = vector.layers.create('p', null, gdal.wkbPolygon);
  layer.fields.add(new gdal.FieldDefn('value', gdal.OFTInteger));
  const band = raster.bands.get(1);
  gdal.polygonize({ src: band, mask: band, dst: layer, pixValField: 0, connectedness: 8 });
  const out = layer.features.map((f) => f.getGeometry()!.clone());
  vector.close();
  raster.close();
  return out;
}

const area = (g: gdal.Geometry): number => (g instanceof gdal.Polygon || g instanceof gdal.MultiPolygon ? g.getArea() : NaN);

describe('repairPolygon', () => {
  it('gives the same valid geometry as MakeValid for Polygonize speckle (touching rings, pinched holes)', () => {
    let invalid = 0;
    for (const [density, seed] of [[0.45, 1], [0.6, 2], [0.75, 3]] as const) {
      for (const geometry of speckle(96, density, seed)) {
        const repaired = repairPolygon(geometry);
        expect(repaired).not.toBeNull();
        expect(repaired!.isValid()).toBe(true);
        if (geometry.isValid()) {
          expect(repaired!.equals(geometry)).toBe(true);
          continue;
        }
        invalid++;
        const reference = polygonalPart(geometry.makeValid())!;
        expect(area(repaired!)).toBe(area(reference));
        expect(area(repaired!.symDifference(reference))).toBe(0);
        expect(repaired!.name).toBe(reference.name);
      }
    }
    expect(invalid).toBeGreaterThan(20);
  });

  it('keeps both lobes of a ring that crosses itself (a bow tie)', () => {
    const bowTie = gdal.Geometry.fromWKT('POLYGON((0 0,2 2,2 0,0 2,0 0))');
    const repaired = repairPolygon(bowTie)!;
    expect(repaired.isValid()).toBe(true);
    expect(area(repaired)).toBeCloseTo(2, 9);
  });
});

describe('isCleanPixelPolygon', () => {
  it('says "clean" only for polygons GEOS finds valid, and for most of those (Polygonize speckle)', () => {
    for (const [size, density, seed] of [
      [120, 0.1, 1],
      [120, 0.3, 2],
      [120, 0.5, 3],
      [120, 0.6, 4],
    ]) {
      const polygons = speckle(size, density, seed);
      let clean = 0;
      let valid = 0;
      for (const g of polygons) {
        const isClean = isCleanPixelPolygon(g, [0, 1, 0, size, 0, -1], size, size);
        if (isClean) {
          clean++;
          expect(g.isValid()).toBe(true);
        }
        if (g.isValid()) valid++;
      }
      expect(clean).toBeGreaterThan(0.9 * valid);
    }
  });

  it('is not sure off the grid, for rotated grids and for other geometries', () => {
    const square = gdal.Geometry.fromWKT('POLYGON((0 0,0 1,1 1,1 0,0 0))');
    expect(isCleanPixelPolygon(square, [0, 1, 0, 1, 0, -1], 1, 1)).toBe(true);
    expect(isCleanPixelPolygon(square, [0, 0.3, 0, 1, 0, -0.3], 4, 4)).toBe(false);
    expect(isCleanPixelPolygon(square, [0, 1, 0.1, 1, 0.1, -1], 1, 1)).toBe(false);
    expect(isCleanPixelPolygon(gdal.Geometry.fromWKT('POLYGON((0 0,1 1,1 0,0 0))'), [0, 1, 0, 1, 0, -1], 1, 1)).toBe(false);
    // Two squares touching at a corner, traced as one ring: the corner is visited twice.
    const pinched = gdal.Geometry.fromWKT('POLYGON((0 0,0 1,1 1,1 2,2 2,2 1,1 1,1 0,0 0))');
    expect(isCleanPixelPolygon(pinched, [0, 1, 0, 2, 0, -1], 2, 2)).toBe(false);
    expect(isCleanPixelPolygon(gdal.Geometry.fromWKT('MULTIPOLYGON(((0 0,0 1,1 1,1 0,0 0)))'), [0, 1, 0, 1, 0, -1], 1, 1)).toBe(false);
  });
});

/** Holes of a polygon whose ring shares no point with any other ring of it nor touches itself (GEOS, independently). */
function freeHoleCount(polygon: gdal.Polygon): number {
  const rings = polygon.rings.toArray().map((ring) => {
    const line = new gdal.LineString();
    line.points.add(ring.points.toArray());
    return line;
  });
  let free = 0;
  rings.forEach((ring, r) => {
    if (r === 0 || !ring.isSimple()) return;
    if (rings.every((other, o) => o === r || !other.intersects(ring))) free++;
  });
  return free;
}

describe('repairPixelPolygon', () => {
  it('gives the point set of GEOS MakeValid, valid, for Polygonize speckle with pinched and free holes', () => {
    let invalidWithFreeHoles = 0;
    let checked = 0;
    for (const [size, density, seed] of [
      [160, 0.55, 5],
      [160, 0.6, 6],
      [96, 0.45, 1],
      [96, 0.75, 3],
    ] as const) {
      for (const geometry of speckle(size, density, seed)) {
        const repaired = repairPixelPolygon(geometry, [0, 1, 0, size, 0, -1], size, size);
        expect(repaired).not.toBeNull();
        expect(repaired!.isValid()).toBe(true);
        checked++;
        if (geometry.isValid()) {
          expect(repaired!.equals(geometry)).toBe(true);
          continue;
        }
        const reference = polygonalPart(geometry.makeValid())!;
        expect(area(repaired!)).toBe(area(reference));
        expect(repaired!.symDifference(reference).isEmpty()).toBe(true);
        expect(repaired!.name).toBe(reference.name);
        // (Counted until there are enough: GEOS's pairwise test is slow on the largest.)
        if (invalidWithFreeHoles < 3 && geometry instanceof gdal.Polygon && freeHoleCount(geometry) > 0) invalidWithFreeHoles++;
      }
    }
    expect(checked).toBeGreaterThan(100);
    // The path that re-attaches untouched holes without GEOS was taken, on many polygons.
    expect(invalidWithFreeHoles).toBe(3);
  });
});
