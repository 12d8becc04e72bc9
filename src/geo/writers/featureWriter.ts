/**
 * @module geo/writers/featureWriter
 * What every vector writer takes and returns.
 */
import { SegEarthError } from '../../shared/errors.js';
import { featureCountOf, type LayerInput } from './memoryDataset.js';

export type { LayerInput } from './memoryDataset.js';

export type { VectorFormat } from '../../shared/formats.js';
import type { VectorFormat } from '../../shared/formats.js';

export interface FeatureWriteOptions {
  /** Replace existing output files (and, with `append`, a GeoPackage layer of the same name). */
  overwrite?: boolean;
  /** GeoJSON only: decimals kept in coordinates (default 7, ~1 cm in degrees). */
  precision?: number;
  /** GeoPackage only: add the layers to an existing GeoPackage instead of refusing it. */
  append?: boolean;
}

export interface WriteResult {
  format: VectorFormat;
  /** Every file written (Shapefile: .shp .shx .dbf .prj .cpg per layer). */
  paths: string[];
  /** Features written, all layers together. */
  featureCount: number;
}

export type FeatureWriter = (layers: LayerInput[], outPath: string, options: FeatureWriteOptions) => Promise<WriteResult>;

/** Refuses an empty layer list and duplicate or empty layer names. */
export function checkLayers(layers: LayerInput[]): void {
  if (layers.length === 0) {
    throw new SegEarthError('BAD_ARGUMENT', 'There is nothing to export.', { hint: 'Run a query or vectorize a mask first.' });
  }
  const seen = new Set<string>();
  for (const { name } of layers) {
    const key = name.trim().toLowerCase();
    if (key === '') {
      throw new SegEarthError('BAD_ARGUMENT', 'A layer name is empty.', { hint: 'Give every result a name.' });
    }
    if (seen.has(key)) {
      throw new SegEarthError('BAD_ARGUMENT', `Two results are named "${name}".`, {
        hint: 'Give every exported result its own layer name.',
      });
    }
    seen.add(key);
  }
}

export function countFeatures(layers: LayerInput[]): number {
  return layers.reduce((sum, layer) => sum + featureCountOf(layer.features), 0);
}
