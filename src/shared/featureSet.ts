/**
 * @module shared/featureSet
 * Vector results as a JSON-safe DTO (zod schema + type): the polygons that `geo/maskToPolygons` produces,
 * in the raster's native CRS, with GeoJSON-style coordinates (always x = east/longitude, y = north/latitude,
 * whatever axis order the CRS authority defines). Plain objects only, so a FeatureSet can cross the IPC
 * boundary, be written by `geo/writers/*` and shown by the renderer.
 */
import { z } from 'zod';

/** [x, y] — easting/longitude first. */
export const PositionSchema = z.tuple([z.number(), z.number()]).rest(z.number());
export type Position = z.infer<typeof PositionSchema>;

/** A closed ring: first and last positions are equal; at least 4 positions. */
export const LinearRingSchema = z.array(PositionSchema).min(4);

export const PolygonGeometrySchema = z.object({
  type: z.literal('Polygon'),
  /** Exterior ring first, then holes. */
  coordinates: z.array(LinearRingSchema).min(1),
});
export type PolygonGeometry = z.infer<typeof PolygonGeometrySchema>;

export const MultiPolygonGeometrySchema = z.object({
  type: z.literal('MultiPolygon'),
  coordinates: z.array(z.array(LinearRingSchema).min(1)).min(1),
});
export type MultiPolygonGeometry = z.infer<typeof MultiPolygonGeometrySchema>;

export const AreaGeometrySchema = z.discriminatedUnion('type', [PolygonGeometrySchema, MultiPolygonGeometrySchema]);
export type AreaGeometry = z.infer<typeof AreaGeometrySchema>;

export const FeaturePropertiesSchema = z.record(z.string(), z.union([z.string(), z.number(), z.null()]));
export type FeatureProperties = z.infer<typeof FeaturePropertiesSchema>;

export const VectorFeatureSchema = z.object({
  id: z.number().int(),
  geometry: AreaGeometrySchema,
  /** Always holds `id`, `area_m2` and `perimeter_m` for features made by maskToPolygons. */
  properties: FeaturePropertiesSchema,
});
export type VectorFeature = z.infer<typeof VectorFeatureSchema>;

export const FeatureSetSchema = z.object({
  /** CRS of the coordinates (WKT), null when the source raster was not georeferenced (pixel coordinates). */
  crsWkt: z.string().nullable(),
  /** "EPSG:32618" when an authority code matches, else null. */
  crsCode: z.string().nullable(),
  features: z.array(VectorFeatureSchema),
});
export type FeatureSet = z.infer<typeof FeatureSetSchema>;
