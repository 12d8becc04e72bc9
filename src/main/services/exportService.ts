/**
 * @module main/services/exportService
 * Writes results to the formats GIS analysts open every day: GeoJSON (RFC 7946, lon/lat), ESRI Shapefile and
 * GeoPackage (native CRS, one layer per result), or the binary mask as a GeoTIFF on the raster's grid.
 * The output path goes through the path guard; existing files are only replaced when asked, and never when
 * the output is an input (an open layer's source or a result's raster).
 *
 * Results from rasters in different CRSs are never mixed in one coordinate system: GeoJSON reprojects every
 * result to EPSG:4326 (the writer does, per result); a Shapefile holds one layer per CRS
 * (`out_<crs>.shp` each, when the results do not share one); a GeoPackage one layer per result, each in its
 * own CRS.
 */
import type { z } from 'zod';
import type { ExportReport, ExportRequestSchema, ResultFeatures } from '../../shared/api/dto.js';
import { SegEarthError } from '../../shared/errors.js';
import { refuseInputAsOutput } from '../../geo/atomicWrite.js';
import type { GeoBackend } from './backends.js';
import type { InferenceService } from './inferenceService.js';
import type { PathGuard } from './pathGuard.js';
import type { WorkspaceService } from './workspaceService.js';

type ExportArgs = z.output<typeof ExportRequestSchema>;

const EXTENSIONS: Record<ExportArgs['format'], string[]> = {
  geojson: ['.geojson', '.json'],
  shp: ['.shp'],
  gpkg: ['.gpkg'],
  'mask-geotiff': ['.tif', '.tiff'],
};

/** A layer name from a question: readable, short, safe in GeoPackage and file names. */
export function layerNameFor(question: string, index: number): string {
  const slug = question.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 40);
  return slug.length > 0 ? slug : `result_${index + 1}`;
}

/** Layer names made unique (case-insensitively) by numbering repeats: the same question asked twice → `q`, `q_2`. */
export function uniqueLayerNames(names: readonly string[]): string[] {
  const used = new Set<string>();
  return names.map((name) => {
    let candidate = name;
    for (let n = 2; used.has(candidate.toLowerCase()); n++) candidate = `${name}_${n}`;
    used.add(candidate.toLowerCase());
    return candidate;
  });
}

/** The key results share when they are in the same CRS (EPSG code when known, else the WKT; null = pixels). */
function crsKey(features: ResultFeatures): string {
  return features.crsCode ?? features.crsWkt ?? 'pixel';
}

interface ExportDeps {
  geo: GeoBackend;
  inference: InferenceService;
  guard: PathGuard;
  workspace: Pick<WorkspaceService, 'listLayers'>;
}

export async function exportResults(args: ExportArgs, deps: ExportDeps): Promise<ExportReport> {
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
  await refuseInputAsOutput(
    [outPath],
    [...deps.workspace.listLayers().map((layer) => layer.path), ...results.map((r) => r.probabilityPath)],
  );
  if (args.format === 'mask-geotiff') {
    if (results.length !== 1) {
      throw new SegEarthError('BAD_ARGUMENT', 'A mask GeoTIFF holds one result; choose a single result.', {
        hint: 'Export several results as a GeoPackage to keep them in one file.',
      });
    }
    const only = results[0]!;
    // A polygon AOI is already applied to the probability raster (pixels outside it are 0).
    const files = await deps.geo.writeMaskGeoTiff(only.probabilityPath, outPath, { threshold: only.summary.threshold, overwrite: args.overwrite });
    return { format: args.format, path: outPath, files, featureCount: only.summary.featureCount };
  }
  const names = uniqueLayerNames(results.map((r, i) => layerNameFor(r.summary.question, i)));
  const featureCount = results.reduce((n, r) => n + r.features.features.length, 0);
  let layers = results.map((r, i) => ({ name: names[i]!, features: r.features }));
  if (args.format === 'shp' && results.length > 1) {
    // A shapefile holds one layer in one CRS: the results of each CRS are merged (each feature keeps its
    // question), one layer per CRS.
    const groups = new Map<string, typeof results>();
    for (const r of results) groups.set(crsKey(r.features), [...(groups.get(crsKey(r.features)) ?? []), r]);
    const groupNames = uniqueLayerNames(
      [...groups.entries()].map(([key, group]) => (groups.size === 1 ? names[0]! : `results_${(group[0]!.features.crsCode ?? key).replace(/[^A-Za-z0-9]+/g, '_').slice(0, 30)}`)),
    );
    layers = [...groups.values()].map((group, i) => ({
      name: groupNames[i]!,
      features: { ...group[0]!.features, features: group.flatMap((r) => r.features.features) },
    }));
  }
  const files = await deps.geo.writeFeatures(layers, outPath, { format: args.format, overwrite: args.overwrite });
  return { format: args.format, path: outPath, files, featureCount };
}
