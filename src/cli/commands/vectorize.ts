/**
 * @module cli/commands/vectorize
 * `segearth vectorize <mask-or-probability-raster> -o <out.gpkg|.geojson|.shp>`: polygons from any
 * model's mask (see `geo/maskToPolygons` for thresholds, simplification and measures; `geo/writers` for
 * formats). The output is checked before any work is done, and written atomically.
 */
import { basename, extname } from 'node:path';
import type { Command } from 'commander';
import { checkOutputTargets, refuseInputAsOutput } from '../../geo/atomicWrite.js';
import { vectorizeMask } from '../../geo/maskToPolygons.js';
import type { SimplifyTolerance } from '../../geo/simplify.js';
import { SHAPEFILE_PARTS } from '../../geo/writers/shapefile.js';
import { vectorFormatFor, writeFeatures } from '../../geo/writers/writeFeatures.js';
import type { CliContext } from '../context.js';
import { parseNonNegative, parseNumber, parsePositiveInteger, parseToleranceOption } from '../optionParsers.js';

interface VectorizeOptions {
  output: string;
  band?: number;
  threshold?: number;
  simplify?: SimplifyTolerance;
  minArea?: number;
  fillHoles?: number;
  layer?: string;
  append?: boolean;
  overwrite?: boolean;
  precision?: number;
  json?: boolean;
}

export function register(program: Command, context: CliContext): void {
  program
    .command('vectorize')
    .description('turn a mask or probability raster into polygons (GeoPackage, GeoJSON or Shapefile)')
    .argument('<raster>', 'mask (0/1, 0/255, class ids) or probability (float 0-1) raster')
    .requiredOption('-o, --output <path>', 'output file: .gpkg, .geojson or .shp')
    .option('-b, --band <n>', 'band to read', parsePositiveInteger)
    .option('-t, --threshold <value>', 'probabilities: p >= value (default 0.5); integer masks: value >= it (default: > 0)', parseNumber)
    .option('-s, --simplify <tolerance>', 'topology-preserving simplification, e.g. 1px (default unit), 2.5m, 0.0001map', parseToleranceOption)
    .option('--min-area <m2>', 'drop polygons smaller than this many m²', parseNonNegative)
    .option('--fill-holes <m2>', 'fill holes smaller than this many m²', parseNonNegative)
    .option('-l, --layer <name>', 'layer name (default: the raster file name)')
    .option('--append', 'GeoPackage: add the layer to an existing file')
    .option('--overwrite', 'replace an existing output (with --append: an existing layer of that name)')
    .option('--precision <decimals>', 'GeoJSON: decimals kept in coordinates (default 7)', parseNonNegative)
    .option('--json', 'print a JSON summary on stdout')
    .action(async (raster: string, options: VectorizeOptions) => {
      const format = vectorFormatFor(options.output);
      const stem = basename(options.output, extname(options.output));
      await checkOutputTargets(options.output, {
        overwrite: options.overwrite === true || (options.append === true && format === 'gpkg'),
        ...(format === 'shp' ? { expectedNames: SHAPEFILE_PARTS.map((ext) => `${stem}${ext}`) } : {}),
      });
      // Replacing the raster being read would lose it (a GeoPackage can hold both: --append adds a layer instead).
      if (!(options.append === true && format === 'gpkg')) await refuseInputAsOutput([options.output], [raster]);
      const progress = options.json ? await jsonProgress(context.err) : process.stderr.isTTY ? terminalProgress(context.err) : undefined;
      let polygons;
      try {
        polygons = await vectorizeMask(
          { kind: 'file', path: raster, ...(options.band !== undefined ? { band: options.band } : {}) },
          {
            signal: context.signal,
            ...(progress ? { onProgress: progress.update } : {}),
            ...(options.threshold !== undefined ? { threshold: options.threshold } : {}),
            ...(options.simplify !== undefined ? { simplify: options.simplify } : {}),
            ...(options.minArea !== undefined ? { minAreaM2: options.minArea } : {}),
            ...(options.fillHoles !== undefined ? { fillHolesM2: options.fillHoles } : {}),
          },
        );
      } finally {
        progress?.done();
      }
      const layer = options.layer ?? basename(raster, extname(raster));
      let result;
      try {
        // The OGR geometries are copied to the file as they are (no GeoJSON-style DTO: `geo/polygonLayer`).
        result = await writeFeatures([{ name: layer, features: polygons }], options.output, {
          overwrite: options.overwrite === true,
          append: options.append === true,
          ...(options.precision !== undefined ? { precision: options.precision } : {}),
        });
      } finally {
        polygons.close();
      }
      const { totalAreaM2, crsCode } = polygons;
      if (options.json) {
        const summary = {
          output: options.output,
          files: result.paths,
          format: result.format,
          layer,
          featureCount: result.featureCount,
          totalAreaM2,
          crs: crsCode,
        };
        context.out(`${JSON.stringify(summary, null, 2)}\n`);
      } else {
        const area = totalAreaM2 === null ? 'no CRS: areas unknown' : `${totalAreaM2.toFixed(2)} m² in total`;
        context.out(
          `wrote ${result.featureCount} polygon${result.featureCount === 1 ? '' : 's'} (${area}) to ${options.output}, layer "${layer}"${crsCode ? `, ${crsCode}` : ''}\n`,
        );
      }
    });
}

/** One self-overwriting status line on an interactive terminal (at most ~10 updates a second). */
function terminalProgress(write: (text: string) => void) {
  let last = 0;
  let shown = false;
  return {
    update(fraction: number, stage: string) {
      const now = Date.now();
      if (now - last < 100 && fraction < 1) return;
      last = now;
      shown = true;
      write(`\r\x1b[2K${stage} ${Math.round(fraction * 100)}%`);
    },
    done() {
      if (shown) write('\r\x1b[2K');
    },
  };
}

/** `--json`: progress as JSON lines on stderr (`cli/jsonProgress`, loaded only then: it holds a zod schema). */
async function jsonProgress(write: (text: string) => void) {
  const { jsonProgressWriter } = await import('../jsonProgress.js');
  const line = jsonProgressWriter(write);
  return {
    update(fraction: number, stage: string) {
      line({ fraction, stage });
    },
    done() {},
  };
}
