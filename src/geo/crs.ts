/**
 * @module geo/crs
 * Coordinate reference system helpers on top of GDAL/OSR: a JSON-safe {@link CrsInfo} description (WKT2, EPSG
 * code, proj4js string), a transformer from a raster's native coordinates to lon/lat, and the ground size of a
 * pixel in metres.
 *
 * Axis order. gdal-async creates SpatialReference objects with the authority axis order (GDAL 3
 * `OAMS_AUTHORITY_COMPLIANT`) and does not expose `SetAxisMappingStrategy`. Raster coordinates (geotransform
 * outputs) are always in "traditional GIS order" (x = easting/longitude). {@link lonLatTransformer} therefore
 * swaps its input for CRSs that EPSG defines as lat/long or northing/easting, and transforms into `OGC:CRS84`,
 * whose axis order is lon, lat. The result is always `[lon, lat]`.
 */
import gdal from 'gdal-async';
import type { CrsInfo, GeoTransform } from '../shared/rasterInfo.js';
import { applyGeoTransform } from './geoTransform.js';

/** First quoted name of a WKT (1 or 2) string, e.g. `PROJCRS["WGS 84 / UTM zone 18N", …` → the name. */
function wktName(wkt: string): string {
  const m = /^\s*[A-Z_0-9]+\[\s*"([^"]*)"/.exec(wkt);
  return m ? m[1] : '';
}

/** "EPSG:32618" when the CRS carries (or OSR can identify) an authority code, else null. */
export function authorityCode(srs: gdal.SpatialReference): string | null {
  const read = (s: gdal.SpatialReference): string | null => {
    const name = s.getAuthorityName(null);
    const code = s.getAuthorityCode(null);
    return name && code ? `${name}:${code}` : null;
  };
  const direct = read(srs);
  if (direct) return direct;
  try {
    const clone = srs.clone();
    clone.autoIdentifyEPSG();
    return read(clone);
  } catch {
    return null;
  }
}

/**
 * Describe a CRS. `wkt2` is GDAL's WKT2:2019 export (gdalinfo -json's `coordinateSystem.wkt`); gdal-async's
 * `toWKT()` only writes WKT1.
 */
export function describeCrs(srs: gdal.SpatialReference, wkt2: string): { crs: CrsInfo; warnings: string[] } {
  const warnings: string[] = [];
  let proj4 = '';
  try {
    proj4 = srs.toProj4().trim();
  } catch {
    warnings.push('The CRS has no PROJ.4 representation; map display may fall back to the raster grid.');
  }
  const isGeographic = srs.isGeographic();
  const units = isGeographic ? srs.getAngularUnits().units : srs.getLinearUnits().units;
  const wkt = wkt2 || srs.toWKT();
  return {
    crs: {
      wkt,
      code: authorityCode(srs),
      proj4,
      name: wktName(wkt) || wktName(srs.toWKT()),
      isGeographic,
      units,
    },
    warnings,
  };
}

export type ToLonLat = (x: number, y: number) => [number, number] | null;

/** A transformer from native traditional-order coordinates to `[lon, lat]` (WGS 84); null on failure per point. */
export function lonLatTransformer(srs: gdal.SpatialReference): ToLonLat {
  const crs84 = gdal.SpatialReference.fromUserInput('OGC:CRS84');
  const ct = new gdal.CoordinateTransformation(srs, crs84);
  const swap = srs.EPSGTreatsAsLatLong() || srs.EPSGTreatsAsNorthingEasting();
  return (x, y) => {
    try {
      const p = swap ? ct.transformPoint(y, x) : ct.transformPoint(x, y);
      return Number.isFinite(p.x) && Number.isFinite(p.y) ? [p.x, p.y] : null;
    } catch {
      return null;
    }
  };
}

/**
 * Ground size in metres of one pixel at fractional pixel position (px, py): the geodesic length of the pixel's
 * column and row steps, measured in an azimuthal equidistant projection centred on that point (distances from
 * the centre of an AEQD projection are geodesic distances on the WGS 84 ellipsoid). Works for geographic and
 * projected CRSs alike and includes the projection's scale factor, so it is the true ground distance.
 */
export function groundPixelSize(gt: GeoTransform, toLonLat: ToLonLat, px: number, py: number): [number, number] | null {
  const centre = toLonLat(...applyGeoTransform(gt, px, py));
  const right = toLonLat(...applyGeoTransform(gt, px + 1, py));
  const down = toLonLat(...applyGeoTransform(gt, px, py + 1));
  if (!centre || !right || !down) return null;
  const aeqd = gdal.SpatialReference.fromProj4(
    `+proj=aeqd +lat_0=${centre[1]} +lon_0=${centre[0]} +datum=WGS84 +units=m +no_defs`,
  );
  const ct = new gdal.CoordinateTransformation(gdal.SpatialReference.fromUserInput('OGC:CRS84'), aeqd);
  const dist = (p: [number, number]): number => {
    const q = ct.transformPoint(p[0], p[1]);
    return Math.hypot(q.x, q.y);
  };
  return [dist(right), dist(down)];
}
