/**
 * @module geo/reproject
 * Reprojects a FeatureSet with OSR (PROJ). Coordinates stay in GIS order on both sides — x = easting or
 * longitude, y = northing or latitude, as GeoJSON wants — whatever axis order the CRS authority declares
 * (see `geo/gisOrderTransform`). Properties are copied unchanged (areas are ground areas and do not
 * depend on the CRS).
 */
import gdal from 'gdal-async';
import { SegEarthError } from '../shared/errors.js';
import type { AreaGeometry, FeatureSet } from '../shared/featureSet.js';
import { configureGdalEnvironment } from './env.js';
import { createGisOrderTransform, crsCodeOf, srsFromUserInput } from './gisOrderTransform.js';

/**
 * Returns a copy of `features` in `targetCrs` ("EPSG:4326", any OSR user input, or WKT).
 * @example reprojectFeatureSet(utmResult, 'EPSG:4326').features[0].geometry.coordinates[0][0] // [lon, lat]
 */
export function reprojectFeatureSet(features: FeatureSet, targetCrs: string): FeatureSet {
  configureGdalEnvironment();
  if (features.crsWkt === null) {
    throw new SegEarthError('NOT_GEOREFERENCED', 'These polygons are in pixel coordinates and cannot be reprojected.', {
      hint: 'Georeference the source raster first, or export in the native (pixel) coordinates.',
    });
  }
  const source = srsFromUserInput(features.crsWkt);
  const target = srsFromUserInput(targetCrs);
  const targetWkt = target.toWKT();
  if (source.isSame(target)) return { ...features, crsWkt: targetWkt, crsCode: crsCodeOf(target) };
  const transform = createGisOrderTransform(source, target);
  return {
    crsWkt: targetWkt,
    crsCode: crsCodeOf(target),
    features: features.features.map((feature) => {
      const geometry = gdal.Geometry.fromGeoJson(feature.geometry);
      transform.transformGeometry(geometry);
      return {
        id: feature.id,
        geometry: JSON.parse(geometry.toJSON()) as AreaGeometry,
        properties: { ...feature.properties },
      };
    }),
  };
}
