/**
 * @module geo/measure
 * Ground area (m²) and perimeter (m) of polygons given in any CRS.
 *
 * Method, chosen per CRS (`'auto'`):
 * - **planar** for projected CRSs other than Mercator: shoelace area and edge lengths in the CRS plane,
 *   converted to metres with the CRS linear unit (US survey feet, international feet...). A 100×50 px
 *   rectangle of 10 m UTM pixels measures exactly 500 000 m².
 * - **ellipsoidal** for geographic CRSs (degrees) and Mercator-family projections (EPSG:3857, 3395: their
 *   plane inflates areas by 1/cos²φ). Each polygon is densified in its own CRS (so edges that are straight in
 *   the raster grid stay so), then projected with OSR to a Lambert azimuthal *equal-area* projection on the
 *   CRS's own ellipsoid, centred on the 0.5°×0.5° cell holding the polygon. LAEA preserves area exactly, so
 *   areas equal the ellipsoidal area of the region (measured against Karney's geodesic polygon area of the same
 *   densified outline, via pyproj: ~1e-10 relative). Perimeters carry LAEA's length distortion, about c²/8 at an angular distance c from
 *   the centre: < 1e-5 relative for polygons lying within 50 km of their cell centre.
 * Non-georeferenced data has no ground units: no measurer exists for it.
 */
import gdal from 'gdal-async';
import type { Geometry, SpatialReference } from 'gdal-async';
import { createGisOrderTransform, type GisOrderTransform } from './gisOrderTransform.js';

export type MeasureMethod = 'planar' | 'ellipsoidal';
export type MeasureMode = 'auto' | MeasureMethod;

export interface GroundMeasure {
  areaM2: number;
  perimeterM: number;
}

export interface GroundMeasurer {
  readonly method: MeasureMethod;
  /** Area and perimeter of a Polygon or MultiPolygon in the measurer's CRS; the geometry is not modified. */
  measure(geometry: Geometry): GroundMeasure;
  /** Area only (cheaper for the planar method). */
  areaM2(geometry: Geometry): number;
}

/** The method `'auto'` picks for a CRS (see the module comment). */
export function autoMeasureMethod(srs: SpatialReference): MeasureMethod {
  if (srs.isGeographic()) return 'ellipsoidal';
  return /\+proj=merc\b/.test(srs.toProj4()) ? 'ellipsoidal' : 'planar';
}

export function createGroundMeasurer(srs: SpatialReference, mode: MeasureMode = 'auto'): GroundMeasurer {
  const method = mode === 'auto' || srs.isGeographic() ? autoMeasureMethod(srs) : mode;
  return method === 'planar' ? planarMeasurer(srs) : ellipsoidalMeasurer(srs);
}

function planarMeasurer(srs: SpatialReference): GroundMeasurer {
  const metresPerUnit = srs.getLinearUnits().value || 1;
  return {
    method: 'planar',
    areaM2: (g) => areaOf(g) * metresPerUnit * metresPerUnit,
    measure: (g) => ({
      areaM2: areaOf(g) * metresPerUnit * metresPerUnit,
      perimeterM: boundaryLength(g) * metresPerUnit,
    }),
  };
}

/** Edge length, in the source CRS units, above which edges are densified before projecting to LAEA. */
function densifyStep(srs: SpatialReference): number {
  return srs.isGeographic() ? 1e-3 : 100 / (srs.getLinearUnits().value || 1);
}

const CELL_DEGREES = 0.5;

function ellipsoidalMeasurer(srs: SpatialReference): GroundMeasurer {
  const geog = srs.cloneGeogCS();
  const toLonLat = createGisOrderTransform(srs, geog);
  const geogWkt = geog.toWKT();
  const step = densifyStep(srs);
  const byCell = new Map<string, GisOrderTransform>();

  const laeaFor = (geometry: Geometry): GisOrderTransform => {
    const env = geometry.getEnvelope();
    const [lon, lat] = toLonLat.transformPoint((env.minX + env.maxX) / 2, (env.minY + env.maxY) / 2);
    const cellLon = (Math.floor(lon / CELL_DEGREES) + 0.5) * CELL_DEGREES;
    const cellLat = Math.max(-89.75, Math.min(89.75, (Math.floor(lat / CELL_DEGREES) + 0.5) * CELL_DEGREES));
    const key = `${cellLon},${cellLat}`;
    let transform = byCell.get(key);
    if (!transform) {
      // Same GEOGCS as the source, so PROJ sees one datum and only converts (no datum shift).
      const laea = gdal.SpatialReference.fromWKT(
        `PROJCS["SegEarth LAEA",${geogWkt},PROJECTION["Lambert_Azimuthal_Equal_Area"],` +
          `PARAMETER["latitude_of_center",${cellLat}],PARAMETER["longitude_of_center",${cellLon}],` +
          `PARAMETER["false_easting",0],PARAMETER["false_northing",0],UNIT["metre",1]]`,
      );
      transform = createGisOrderTransform(srs, laea);
      byCell.set(key, transform);
    }
    return transform;
  };

  const project = (geometry: Geometry): Geometry => {
    const copy = geometry.clone();
    copy.segmentize(step);
    laeaFor(geometry).transformGeometry(copy);
    return copy;
  };

  return {
    method: 'ellipsoidal',
    areaM2: (g) => areaOf(project(g)),
    measure: (g) => {
      const projected = project(g);
      return { areaM2: areaOf(projected), perimeterM: boundaryLength(projected) };
    },
  };
}

function areaOf(geometry: Geometry): number {
  if (geometry instanceof gdal.Polygon || geometry instanceof gdal.GeometryCollection) return geometry.getArea();
  return 0;
}

/**
 * Total length of all rings (exterior and holes) of a Polygon / MultiPolygon / collection. Indexed, not
 * `for…of`: gdal-async's iterators ask the count again at every step (this runs on every vectorized polygon).
 */
export function boundaryLength(geometry: Geometry): number {
  let total = 0;
  if (geometry instanceof gdal.Polygon) {
    const rings = geometry.rings;
    for (let i = 0, n = rings.count(); i < n; i++) total += rings.get(i).getLength();
  } else if (geometry instanceof gdal.GeometryCollection) {
    const children = geometry.children;
    for (let i = 0, n = children.count(); i < n; i++) total += boundaryLength(children.get(i));
  }
  return total;
}
