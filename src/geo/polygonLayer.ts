/**
 * @module geo/polygonLayer
 * Vectorized polygons kept as OGR geometries: an OGR Memory layer with the fields `id` (Integer), `area_m2`
 * and `perimeter_m` (Real, unset when the mask has no CRS), in the mask's CRS — what `geo/maskToPolygons`
 * makes. The writers (`geo/writers`) copy it to the output file in GDAL (`vectorTranslate`) without the
 * GeoJSON-style `FeatureSet` DTO; `toFeatureSet()` makes the DTO only where one is needed (the app's IPC,
 * GeoJSON export, tests). The owner closes it.
 *
 * @example
 * const polygons = await vectorizeMask({ kind: 'file', path: 'mask.tif' });
 * await writeFeatures([{ name: 'roads', features: polygons }], 'roads.gpkg');
 * polygons.close();
 */
import gdal from 'gdal-async';
import type { Dataset, Feature, Geometry, Layer, SpatialReference } from 'gdal-async';
import type { FeatureProperties, FeatureSet, VectorFeature } from '../shared/featureSet.js';
import { areaGeometryFromWkb, areaRingsFromWkb } from './areaGeometryWkb.js';
import { crsCodeOf } from './gisOrderTransform.js';

/** The attribute fields of every vectorized polygon, in output order. */
export const POLYGON_FIELDS = ['id', 'area_m2', 'perimeter_m'] as const;

/** A further attribute field of the polygons (see `PolygonLayer`'s constructor). */
export interface PolygonField {
  name: string;
  type: 'string' | 'real';
}

export interface PolygonMeasure {
  areaM2: number;
  perimeterM: number;
}

export class PolygonLayer {
  /** The Memory dataset holding `layer` (give it to `gdal.vectorTranslate`). */
  readonly dataset: Dataset;
  readonly layer: Layer;
  /** CRS of the coordinates (WKT), null when the mask was not georeferenced (pixel coordinates). */
  readonly crsWkt: string | null;
  /** "EPSG:32618" when an authority code matches, else null. */
  readonly crsCode: string | null;
  #count = 0;
  #totalAreaM2 = 0;
  #vertexCount: number | null = 0;
  #feature: Feature | undefined;

  /**
   * `fields`: further fields after `id`, `area_m2`, `perimeter_m`, unset until `fillFields`. They are declared
   * here, before any feature exists: OGR features must not outlive a change of their layer's definition.
   */
  constructor(srs: SpatialReference | null, fields: readonly PolygonField[] = []) {
    this.dataset = gdal.open('segearth-polygons', 'w', 'Memory');
    this.layer = this.dataset.layers.create('polygons', srs, gdal.wkbUnknown);
    this.layer.fields.add(new gdal.FieldDefn('id', gdal.OFTInteger));
    this.layer.fields.add(new gdal.FieldDefn('area_m2', gdal.OFTReal));
    this.layer.fields.add(new gdal.FieldDefn('perimeter_m', gdal.OFTReal));
    for (const { name, type } of fields) this.layer.fields.add(new gdal.FieldDefn(name, type === 'string' ? gdal.OFTString : gdal.OFTReal));
    this.crsWkt = srs ? srs.toWKT() : null;
    this.crsCode = srs ? crsCodeOf(srs) : null;
  }

  /** Adds the next polygon (ids run 1..n in the order of the calls); `measure` null when areas are unknown. */
  add(geometry: Geometry, measure: PolygonMeasure | null): void {
    // One feature object for every call: the Memory layer stores a copy (and a new FID) of what it is given.
    const feature = (this.#feature ??= new gdal.Feature(this.layer));
    feature.setGeometry(geometry);
    // One call for the three fields (unset, i.e. null, without a measure).
    feature.fields.set(measure ? [++this.#count, measure.areaM2, measure.perimeterM] : [++this.#count, null, null]);
    if (measure) this.#totalAreaM2 += measure.areaM2;
    this.#vertexCount = null;
    this.layer.features.add(feature);
  }

  /**
   * Positions of all polygons' rings (closing points included). Counted when first asked (one pass over
   * the polygons), not in `add`: the count costs a JavaScript wrapper per ring, and only some callers ask.
   */
  get vertexCount(): number {
    if (this.#vertexCount === null) {
      let count = 0;
      for (const feature of this.layer.features) {
        const geometry = feature.getGeometry();
        if (geometry) count += pointCount(geometry);
      }
      this.#vertexCount = count;
    }
    return this.#vertexCount;
  }

  get featureCount(): number {
    return this.#count;
  }

  /** Sum of `area_m2`; null when the mask has no CRS. */
  get totalAreaM2(): number | null {
    return this.crsWkt === null ? null : this.#totalAreaM2;
  }

  /**
   * Sets the further fields (the constructor's `fields`, e.g. an answer's provenance) on every feature, in id
   * order: `valuesOf(index)` gives feature `index`'s values in the order of those fields (null = unset).
   * Features are rewritten one at a time (OGR's Memory layer keeps them; nothing else is copied).
   */
  fillFields(valuesOf: (index: number) => readonly (string | number | null)[]): void {
    const first = POLYGON_FIELDS.length;
    let index = 0;
    for (const feature of this.layer.features) {
      valuesOf(index++).forEach((value, k) => {
        if (value !== null) feature.fields.set(first + k, value);
      });
      this.layer.features.set(feature);
    }
  }

  /**
   * Each polygon's rings as interleaved x, y — the DTO's coordinates (`geo/areaGeometryWkb.areaRingsFromWkb`) —
   * made one polygon at a time as they are asked for.
   */
  *ringCoordinates(): Generator<Float64Array[]> {
    for (const feature of this.layer.features) {
      const geometry = feature.getGeometry();
      if (geometry) yield areaRingsFromWkb(geometry); // never null: `add` takes a geometry
    }
  }

  /** The polygons as the JSON-safe DTO (`shared/featureSet`), every field as a property, in field order. */
  toFeatureSet(): FeatureSet {
    const names = this.layer.fields.getNames();
    const features: VectorFeature[] = [];
    for (const feature of this.layer.features) {
      const values = feature.fields.toArray() as (string | number | null)[];
      const geometry = feature.getGeometry();
      if (!geometry) continue; // never: `add` takes a geometry
      const properties: FeatureProperties = {};
      names.forEach((name, k) => (properties[name] = values[k] ?? null));
      features.push({ id: properties['id'] as number, geometry: areaGeometryFromWkb(geometry), properties });
    }
    return { crsWkt: this.crsWkt, crsCode: this.crsCode, features };
  }

  close(): void {
    this.dataset.close();
  }
}

/** Positions of a Polygon's or MultiPolygon's rings. */
function pointCount(geometry: Geometry): number {
  let n = 0;
  if (geometry instanceof gdal.MultiPolygon) for (const part of geometry.children) n += pointCount(part);
  else if (geometry instanceof gdal.Polygon) for (const ring of geometry.rings) n += ring.points.count();
  return n;
}
