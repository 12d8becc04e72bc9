/**
 * @module geo/writers/geojson
 * GeoJSON per RFC 7946: coordinates in EPSG:4326 longitude/latitude (reprojected here with
 * `geo/reproject`; one result still in OGR, `geo/polygonLayer`, by GDAL's RFC 7946 writer itself — the same
 * file), polygons wound by the right-hand rule (GDAL's RFC7946=YES), `precision` decimals
 * (default 7). A GeoJSON file holds one FeatureCollection: several results are merged into it and each
 * feature gets a `layer` property naming its result.
 */
import gdal from 'gdal-async';
import type { Dataset } from 'gdal-async';
import { SegEarthError } from '../../shared/errors.js';
import type { FeatureSet } from '../../shared/featureSet.js';
import { writeAtomically } from '../atomicWrite.js';
import { reprojectFeatureSet } from '../reproject.js';
import { checkLayers, countFeatures, type FeatureWriter } from './featureWriter.js';
import { PolygonLayer } from '../polygonLayer.js';
import { buildMemoryDataset, featureSetOf } from './memoryDataset.js';

export const DEFAULT_GEOJSON_PRECISION = 7;

export const writeGeoJson: FeatureWriter = async (layers, outPath, options) => {
  checkLayers(layers);
  const precision = options.precision ?? DEFAULT_GEOJSON_PRECISION;
  if (!Number.isInteger(precision) || precision < 0 || precision > 15) {
    throw new SegEarthError('BAD_ARGUMENT', `A precision of ${precision} decimals is not possible.`, {
      hint: 'Give a whole number of decimals between 0 and 15 (7 keeps ~1 cm).',
    });
  }
  const unreferenced = layers.find((layer) => layer.features.crsWkt === null);
  if (unreferenced) {
    throw new SegEarthError('NOT_GEOREFERENCED', `GeoJSON needs longitude/latitude, but "${unreferenced.name}" has no CRS (pixel coordinates).`, {
      hint: 'Export it as GeoPackage (.gpkg) or Shapefile (.shp), or georeference the raster first.',
      path: outPath,
    });
  }
  const layerName = layers.length === 1 ? layers[0].name : 'results';
  const translate = async (tempPath: string, source: Dataset, extra: string[]): Promise<void> => {
    const out = await gdal.vectorTranslateAsync(tempPath, source, ['-f', 'GeoJSON', '-lco', 'RFC7946=YES', '-lco', `COORDINATE_PRECISION=${precision}`, ...extra]);
    out.close();
  };
  const only = layers.length === 1 ? layers[0].features : null;
  if (only instanceof PolygonLayer) {
    // One result still in OGR (`segearth ask`, `segearth vectorize`): GDAL's RFC 7946 writer reprojects it to
    // EPSG:4326 itself — the same file as through `geo/reproject` (tested) without a DTO of the whole answer.
    const paths = await writeAtomically(outPath, { overwrite: options.overwrite ?? false }, (tempPath) => translate(tempPath, only.dataset, ['-nln', layerName]));
    return { format: 'geojson', paths, featureCount: countFeatures(layers) };
  }
  const merged: FeatureSet = { crsWkt: gdal.SpatialReference.fromEPSG(4326).toWKT(), crsCode: 'EPSG:4326', features: [] };
  for (const { name, features } of layers) {
    const lonLat = reprojectFeatureSet(featureSetOf(features), 'EPSG:4326');
    for (const feature of lonLat.features) {
      merged.features.push(layers.length > 1 ? { ...feature, properties: { ...feature.properties, layer: name } } : feature);
    }
  }
  const paths = await writeAtomically(outPath, { overwrite: options.overwrite ?? false }, async (tempPath) => {
    const memory = buildMemoryDataset([{ name: layerName, features: merged }], { multi: false });
    try {
      await translate(tempPath, memory, []);
    } finally {
      memory.close();
    }
  });
  return { format: 'geojson', paths, featureCount: countFeatures(layers) };
};
