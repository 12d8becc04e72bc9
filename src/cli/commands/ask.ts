/**
 * @module cli/commands/ask
 * `segearth ask <raster> "<question>" -o <out.gpkg|.geojson|.shp>`: answers a question about a scene with the
 * SegEarth-R1 bundle and writes the polygons (and, with `--probability`, the probability GeoTIFF). The model
 * runs in the inference worker thread, so the progress bar on stderr keeps moving and Ctrl-C cancels between
 * two graph runs, leaving no partial output. `--json` prints one JSON document on stdout and progress as JSON
 * lines on stderr (`cli/jsonProgress`). `--aoi` is an extent or a polygon file (`geo/readAoiPolygons`).
 * `--view-output` sets the largest side of a `view` run's probability raster (`scene/viewStrategy`).
 */
import { rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { SegEarthError } from '../../shared/errors.js';
import type { Extent } from '../../shared/rasterInfo.js';
import { checkOutputTargets, refuseInputAsOutput } from '../../geo/atomicWrite.js';
import { makeTempFolder } from '../../geo/tempFolders.js';
import { configureGdalEnvironment, ONE_SHOT_GDAL_CACHE_MB } from '../../geo/env.js';
import { openRaster } from '../../geo/openRaster.js';
import type { PolygonLayer } from '../../geo/polygonLayer.js';
import { readAoiPolygons } from '../../geo/readAoiPolygons.js';
import { writeFeatures, vectorFormatFor, type WriteResult } from '../../geo/writers/writeFeatures.js';
import { EP_LABEL, EpRequestSchema, describeChoice, type EpRequest } from '../../inference/providers/executionProvider.js';
import { ModelStore } from '../../inference/models/ModelStore.js';
import { STRATEGIES, type SceneAoi, type SceneProgress, type Strategy } from '../../inference/scene/scene.js';
import { InferenceRuntime } from '../../inference/runtime/runtime.js';
import { DEFAULT_MAX_VIEW_OUTPUT, MAX_VIEW_OUTPUT } from '../../inference/scene/viewStrategy.js';
import { validateQuestion } from '../../inference/preprocessing/prompt.js';
import type { CliContext } from '../context.js';
import { jsonProgressWriter } from '../jsonProgress.js';

interface AskOptions {
  output: string;
  aoi?: string;
  strategy: Strategy;
  model?: string;
  ep: string;
  threads?: string;
  threshold: string;
  minArea: string;
  overlap: string;
  bands?: string;
  probability?: string;
  viewOutput: string;
  overwrite?: boolean;
  json?: boolean;
}

function badArgument(message: string, hint: string): SegEarthError {
  return new SegEarthError('BAD_ARGUMENT', message, { hint });
}

export function parseAoi(text: string): Extent {
  const parts = text.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 4 || parts.some((n) => !Number.isFinite(n))) {
    throw badArgument(`--aoi "${text}" is not four numbers.`, 'Give minX,minY,maxX,maxY in the raster\'s CRS, e.g. --aoi 500100,3999400,500900,3999900.');
  }
  const [a, b, c, d] = parts as [number, number, number, number];
  if (!(c > a && d > b)) throw badArgument(`--aoi "${text}" is empty (max must exceed min).`, 'Give minX,minY,maxX,maxY.');
  return [a, b, c, d];
}

/** `--aoi`: four numbers are an extent; anything else is a polygon file (read in the raster's CRS). */
async function resolveAoi(text: string, rasterPath: string): Promise<SceneAoi> {
  if (/^[\s\d.,eE+-]+$/.test(text)) return parseAoi(text);
  const crsWkt = (await openRaster(rasterPath)).crs?.wkt ?? null;
  return { polygons: await readAoiPolygons(resolve(text), crsWkt) };
}

function parseNumber(name: string, text: string, check: (n: number) => boolean, hint: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || !check(n)) throw badArgument(`${name} ${text} is not valid.`, hint);
  return n;
}

/** Where the model bundle is: a folder, an installed id, or the default installed model. */
export async function resolveModelDir(model: string | undefined): Promise<string> {
  if (model) {
    const st = await stat(model).catch(() => null);
    if (st?.isDirectory()) return resolve(model);
    if (model.includes('/') || model.includes('\\')) {
      throw new SegEarthError('MODEL_NOT_FOUND', `No model bundle folder at ${model}.`, {
        hint: 'Pass a bundle folder (the one holding manifest.json) or an installed model id (segearth models list).',
      });
    }
    return (await new ModelStore().get(model)).dir;
  }
  const found = await new ModelStore().resolveDefault();
  if (!found) {
    throw new SegEarthError('MODEL_NOT_FOUND', 'No SegEarth-R1 model is installed.', {
      hint: 'Install one (README "Installing the SegEarth-R1 model") or pass --model <bundle folder>.',
    });
  }
  return found.dir;
}

/** `--json`: progress lines (`cli/jsonProgress`); else a one-line progress bar on a TTY, stage lines otherwise. */
function progressPrinter(context: CliContext, json: boolean): { update(p: SceneProgress): void; done(): void } {
  const tty = Boolean(process.stderr.isTTY);
  const jsonLine = json ? jsonProgressWriter(context.err) : null;
  let lastStage = '';
  let drawn = false;
  return {
    update(p) {
      if (jsonLine) {
        jsonLine({ fraction: p.fraction, stage: p.stage, message: p.message, etaSeconds: p.etaSeconds });
        return;
      }
      if (tty) {
        const width = 24;
        const filled = Math.round(p.fraction * width);
        const tiles = p.tileCount > 0 ? ` tile ${Math.min(p.tileIndex + 1, p.tileCount)}/${p.tileCount}` : '';
        const eta = p.etaSeconds !== null ? ` ETA ${Math.ceil(p.etaSeconds)}s` : '';
        context.err(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(p.fraction * 100)).padStart(3)}% ${p.stage}${tiles}${eta}\x1b[K`);
        drawn = true;
      } else if (p.stage !== lastStage) {
        context.err(`${p.stage}: ${p.message}\n`);
      }
      lastStage = p.stage;
    },
    done() {
      if (drawn) context.err('\r\x1b[K');
    },
  };
}

/** Writes an answer's polygons (`runtime.askToLayer`) to `output` straight from OGR, and closes them. */
export async function writeAnswerPolygons(polygons: PolygonLayer, output: string, overwrite: boolean): Promise<WriteResult> {
  try {
    // An empty answer as the DTO, as before: a file without columns (an OGR layer would type them).
    const features = polygons.featureCount === 0 ? polygons.toFeatureSet() : polygons;
    return await writeFeatures([{ name: 'segearth', features }], output, { overwrite });
  } finally {
    polygons.close();
  }
}

async function runAsk(raster: string, question: string, options: AskOptions, context: CliContext): Promise<void> {
  // One question, then the process ends: a small block cache (before any raster I/O: GDAL reads it once).
  configureGdalEnvironment({ cacheMb: ONE_SHOT_GDAL_CACHE_MB });
  const threshold = parseNumber('--threshold', options.threshold, (n) => n > 0 && n < 1, 'The threshold is a probability in (0, 1); 0.5 is the model\'s own boundary.');
  const minAreaM2 = parseNumber('--min-area', options.minArea, (n) => n >= 0, 'Give the minimum polygon area in m², e.g. 100.');
  const overlap = parseNumber('--overlap', options.overlap, (n) => Number.isInteger(n) && n >= 0 && n < 512, 'Give the tile overlap in pixels, 0 to 511 (default 128).');
  const maxViewOutput =
    options.viewOutput === 'full'
      ? MAX_VIEW_OUTPUT
      : parseNumber('--view-output', options.viewOutput, (n) => Number.isInteger(n) && n >= 16 && n <= MAX_VIEW_OUTPUT, `Give the largest side of the view raster in pixels, 16 to ${MAX_VIEW_OUTPUT}, or full (the source grid).`);
  const threads = options.threads === undefined ? undefined : parseNumber('--threads', options.threads, (n) => Number.isInteger(n) && n >= 1, 'Give a number of threads ≥ 1.');
  const ep = EpRequestSchema.safeParse(options.ep);
  if (!ep.success) throw badArgument(`--ep ${options.ep} is not an execution provider.`, 'Use auto, cpu, webgpu, cuda, dml or coreml.');
  const bands = options.bands?.split(',').map((s) => parseNumber('--bands', s, (n) => Number.isInteger(n) && n >= 1, 'Give 1 or 3 band numbers, e.g. --bands 4,3,2.'));
  validateQuestion(question);
  const output = resolve(options.output);
  vectorFormatFor(output);
  // Refuse existing outputs before spending minutes on the model.
  await checkOutputTargets(output, { overwrite: Boolean(options.overwrite) });
  if (options.probability) await checkOutputTargets(resolve(options.probability), { overwrite: Boolean(options.overwrite) });
  const rasterPath = resolve(raster);
  await refuseInputAsOutput(options.probability ? [output, resolve(options.probability)] : [output], [rasterPath]);
  if (options.probability && resolve(options.probability) === output) {
    throw badArgument('--probability and --output name the same file.', 'Give the probability GeoTIFF its own name, e.g. probability.tif.');
  }
  const aoi = options.aoi ? await resolveAoi(options.aoi, rasterPath) : undefined;
  const modelDir = await resolveModelDir(options.model);

  const tempDir = options.probability ? null : await makeTempFolder(tmpdir(), 'segearth-ask-');
  const probabilityPath = options.probability ? resolve(options.probability) : join(tempDir!, 'probability.tif');
  const progress = progressPrinter(context, Boolean(options.json));
  let runtime: InferenceRuntime | null = null;
  try {
    progress.update({ stage: 'reading', message: 'Loading the model', tileIndex: 0, tileCount: 0, fraction: 0, etaSeconds: null });
    // One question: the model runs in a child process, so that when it is released all of its memory goes back
    // to the system before the polygons are made (a thread's end leaves the allocator's share in this process).
    runtime = await InferenceRuntime.open(modelDir, { ep: ep.data as EpRequest, host: 'process', ...(threads ? { threads: { intraOp: threads } } : {}) });
    if (context.signal.aborted) throw new SegEarthError('CANCELLED', 'Cancelled.');
    progress.done();
    if (!options.json) context.err(`${describeChoice(runtime.executionProvider)}\n`);
    if (runtime.model.testFixture) {
      context.err(`warning: ${runtime.model.id} is a test fixture with random weights: its masks are meaningless.\n`);
    }
    // The polygons stay OGR geometries up to the file: no DTO of the whole answer (issue 15.6).
    const result = await runtime.askToLayer(
      {
        rasterPath,
        question,
        ...(aoi ? { aoi } : {}),
        strategy: options.strategy,
        probabilityPath,
        overwrite: Boolean(options.overwrite),
        threshold,
        minAreaM2,
        overlap,
        maxViewOutput,
        // A raster only this run reads back is written with the fast compression; the kept one is compact.
        probabilityCompression: options.probability ? 'deflate' : 'zstd',
        ...(bands ? { bands } : {}),
        // One question, then the process ends: caching the scene's views would only hold memory (up to the
        // cache's 1 GiB) that nothing reuses.
        cacheViews: false,
      },
      // The model's memory is not held while the polygons are made: the peak is the larger of the two, not the sum.
      { signal: context.signal, onProgress: (p) => progress.update(p), releaseModelBeforePolygons: true },
    );
    progress.done();
    const polygons = result.features;
    const written = await writeAnswerPolygons(polygons, output, Boolean(options.overwrite));
    // Without a CRS the polygons are in pixels: there is no area to report (not "0 m²").
    const georeferenced = polygons.crsWkt !== null;
    const totalAreaM2 = polygons.totalAreaM2;
    if (!georeferenced) {
      context.err(`warning: ${raster} has no georeferencing or CRS: the polygons are in pixel coordinates and their areas are unknown.\n`);
    }
    const summary = {
      output: written.paths,
      probability: options.probability ? probabilityPath : null,
      question,
      strategy: result.strategy,
      tiles: result.tiles,
      featureCount: polygons.featureCount,
      totalAreaM2,
      maxProbability: result.maxProbability,
      threshold,
      model: result.model,
      executionProvider: result.executionProvider,
      durationMs: Math.round(result.durationMs),
    };
    if (options.json) {
      context.out(`${JSON.stringify(summary, null, 2)}\n`);
    } else {
      const area =
        totalAreaM2 === null ? 'area unknown (pixel coordinates)' : totalAreaM2 >= 1e4 ? `${(totalAreaM2 / 1e4).toFixed(2)} ha` : `${totalAreaM2.toFixed(0)} m²`;
      context.out(
        `${summary.featureCount} polygon(s), ${area}, max probability ${result.maxProbability.toFixed(3)} (${result.strategy}` +
          `${result.tiles.total ? `, ${result.tiles.refined}/${result.tiles.total} tiles at full resolution` : ''}, ` +
          `${EP_LABEL[result.executionProvider.provider]}, ${(result.durationMs / 1000).toFixed(1)} s) → ${written.paths.join(', ')}\n`,
      );
    }
  } finally {
    progress.done();
    await runtime?.dispose();
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  }
}

export function register(program: Command, context: CliContext): void {
  program
    .command('ask')
    .description('answer a question about a scene with SegEarth-R1: polygons (and optionally the probability raster)')
    .argument('<raster>', 'the scene (any GDAL raster)')
    .argument('<question>', 'what to find, e.g. "Where could a helicopter land?"')
    .requiredOption('-o, --output <path>', 'polygons: .gpkg, .geojson or .shp')
    .option('--aoi <extent|file>', 'area of interest: minx,miny,maxx,maxy in the raster\'s CRS, or a polygon file (.gpkg, .geojson, .shp…: its first layer, reprojected; the answer is clipped to the polygons) (default: the whole scene)')
    .addOption(new Option('--strategy <name>', 'view: one pass at the model size; tiled: full resolution; coarse-to-fine: tiles the coarse pass selects').choices([...STRATEGIES]).default('auto'))
    .option('--model <dir-or-id>', 'model bundle folder or installed model id (default: the default installed model)')
    .option('--ep <provider>', 'execution provider: auto, cpu, webgpu, cuda, dml, coreml', 'auto')
    .option('--threads <n>', 'CPU threads for the model (default: all cores)')
    .option('--threshold <p>', 'probability threshold in (0, 1); 0.5 = the model\'s logit > 0', '0.5')
    .option('--min-area <m2>', 'drop polygons smaller than this many m²', '0')
    .option('--overlap <px>', 'tile overlap in pixels (tiled, coarse-to-fine)', '128')
    .option('--bands <list>', 'band mapping, 1 or 3 bands, e.g. 4,3,2')
    .option('--probability <path.tif>', 'also keep the probability GeoTIFF (float32; the source grid, or for the view strategy see --view-output)')
    .option('--view-output <px|full>', `view strategy: largest side of the probability raster, which the polygons are traced on; the default is the resolution of the model's answer (its 256² mask is resized to 1024² and thresholded); full = the source grid of the scene or AOI (up to ${MAX_VIEW_OUTPUT} px)`, String(DEFAULT_MAX_VIEW_OUTPUT))
    .option('--overwrite', 'replace existing outputs')
    .option('--json', 'print a JSON summary on stdout')
    .action(async (raster: string, question: string, options: AskOptions) => runAsk(raster, question, options, context));
}
