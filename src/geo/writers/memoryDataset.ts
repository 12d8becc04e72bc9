/**
 * @module geo/writers/memoryDataset
 * What every vector writer hands `ogr2ogr` (gdal.vectorTranslate), so that GDAL does the format work: one
 * code path, GDAL's own transaction batching and driver options. The source is an OGR Memory dataset, one
 * layer per result: a result already vectorized into OGR geometries (`geo/polygonLayer`) is given to GDAL
 * as it is (renamed and its fields mapped by ogr2ogr's own options), FeatureSets (the DTO) are built into a
 * Memory dataset first (`buildMemoryDataset`).
 */
import gdal from 'gdal-async';
import type { Dataset } from 'gdal-async';
import type { FeatureSet } from '../../shared/featureSet.js';
import { areaGeometryToOgr } from '../areaGeometryWkb.js';
import { srsFromUserInput } from '../gisOrderTransform.js';
import { PolygonLayer } from '../polygonLayer.js';

export interface LayerInput {
  name: string;
  /** The DTO, or polygons still in OGR (`geo/polygonLayer`, left open: the caller closes it). */
  features: FeatureSet | PolygonLayer;
}

/** A layer's features as the DTO (made from the OGR geometries where they are still in OGR). */
export function featureSetOf(features: FeatureSet | PolygonLayer): FeatureSet {
  return features instanceof PolygonLayer ? features.toFeatureSet() : features;
}

/** Number of features of a layer, without making the DTO. */
export function featureCountOf(features: FeatureSet | PolygonLayer): number {
  return features instanceof PolygonLayer ? features.featureCount : features.features.length;
}

/** Property (attribute) names of a layer, in first-seen order. */
export function propertyNamesOf(features: FeatureSet | PolygonLayer): string[] {
  if (features instanceof PolygonLayer) return [...features.layer.fields.getNames()];
  return [...new Set(features.features.flatMap((feature) => Object.keys(feature.properties)))];
}

export interface VectorSource {
  dataset: Dataset;
  /** ogr2ogr options selecting, naming and typing the layer (add the format's own). */
  args: string[];
  /** Closes what was built for this write (never the caller's PolygonLayer). */
  release(): void;
}

function sqlName(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * The source to translate: one result in OGR geometries is copied as it is (`-nln` names the layer, a
 * `SELECT … AS` maps renamed fields, `-nlt MULTIPOLYGON` promotes with `multi`); anything else is built
 * into a Memory dataset (`buildMemoryDataset`).
 */
export function vectorSource(layers: LayerInput[], options: MemoryDatasetOptions): VectorSource {
  const [only] = layers;
  if (layers.length === 1 && only.features instanceof PolygonLayer) {
    const polygons = only.features;
    const rename = options.fieldName ?? ((name: string) => name);
    const fields = propertyNamesOf(polygons);
    const args = ['-nln', only.name, ...(options.multi ? ['-nlt', 'MULTIPOLYGON'] : [])];
    if (fields.some((field) => rename(field) !== field)) {
      const columns = fields.map((field) => (rename(field) === field ? sqlName(field) : `${sqlName(field)} AS ${sqlName(rename(field))}`));
      args.push('-sql', `SELECT ${columns.join(', ')} FROM ${sqlName(polygons.layer.name)}`);
    }
    return { dataset: polygons.dataset, args, release: () => {} };
  }
  const dataset = buildMemoryDataset(
    layers.map(({ name, features }) => ({ name, features: featureSetOf(features) })),
    options,
  );
  return { dataset, args: [], release: () => dataset.close() };
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

/** One Memory layer per FeatureSet: fields typed from the property values (see `fieldKinds`). */
export function buildMemoryDataset(layers: { name: string; features: FeatureSet }[], options: MemoryDatasetOptions): Dataset {
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
