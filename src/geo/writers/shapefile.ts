/**
 * @module geo/writers/shapefile
 * ESRI Shapefile: .shp .shx .dbf .prj .cpg, native CRS, attributes in UTF-8 (ENCODING=UTF-8 writes the
 * .cpg), field names cut to 10 characters by the table in `shapefileFieldNames`. A shapefile holds one
 * layer: one result is written to `out.shp` itself, several results to `out_<layer>.shp` each (layer names
 * reduced to letters, digits, `-` and `_`). All files of all layers appear together or not at all.
 */
import { basename, dirname, extname, join } from 'node:path';
import gdal from 'gdal-async';
import { writeAtomically } from '../atomicWrite.js';
import { checkLayers, countFeatures, type FeatureWriter } from './featureWriter.js';
import { propertyNamesOf, vectorSource, type LayerInput } from './memoryDataset.js';
import { shapefileFieldNamer } from './shapefileFieldNames.js';

export const SHAPEFILE_PARTS = ['.shp', '.shx', '.dbf', '.prj', '.cpg'] as const;

function safeName(name: string): string {
  return name.normalize('NFKD').replace(/[^\w-]+/g, '_').replace(/^_+|_+$/g, '') || 'layer';
}

/** The .shp file name each layer goes to (see the module comment). */
export function shapefileNames(layers: LayerInput[], outPath: string): string[] {
  const stem = basename(outPath, extname(outPath));
  if (layers.length === 1) return [`${stem}.shp`];
  return layers.map((layer) => `${stem}_${safeName(layer.name)}.shp`);
}

export const writeShapefile: FeatureWriter = async (layers, outPath, options) => {
  checkLayers(layers);
  const shpNames = shapefileNames(layers, outPath);
  const expectedNames = shpNames.flatMap((shp) => SHAPEFILE_PARTS.map((ext) => shp.replace(/\.shp$/, ext)));
  const paths = await writeAtomically(
    join(dirname(outPath), shpNames[0]),
    { overwrite: options.overwrite ?? false, expectedNames },
    async (tempPath) => {
      const tempDir = dirname(tempPath);
      for (const [index, layer] of layers.entries()) {
        // The layer is named for its file (vectorSource passes the name to ogr2ogr or to the Memory layer).
        const named = { name: basename(shpNames[index], '.shp'), features: layer.features };
        const source = vectorSource([named], { multi: true, fieldName: shapefileFieldNamer(propertyNamesOf(layer.features)) });
        try {
          const out = await gdal.vectorTranslateAsync(join(tempDir, shpNames[index]), source.dataset, [
            '-f',
            'ESRI Shapefile',
            '-lco',
            'ENCODING=UTF-8',
            ...source.args,
          ]);
          out.close();
        } finally {
          source.release();
        }
      }
    },
  );
  return { format: 'shp', paths, featureCount: countFeatures(layers) };
};
