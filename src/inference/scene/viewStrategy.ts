/**
 * @module inference/scene/viewStrategy
 * `view`: the AOI (or whole scene) read once at the model's input size (GDAL resamples large windows from
 * overviews; windows up to 2× the input are read at full resolution and resized like the official code), one
 * pass, logits un-letterboxed onto the output grid — the source grid, decimated when the AOI is larger than
 * `maxViewOutput` px (default {@link DEFAULT_MAX_VIEW_OUTPUT}), exactly georeferenced over the same window
 * (its pixels grow), and written straight from memory (`writeProbabilityGrid`).
 *
 * Why 1024 px by default: that is the resolution of the model's answer. The mask is 256², and the official
 * code (`eval_seg`) resizes it bilinearly to the 1024² input frame and thresholds there; a larger grid only
 * resamples the same logits further (no new detail) and costs 16× the pixels at 4096 px — writing, reading
 * back, polygonizing and the slider's re-polygonizing (docs/PERFORMANCE.md, "The analyst's clock"). On a
 * 4096² scene the polygons of the 1024² raster cover the same ground as those of the 4096² one to within one
 * output pixel at their edges (IoU 0.98 on the official fixture's mask; `npm run bench:view`). `segearth ask
 * --view-output <px>` asks for more.
 */
import { windowGeoTransform } from '../../geo/geoTransform.js';
import { writeProbabilityGrid, type RasterGrid, type WrittenProbability } from '../../geo/probabilityRaster.js';
import { throwIfAborted } from '../sessions/model.js';
import { SegEarthPipeline } from '../pipeline/pipeline.js';
import { resampleMask } from './gridResampling.js';
import { viewPass, type SceneRun } from './sceneRun.js';

export interface StrategyOutcome {
  grid: RasterGrid;
  written: WrittenProbability;
  tiles: { total: number; refined: number };
  /** Whether the single view came from the cache (view strategy only). */
  viewCached: boolean;
}

/** Largest side of a `view` run's probability raster when the request names none: the model's answer resolution. */
export const DEFAULT_MAX_VIEW_OUTPUT = 1024;

/**
 * The most a request may ask for (`segearth ask --view-output full`): the whole grid is held in memory as
 * float32 logits (1 GiB at 16384²); the tiled strategies give the source grid of larger windows.
 */
export const MAX_VIEW_OUTPUT = 16384;

export async function runView(run: SceneRun): Promise<StrategyOutcome> {
  const { window, info, request } = run;
  const maxOut = request.maxViewOutput ?? DEFAULT_MAX_VIEW_OUTPUT;
  const f = Math.max(1, Math.max(window.width, window.height) / maxOut);
  const outW = Math.max(1, Math.round(window.width / f));
  const outH = Math.max(1, Math.round(window.height / f));
  const grid: RasterGrid = { width: outW, height: outH, geoTransform: windowGeoTransform(info.geoTransform, window, outW, outH), crsWkt: info.crs?.wkt ?? null };
  const { prediction, valid, readW, readH } = await viewPass(run);
  throwIfAborted(request.signal);
  request.onModelDone?.();
  run.clock.report('stitching', 'Writing the probability raster', 0.8);
  const logits = SegEarthPipeline.toGrid(prediction, outW, outH);
  const written = await writeProbabilityGrid(request.probabilityPath, grid, run.writeOptions, logits, resampleMask(valid, readW, readH, outW, outH));
  return { grid, written, tiles: { total: 0, refined: 0 }, viewCached: prediction.cached };
}
