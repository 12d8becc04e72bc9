import gdal from 'gdal-async';
import { describe, expect, it } from 'vitest';
import { reprojectFeatureSet } from '../../src/geo/reproject.js';
import type { FeatureSet } from '../../src/shared/featureSet.js';
import { wktOf } from '../support/syntheticMask.js';

// (-75°, 40°) is on the UTM 18N central meridian: easting exactly 500 000 m.
const UTM_NORTHING_AT_40N = 4_427_757.218738374;

function utmSquare(): FeatureSet {
  const ring: [number, number][] = [
    [500_000, UTM_NORTHING_AT_40N],
    [501_000, UTM_NORTHING_AT_40N],
    [501_000, UTM_NORTHING_AT_40N + 1000],
    [500_000, UTM_NORTHING_AT_40N + 1000],
    [500_000, UTM_NORTHING_AT_40N],
  ];
  return {
    crsWkt: wktOf('EPSG:32618'),
    crsCode: 'EPSG:32618',
    features: [{ id: 7, geometry: { type: 'Polygon', coordinates: [ring] }, properties: { id: 7, area_m2: 1e6, label: 'field' } }],
  };
}

describe('reprojectFeatureSet', () => {
  it('returns EPSG:4326 coordinates as [lon, lat] (GeoJSON order), properties untouched', () => {
    const out = reprojectFeatureSet(utmSquare(), 'EPSG:4326');
    expect(out.crsCode).toBe('EPSG:4326');
    const [first] = out.features;
    expect(first.id).toBe(7);
    expect(first.properties).toEqual({ id: 7, area_m2: 1e6, label: 'field' });
    const [lon, lat] = (first.geometry.coordinates as number[][][])[0][0];
    expect(lon).toBeCloseTo(-75, 9);
    expect(lat).toBeCloseTo(40, 9);
    const [lon2, lat2] = (first.geometry.coordinates as number[][][])[0][1];
    expect(lon2).toBeGreaterThan(-75); // east of the first corner
    expect(lat2).toBeGreaterThan(39.99);
    expect(lat2).toBeLessThan(40.01);
  });

  it('round-trips UTM → 4326 → UTM to the millimetre, and accepts WKT targets', () => {
    const there = reprojectFeatureSet(utmSquare(), 'EPSG:4326');
    const back = reprojectFeatureSet(there, wktOf('EPSG:32618'));
    const a = (utmSquare().features[0].geometry.coordinates as number[][][])[0];
    const b = (back.features[0].geometry.coordinates as number[][][])[0];
    a.forEach(([x, y], i) => {
      expect(b[i][0]).toBeCloseTo(x, 3);
      expect(b[i][1]).toBeCloseTo(y, 3);
    });
  });

  it('maps lon/lat to Web Mercator with x = R·λ (lon first on input too)', () => {
    const lonLat = reprojectFeatureSet(utmSquare(), 'EPSG:4326');
    const merc = reprojectFeatureSet(lonLat, 'EPSG:3857');
    const [lon, lat] = (lonLat.features[0].geometry.coordinates as number[][][])[0][0];
    const [x, y] = (merc.features[0].geometry.coordinates as number[][][])[0][0];
    expect(x).toBeCloseTo((6378137 * lon * Math.PI) / 180, 4);
    expect(y).toBeCloseTo(6378137 * Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360)), 4);
  });

  it('refuses unknown CRSs and pixel-coordinate results with typed errors', () => {
    expect(() => reprojectFeatureSet(utmSquare(), 'EPSG:999999')).toThrow(expect.objectContaining({ code: 'CRS_ERROR' }));
    expect(() => reprojectFeatureSet({ ...utmSquare(), crsWkt: null }, 'EPSG:4326')).toThrow(
      expect.objectContaining({ code: 'NOT_GEOREFERENCED' }),
    );
    // The source geometry is not modified.
    const source = utmSquare();
    reprojectFeatureSet(source, 'EPSG:4326');
    expect((source.features[0].geometry.coordinates as number[][][])[0][0][0]).toBe(500_000);
    expect(gdal.SpatialReference.fromUserInput('EPSG:4326').EPSGTreatsAsLatLong()).toBe(true);
  });
});
