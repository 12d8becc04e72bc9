/**
 * @module geo/writers/writeFeatures
 * One entry point for every vector export, dispatching on the output extension (or an explicit format):
 * `.geojson`/`.json` → GeoJSON (RFC 7946), `.shp` → ESRI Shapefile, `.gpkg` → GeoPackage.
 *
 * @example
 * await writeFeatures([{ name: 'roads', features }], '/data/out/roads.gpkg', { overwrite: false });
 */
import { extname } from 'node:path';
import { SegEarthError } from '../../shared/errors.js';
import { configureGdalEnvironment } from '../env.js';
import type { FeatureWriteOptions, FeatureWriter, LayerInput, VectorFormat, WriteResult } from './featureWriter.js';
import { writeGeoJson } from './geojson.js';
import { writeGeoPackage } from './geopackage.js';
import { writeShapefile } from './shapefile.js';

export type { FeatureWriteOptions, LayerInput, VectorFormat, WriteResult } from './featureWriter.js';

const BY_EXTENSION: Record<string, VectorFormat> = {
  '.geojson': 'geojson',
  '.json': 'geojson',
  '.shp': 'shp',
  '.gpkg': 'gpkg',
};

const WRITERS: Record<VectorFormat, FeatureWriter> = {
  geojson: writeGeoJson,
  shp: writeShapefile,
  gpkg: writeGeoPackage,
};

/** The format an output path asks for; throws UNSUPPORTED_FORMAT for other extensions. */
export function vectorFormatFor(outPath: string): VectorFormat {
  const format = BY_EXTENSION[extname(outPath).toLowerCase()];
  if (!format) {
    throw new SegEarthError('UNSUPPORTED_FORMAT', `Cannot tell the vector format of ${outPath} from its extension.`, {
      hint: 'End the output name with .gpkg (GeoPackage), .geojson (GeoJSON) or .shp (Shapefile).',
      path: outPath,
    });
  }
  return format;
}

export async function writeFeatures(
  layers: LayerInput[],
  outPath: string,
  options: FeatureWriteOptions & { format?: VectorFormat } = {},
): Promise<WriteResult> {
  configureGdalEnvironment();
  const format = options.format ?? vectorFormatFor(outPath);
  return WRITERS[format](layers, outPath, options);
}
