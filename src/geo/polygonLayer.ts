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
import type { Dataset, Geometry, Layer, SpatialReference } from 'gdal-async';
import type { FeatureSet, VectorFeature } from '../shared/featureSet.js';
import { areaGeometryFromWkb } from './areaGeometryWkb.js';
import { crsCodeOf } from './gisOrderTransform.js';

/** The attribute fields of every vectorized polygon, in output order. */
export const POLYGON_FIELDS = ['id', 'area_m2', 'perimeter_m'] as const;

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

  constructor(srs: SpatialReference | null) {
    this.dataset = gdal.open('segearth-polygons', 'w', 'Memory');
    this.layer = this.dataset.layers.create('polygons', srs, gdal.wkbUnknown);
    this.layer.fields.add(new gdal.FieldDefn('id', gdal.OFTInteger));
    this.layer.fields.add(new gdal.FieldDefn('area_m2', gdal.OFTReal));
    this.layer.fields.add(new gdal.FieldDefn('perimeter_m', gdal.OFTReal));
    this.crsWkt = srs ? srs.toWKT() : null;
    this.crsCode = srs ? crsCodeOf(srs) : null;
  }

  /** Adds the next polygon (ids run 1..n in the order of the calls); `measure` null when areas are unknown. */
  add(geometry: Geometry, measure: PolygonMeasure | null): void {
    const feature = new gdal.Feature(this.layer);
    feature.setGeometry(geometry);
    // One call for the three fields (unset, i.e. null, without a measure).
    feature.fields.set(measure ? [++this.#count, measure.areaM2, measure.perimeterM] : [++this.#count]);
    if (measure) this.#totalAreaM2 += measure.areaM2;
    this.layer.features.add(feature);
  }

  get featureCount(): number {
    return this.#count;
  }

  /** Sum of `area_m2`; null when the mask has no CRS. */
  get totalAreaM2(): number | null {
    return this.crsWkt === null ? null : this.#totalAreaM2;
  }

  /** The polygons as the JSON-safe DTO (`shared/featureSet`). */
  toFeatureSet(): FeatureSet {
    const features: VectorFeature[] = [];
    for (const feature of this.layer.features) {
      const [id, area, perimeter] = POLYGON_FIELDS.map((_, index) => feature.fields.get(index) as number | null);
      const geometry = feature.getGeometry();
      if (!geometry) continue; // never: `add` takes a geometry
      features.push({
        id: id as number,
        geometry: areaGeometryFromWkb(geometry),
        properties: { id: id as number, area_m2: area, perimeter_m: perimeter },
      });
    }
    return { crsWkt: this.crsWkt, crsCode: this.crsCode, features };
  }

  close(): void {
    this.dataset.close();
  }
}
