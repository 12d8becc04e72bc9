/**
 * @module inference/scene/viewStrategy
 * `view`: the AOI (or whole scene) read once at the model's input size (GDAL resamples large windows from
 * overviews; windows up to 2× the input are read at full resolution and resized like the official code), one
 * pass, logits un-letterboxed onto the output grid — the source grid, decimated only when the AOI is larger
 * than `maxViewOutput` px.
 */
import { windowGeoTransform } from '../../geo/geoTransform.js';
import { writeProbabilityRaster, type RasterGrid, type WrittenProbability } from '../../geo/probabilityRaster.js';
import { throwIfAborted } from '../sessions/model.js';
import { SegEarthPipeline } from '../pipeline/pipeline.js';
import { addInStrips, resampleMask } from './gridResampling.js';
import { viewPass, type SceneRun } from './sceneRun.js';

export interface StrategyOutcome {
  grid: RasterGrid;
  written: WrittenProbability;
  tiles: { total: number; refined: number };
  /** Whether the single view came from the cache (view strategy only). */
  viewCached: boolean;
}

export async function runView(run: SceneRun): Promise<StrategyOutcome> {
  const { window, info, request } = run;
  const maxOut = request.maxViewOutput ?? 4096;
  const f = Math.max(1, Math.max(window.width, window.height) / maxOut);
  const outW = Math.max(1, Math.round(window.width / f));
  const outH = Math.max(1, Math.round(window.height / f));
  const grid: RasterGrid = { width: outW, height: outH, geoTransform: windowGeoTransform(info.geoTransform, window, outW, outH), crsWkt: info.crs?.wkt ?? null };
  const { prediction, valid, readW, readH } = await viewPass(run);
  throwIfAborted(request.signal);
  run.clock.report('stitching', 'Writing the probability raster', 0.8);
  const logits = SegEarthPipeline.toGrid(prediction, outW, outH);
  const weights = resampleMask(valid, readW, readH, outW, outH);
  const written = await writeProbabilityRaster(request.probabilityPath, grid, run.writeOptions, (sink) => addInStrips(sink, logits, weights, outW, outH));
  return { grid, written, tiles: { total: 0, refined: 0 }, viewCached: prediction.cached };
}
