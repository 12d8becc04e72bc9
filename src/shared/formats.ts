/**
 * @module shared/formats
 * Output formats, one vocabulary end to end (writers, CLI `--format`, export and batch APIs, dialogs,
 * `batch.json`): `gpkg` GeoPackage, `geojson` GeoJSON (lon/lat), `shp` ESRI Shapefile; the export dialog adds
 * `mask-geotiff` (the thresholded mask), a batch `mask` (the probability GeoTIFF).
 */
import { z } from 'zod';

export const VECTOR_FORMATS = ['gpkg', 'geojson', 'shp'] as const;
export type VectorFormat = (typeof VECTOR_FORMATS)[number];

export const EXPORT_FORMATS = ['geojson', 'shp', 'gpkg', 'mask-geotiff'] as const;
export const ExportFormatSchema = z.enum(EXPORT_FORMATS);
export type ExportFormat = z.infer<typeof ExportFormatSchema>;

export const BATCH_FORMATS = ['gpkg', 'geojson', 'shp', 'mask'] as const;
export const BatchFormatSchema = z.enum(BATCH_FORMATS);
export type BatchFormat = z.infer<typeof BatchFormatSchema>;
