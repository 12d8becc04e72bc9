/**
 * @module main/services/exportService
 * Writes results to the formats GIS analysts open every day: GeoJSON (RFC 7946, lon/lat), ESRI Shapefile and
 * GeoPackage (native CRS, one layer per result), or the binary mask as a GeoTIFF on the raster's grid.
 * The output path goes through the path guard; existing files are only replaced when asked.
 */
import type { z } from 'zod';
import type { ExportReport, ExportRequestSchema } from '../../shared/api/dto.js';
import { SegEarthError } from '../../shared/errors.js';
import type { GeoBackend } from './backends.js';
import { aoiRingOf, type InferenceService } from './inferenceService.js';
import type { PathGuard } from './pathGuard.js';

type ExportArgs = z.output<typeof ExportRequestSchema>;

const EXTENSIONS: Record<ExportArgs['format'], string[]> = {
  geojson: ['.geojson', '.json'],
  shapefile: ['.shp'],
  gpkg: ['.gpkg'],
  'mask-geotiff': ['.tif', '.tiff'],
};

/** A layer name from a question: readable, short, safe in GeoPackage and file names. */
export function layerNameFor(question: string, index: number): string {
  const slug = question.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 40);
  return slug.length > 0 ? slug : `result_${index + 1}`;
}

export async function exportResults(args: ExportArgs, deps: { geo: GeoBackend; inference: InferenceService; guard: PathGuard }): Promise<ExportReport> {
  const lower = args.path.toLowerCase();
  const allowed = EXTENSIONS[args.format];
  if (!allowed.some((ext) => lower.endsWith(ext))) {
    throw new SegEarthError('BAD_ARGUMENT', `A ${args.format} export needs a file name ending in ${allowed.join(' or ')}.`, {
      hint: `Rename the output, e.g. results${allowed[0]}.`,
      path: args.path,
    });
  }
  const outPath = await deps.guard.resolveForWrite(args.path);
  const results = args.resultIds.map((id) => deps.inference.getResult(id));
  if (args.format === 'mask-geotiff') {
    if (results.length !== 1) {
      throw new SegEarthError('BAD_ARGUMENT', 'A mask GeoTIFF holds one result; choose a single result.', {
        hint: 'Export several results as a GeoPackage to keep them in one file.',
      });
    }
    const only = results[0]!;
    const ring = aoiRingOf(only.summary.aoi);
    const files = await deps.geo.writeMaskGeoTiff(only.probabilityPath, outPath, {
      threshold: only.summary.threshold,
      overwrite: args.overwrite,
      ...(ring ? { aoiRing: ring } : {}),
    });
    return { format: args.format, path: outPath, files, featureCount: only.summary.featureCount };
  }
  if (results.length > 1 && args.format !== 'gpkg') {
    // GeoJSON and Shapefile hold one layer: merge the results, each feature keeps its question.
    const merged = { ...results[0]!.features, features: results.flatMap((r) => r.features.features) };
    const files = await deps.geo.writeFeatures([{ name: layerNameFor(results[0]!.summary.question, 0), features: merged }], outPath, {
      format: args.format,
      overwrite: args.overwrite,
    });
    return { format: args.format, path: outPath, files, featureCount: merged.features.length };
  }
  const layers = results.map((r, i) => ({ name: layerNameFor(r.summary.question, i), features: r.features }));
  const files = await deps.geo.writeFeatures(layers, outPath, { format: args.format, overwrite: args.overwrite });
  return { format: args.format, path: outPath, files, featureCount: results.reduce((n, r) => n + r.features.features.length, 0) };
}
