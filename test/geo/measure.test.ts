import gdal from 'gdal-async';
import { describe, expect, it } from 'vitest';
import { autoMeasureMethod, createGroundMeasurer } from '../../src/geo/measure.js';
import { geodesicAvailable, geodesicMeasure } from '../support/geodesic.js';

const srs = (code: string) => gdal.SpatialReference.fromUserInput(code);
const box = (x0: number, y0: number, x1: number, y1: number) =>
  gdal.Geometry.fromWKT(`POLYGON((${x0} ${y0},${x1} ${y0},${x1} ${y1},${x0} ${y1},${x0} ${y0}))`);

describe('ground measurer', () => {
  it('picks planar for UTM and ellipsoidal for geographic and Mercator CRSs', () => {
    expect(autoMeasureMethod(srs('EPSG:32618'))).toBe('planar');
    expect(autoMeasureMethod(srs('EPSG:2263'))).toBe('planar');
    expect(autoMeasureMethod(srs('EPSG:4326'))).toBe('ellipsoidal');
    expect(autoMeasureMethod(srs('EPSG:3857'))).toBe('ellipsoidal');
    expect(autoMeasureMethod(srs('EPSG:3395'))).toBe('ellipsoidal');
  });

  it('measures UTM polygons in the plane, holes subtracted and counted in the perimeter', () => {
    const m = createGroundMeasurer(srs('EPSG:32618'));
    const holed = gdal.Geometry.fromWKT('POLYGON((0 0,100 0,100 100,0 100,0 0),(10 10,10 20,20 20,20 10,10 10))');
    expect(m.measure(holed)).toEqual({ areaM2: 10_000 - 100, perimeterM: 400 + 40 });
  });

  it('converts US survey feet to metres (EPSG:2263)', () => {
    const m = createGroundMeasurer(srs('EPSG:2263'));
    const usFoot = 1200 / 3937;
    const { areaM2, perimeterM } = m.measure(box(1_000_000, 200_000, 1_001_000, 201_000));
    expect(areaM2).toBeCloseTo((1000 * usFoot) ** 2, 6);
    expect(perimeterM).toBeCloseTo(4000 * usFoot, 9);
  });

  const haveGeod = geodesicAvailable();
  if (!haveGeod) console.warn('skipping geodesic comparisons: /usr/bin/python3 with pyproj is not available');

  it.skipIf(!haveGeod)('agrees with Karney geodesics for a 1°×1° cell at 45°N (area 1e-6, perimeter 5e-5)', () => {
    const m = createGroundMeasurer(srs('EPSG:4326'));
    const cell = box(10, 45, 11, 46);
    const { areaM2, perimeterM } = m.measure(cell);
    const [ref] = geodesicMeasure('EPSG:4326', [[[[10, 45], [11, 45], [11, 46], [10, 46], [10, 45]]]], 2000);
    expect(Math.abs(areaM2 / ref.area - 1)).toBeLessThan(1e-6);
    expect(Math.abs(perimeterM / ref.perimeter - 1)).toBeLessThan(5e-5);
    expect(areaM2).toBeGreaterThan(8.5e9); // ~111 km × ~78.7 km
    expect(areaM2).toBeLessThan(8.9e9);
  });

  it.skipIf(!haveGeod)('gives the same ground area for one region described in EPSG:4326 and EPSG:3857', () => {
    const lonLat = box(-75.01, 40, -75, 40.01);
    const fourthree = createGroundMeasurer(srs('EPSG:4326')).areaM2(lonLat);
    const [ref] = geodesicMeasure('EPSG:4326', [[[[-75.01, 40], [-75, 40], [-75, 40.01], [-75.01, 40.01], [-75.01, 40]]]], 200);
    expect(Math.abs(fourthree / ref.area - 1)).toBeLessThan(1e-6);
    // EPSG:4326 is latitude-first in GDAL 3 (authority order), hence transformPoint(lat, lon).
    const mercator = gdal.Geometry.fromWKT(
      (() => {
        const ct = new gdal.CoordinateTransformation(srs('EPSG:4326'), srs('EPSG:3857'));
        const pts = [[-75.01, 40], [-75, 40], [-75, 40.01], [-75.01, 40.01], [-75.01, 40]].map(([lon, lat]) => ct.transformPoint(lat, lon));
        return `POLYGON((${pts.map((p) => `${p.x} ${p.y}`).join(',')}))`;
      })(),
    );
    const mercArea = createGroundMeasurer(srs('EPSG:3857')).areaM2(mercator);
    expect(Math.abs(mercArea / ref.area - 1)).toBeLessThan(1e-5);
    expect((mercator as gdal.Polygon).getArea()).toBeGreaterThan(1.5 * ref.area);
  });
});
