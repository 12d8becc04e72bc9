import { describe, expect, it } from 'vitest';
import gdal from 'gdal-async';
import { areaGeometryFromWkb, areaGeometryToOgr, areaRingsFromWkb } from '../../src/geo/areaGeometryWkb.js';
import type { AreaGeometry } from '../../src/shared/featureSet.js';

/** What maskToPolygons used to do, and what areaGeometryFromWkb must equal exactly. */
const viaJson = (g: gdal.Geometry): unknown => JSON.parse(g.toJSON());

function polygon(rings: number[][]): gdal.Polygon {
  const out = new gdal.Polygon();
  for (const values of rings) {
    const ring = new gdal.LinearRing();
    for (let i = 0; i < values.length; i += 2) ring.points.add(values[i], values[i + 1]);
    ring.points.add(values[0], values[1]);
    out.rings.add(ring);
  }
  return out;
}

function multi(...parts: gdal.Polygon[]): gdal.MultiPolygon {
  const out = new gdal.MultiPolygon();
  for (const part of parts) out.children.add(part);
  return out;
}

/** Deterministic pseudo-random numbers in [0, 1). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('areaGeometryFromWkb', () => {
  it('equals JSON.parse(toJSON()) on pixel-grid polygons and multipolygons with holes', () => {
    const shell = [400000, 5100000, 400010.5, 5100000, 400010.5, 5099990.25, 400000, 5099990.25];
    const hole = [400002, 5099998, 400003.5, 5099998, 400003.5, 5099996, 400002, 5099996];
    const a = polygon([shell, hole]);
    const b = polygon([[-0.5, 0, -0.5, -3.125, -2, -3.125]]);
    for (const g of [a, b, multi(a, b), new gdal.Polygon()]) expect(areaGeometryFromWkb(g)).toStrictEqual(viaJson(g));
  });

  it("keeps OGR's rounding where coordinates are not short binary fractions (falls back to toJSON)", () => {
    // 2.1000000000000005 → 2.1, 1/3 → 0.333333333333333, 1e-20 → 0, 104550536.24133301 → 104550536.241333.
    const odd = [0.30000000000000004 * 7, 1 / 3, 1e-20, 104550536.24133301, 12.3456789, 2 / 3, 1 / 65536, 0.1];
    const g = polygon([odd]);
    expect(areaGeometryFromWkb(g)).toStrictEqual(viaJson(g));
    expect(areaGeometryFromWkb(multi(polygon([[0, 0, 1, 0, 1, 1]]), g))).toStrictEqual(viaJson(multi(polygon([[0, 0, 1, 0, 1, 1]]), g)));
  });

  it('equals toJSON on random values at the edge of the fast path (k binary decimals, up to 15 − k integer digits)', () => {
    const rnd = lcg(7);
    for (let n = 0; n < 400; n++) {
      const values: number[] = [];
      for (let i = 0; i < 100; i++) {
        const k = Math.floor(rnd() * 16);
        const digits = Math.max(1, 15 - k - Math.floor(rnd() * 3) + (rnd() < 0.1 ? 1 : 0));
        const sign = rnd() < 0.3 ? -1 : 1;
        values.push((sign * Math.floor(rnd() * 10 ** digits * 2 ** k)) / 2 ** k);
      }
      const g = polygon([values]);
      expect(areaGeometryFromWkb(g)).toStrictEqual(viaJson(g));
    }
  });
});

describe('areaRingsFromWkb', () => {
  it("gives toJSON's coordinates, every ring of every part as interleaved x, y (grid and odd values)", () => {
    const shell = [400000, 5100000, 400010.5, 5100000, 400010.5, 5099990.25, 400000, 5099990.25];
    const hole = [400002, 5099998, 400003.5, 5099998, 400003.5, 5099996, 400002, 5099996];
    const odd = [0.30000000000000004 * 7, 1 / 3, 1e-20, 104550536.24133301, 12.3456789, 2 / 3, 1 / 65536, 0.1];
    const flatRings = (g: gdal.Geometry): number[][] => {
      const json = viaJson(g) as AreaGeometry;
      const polygons = json.type === 'Polygon' ? [json.coordinates] : json.coordinates;
      return polygons.flat().map((ring) => ring.flatMap((position) => [position[0]!, position[1]!]));
    };
    for (const g of [polygon([shell, hole]), multi(polygon([shell, hole]), polygon([odd])), polygon([odd]), new gdal.Polygon()]) {
      expect(areaRingsFromWkb(g).map((ring) => Array.from(ring))).toStrictEqual(flatRings(g));
    }
  });
});

describe('areaGeometryToOgr', () => {
  const wkbOf = (g: gdal.Geometry): string => g.toWKB('LSB').toString('hex');
  const viaGeoJson = (dto: AreaGeometry, asMulti: boolean): gdal.Geometry => {
    const g = gdal.Geometry.fromGeoJson(dto);
    if (!asMulti || !(g instanceof gdal.Polygon)) return g;
    return multi(g);
  };

  it('gives the same geometry as gdal.Geometry.fromGeoJson, bit for bit, for any doubles', () => {
    const rnd = lcg(11);
    for (let n = 0; n < 200; n++) {
      const ring = () => {
        const values: number[] = [];
        for (let i = 0; i < 20; i++) values.push((rnd() - 0.4) * 10 ** Math.floor(rnd() * 24 - 12));
        return values;
      };
      const polygonDto = viaJson(polygon([ring(), ring()])) as AreaGeometry;
      // Full-precision doubles (toJSON rounds; put the raw ones back).
      const raw = polygon([ring(), ring()]);
      const rawDto: AreaGeometry = { type: 'Polygon', coordinates: raw.rings.map((r) => r.points.toArray().map((p) => [p.x, p.y])) as never };
      const multiDto: AreaGeometry = { type: 'MultiPolygon', coordinates: [rawDto.coordinates, polygonDto.coordinates as never] };
      for (const dto of [polygonDto, rawDto, multiDto]) {
        for (const asMulti of [false, true]) expect(wkbOf(areaGeometryToOgr(dto, asMulti))).toBe(wkbOf(viaGeoJson(dto, asMulti)));
      }
    }
  });

  it('keeps Z coordinates as fromGeoJson does, and refuses an empty polygon as it does', () => {
    const withZ: AreaGeometry = { type: 'Polygon', coordinates: [[[0, 0, 5], [1, 0, 5], [1, 1, 6], [0, 0, 5]]] };
    for (const asMulti of [false, true]) expect(wkbOf(areaGeometryToOgr(withZ, asMulti))).toBe(wkbOf(viaGeoJson(withZ, asMulti)));
    const empty = { type: 'Polygon', coordinates: [] } as unknown as AreaGeometry;
    expect(() => gdal.Geometry.fromGeoJson(empty)).toThrow();
    expect(() => areaGeometryToOgr(empty)).toThrow();
  });
});
