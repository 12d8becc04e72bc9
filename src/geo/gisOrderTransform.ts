/**
 * @module geo/gisOrderTransform
 * Spatial references and coordinate transformations in traditional GIS axis order.
 *
 * SegEarth keeps every coordinate as x = easting/longitude, y = northing/latitude (GeoJSON order), but GDAL 3
 * honours the CRS authority's axis order by default (EPSG:4326 is latitude first). gdal-async exposes no
 * `SetAxisMappingStrategy`, and setting `OSR_DEFAULT_AXIS_MAPPING_STRATEGY` process-wide would silently change
 * other modules, so this module swaps axes itself around OSR transformations: before the transform when the
 * source CRS is latitude/northing first, after it when the target is. When the process has opted into
 * TRADITIONAL_GIS_ORDER globally, no swap happens.
 */
import gdal from 'gdal-async';
import type { CoordinateTransformation, Geometry, SpatialReference } from 'gdal-async';
import { SegEarthError } from '../shared/errors.js';

/** Parse "EPSG:4326", a WKT string or a PROJ string into a spatial reference; throws CRS_ERROR. */
export function srsFromUserInput(input: string): SpatialReference {
  try {
    return gdal.SpatialReference.fromUserInput(input);
  } catch (cause) {
    throw new SegEarthError('CRS_ERROR', `The coordinate reference system "${shorten(input)}" is not recognised.`, {
      hint: 'Give an EPSG code such as EPSG:4326, or the CRS as WKT.',
      cause,
    });
  }
}

/** "EPSG:32618" when the CRS matches an authority code, else null. */
export function crsCodeOf(srs: SpatialReference): string | null {
  const probe = srs.clone();
  try {
    probe.autoIdentifyEPSG();
  } catch {
    // Not identifiable: fall through to the authority lookup below.
  }
  const kind = probe.isProjected() ? 'PROJCS' : probe.isGeographic() ? 'GEOGCS' : null;
  const name = kind === null ? null : probe.getAuthorityName(kind);
  const code = kind === null ? null : probe.getAuthorityCode(kind);
  return name && code ? `${name}:${code}` : null;
}

/** True when GDAL would read this CRS's coordinates as (northing/latitude, easting/longitude). */
function isNorthFirst(srs: SpatialReference): boolean {
  if (gdal.config.get('OSR_DEFAULT_AXIS_MAPPING_STRATEGY') === 'TRADITIONAL_GIS_ORDER') return false;
  return srs.EPSGTreatsAsLatLong() || srs.EPSGTreatsAsNorthingEasting();
}

/** A transformation that takes and returns coordinates in GIS order (x east, y north). */
export interface GisOrderTransform {
  /**
   * Transforms a geometry in place. The result carries no SRS: OGR would otherwise export it to GeoJSON in
   * the SRS's authority axis order, swapping our GIS-order coordinates back.
   */
  transformGeometry(geometry: Geometry): void;
  transformPoint(x: number, y: number): [number, number];
}

export function createGisOrderTransform(source: SpatialReference, target: SpatialReference): GisOrderTransform {
  let ct: CoordinateTransformation;
  try {
    ct = new gdal.CoordinateTransformation(source, target);
  } catch (cause) {
    throw new SegEarthError('CRS_ERROR', 'No coordinate transformation exists between the two CRSs.', {
      hint: 'Check that both CRSs are valid and that PROJ data is installed.',
      cause,
    });
  }
  const swapIn = isNorthFirst(source);
  const swapOut = isNorthFirst(target);
  return {
    transformGeometry(geometry) {
      if (swapIn) geometry.swapXY();
      geometry.transform(ct);
      if (swapOut) geometry.swapXY();
      geometry.srs = null;
    },
    transformPoint(x, y) {
      const p = swapIn ? ct.transformPoint(y, x) : ct.transformPoint(x, y);
      return swapOut ? [p.y, p.x] : [p.x, p.y];
    },
  };
}

function shorten(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
