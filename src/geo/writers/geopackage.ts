/**
 * @module geo/writers/geopackage
 * GeoPackage: one layer per result, several results in one file, each layer in its native CRS, geometry
 * type MultiPolygon. With `append`, layers are added to an existing GeoPackage (copied, extended, then
 * renamed over the original, so it is never left half-written); a layer name already in the file is
 * refused with OUTPUT_EXISTS unless `overwrite` replaces that layer.
 */
import { copyFile, stat } from 'node:fs/promises';
import gdal from 'gdal-async';
import { SegEarthError } from '../../shared/errors.js';
import { writeAtomically } from '../atomicWrite.js';
import { checkLayers, countFeatures, type FeatureWriter } from './featureWriter.js';
import { vectorSource } from './memoryDataset.js';

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function existingLayerNames(path: string): string[] {
  let dataset;
  try {
    dataset = gdal.open(path, 'r', 'GPKG');
  } catch (cause) {
    throw new SegEarthError('OUTPUT_EXISTS', `${path} exists and is not a GeoPackage, so layers cannot be added to it.`, {
      hint: 'Choose another output name, or overwrite it (--overwrite without append).',
      path,
      cause,
    });
  }
  const names = dataset.layers.map((layer) => layer.name);
  dataset.close();
  return names;
}

export const writeGeoPackage: FeatureWriter = async (layers, outPath, options) => {
  checkLayers(layers);
  const overwrite = options.overwrite ?? false;
  const appending = options.append === true && (await isFile(outPath));
  if (appending) {
    const present = new Set(existingLayerNames(outPath).map((name) => name.toLowerCase()));
    const clash = layers.find((layer) => present.has(layer.name.toLowerCase()));
    if (clash && !overwrite) {
      throw new SegEarthError('OUTPUT_EXISTS', `${outPath} already has a layer named "${clash.name}".`, {
        hint: 'Give the result another layer name, or allow overwriting that layer (--overwrite).',
        path: outPath,
      });
    }
  }
  const paths = await writeAtomically(outPath, { overwrite: overwrite || appending }, async (tempPath) => {
    const source = vectorSource(layers, { multi: true });
    const args = ['-f', 'GPKG', '-nlt', 'MULTIPOLYGON', ...source.args];
    if (appending) {
      await copyFile(outPath, tempPath);
      args.push('-update', ...(overwrite ? ['-overwrite'] : []));
    }
    try {
      const out = await gdal.vectorTranslateAsync(tempPath, source.dataset, args);
      out.close();
    } finally {
      source.release();
    }
  });
  return { format: 'gpkg', paths, featureCount: countFeatures(layers) };
};
