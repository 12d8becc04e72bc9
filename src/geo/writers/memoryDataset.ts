/**
 * @module geo/writers/memoryDataset
 * Builds an OGR Memory dataset (one layer per result) from FeatureSets, so every vector writer hands GDAL a
 * real dataset and lets `ogr2ogr` (gdal.vectorTranslate) do the format work: one code path, GDAL's own
 * transaction batching and driver options.
 */
import gdal from 'gdal-async';
import type { Dataset } from 'gdal-async';
import type { FeatureSet } from '../../shared/featureSet.js';
import { areaGeometryToOgr } from '../areaGeometryWkb.js';
import { srsFromUserInput } from '../gisOrderTransform.js';

export interface LayerInput {
  name: string;
  features: FeatureSet;
}

export interface MemoryDatasetOptions {
  /** Promote Polygons to MultiPolygons so a layer has one geometry type (GeoPackage, Shapefile). */
  multi: boolean;
  /** Output field name for a property (Shapefile's 10-character limit); identity by default. */
  fieldName?: (property: string) => string;
}

type FieldKind = 'integer' | 'real' | 'string';

/** `id` and `*_id` properties are integers when all their values are; other numbers (areas...) are reals. */
function isIdentifier(property: string): boolean {
  return property === 'id' || property.endsWith('_id');
}

/** Field types from the property values: strings win over numbers; see `isIdentifier` for integers. */
function fieldKinds(layer: FeatureSet): Map<string, FieldKind> {
  const kinds = new Map<string, FieldKind | null>();
  for (const feature of layer.features) {
    for (const [key, value] of Object.entries(feature.properties)) {
      const previous = kinds.get(key) ?? null;
      if (value === null) {
        kinds.set(key, previous);
        continue;
      }
      const kind: FieldKind =
        typeof value === 'string' ? 'string' : isIdentifier(key) && Number.isInteger(value) && Math.abs(value) < 2 ** 31 ? 'integer' : 'real';
      kinds.set(key, mergeKinds(previous, kind));
    }
  }
  // A property that is null everywhere still gets a (real) column.
  return new Map([...kinds].map(([key, kind]) => [key, kind ?? 'real']));
}

function mergeKinds(previous: FieldKind | null, kind: FieldKind): FieldKind {
  if (previous === null || previous === kind) return kind;
  if (previous === 'string' || kind === 'string') return 'string';
  return 'real';
}

const OGR_FIELD_TYPE: Record<FieldKind, string> = {
  integer: gdal.OFTInteger,
  real: gdal.OFTReal,
  string: gdal.OFTString,
};

export function buildMemoryDataset(layers: LayerInput[], options: MemoryDatasetOptions): Dataset {
  const dataset = gdal.open('segearth-export', 'w', 'Memory');
  const rename = options.fieldName ?? ((name: string) => name);
  for (const { name, features } of layers) {
    const srs = features.crsWkt === null ? null : srsFromUserInput(features.crsWkt);
    const layer = dataset.layers.create(name, srs, options.multi ? gdal.wkbMultiPolygon : gdal.wkbUnknown);
    const kinds = fieldKinds(features);
    for (const [key, kind] of kinds) layer.fields.add(new gdal.FieldDefn(rename(key), OGR_FIELD_TYPE[kind]));
    for (const source of features.features) {
      const feature = new gdal.Feature(layer);
      feature.setGeometry(areaGeometryToOgr(source.geometry, options.multi));
      for (const [key, value] of Object.entries(source.properties)) {
        if (value !== null) feature.fields.set(rename(key), value);
      }
      layer.features.add(feature);
    }
  }
  return dataset;
}
