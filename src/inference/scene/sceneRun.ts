/**
 * @module inference/scene/sceneRun
 * What every scene strategy shares for one run: the request, the window, the model, how to read a pixel
 * rectangle of the scene, the view-cache key of a read, the single `view` pass over the whole window, and the
 * options of the probability writer (metadata, the polygon AOI, the preview).
 */
import type { RasterInfo } from '../../shared/rasterInfo.js';
import type { WriteProbabilityOptions } from '../../geo/probabilityRaster.js';
import type { RgbWindow, WindowPrediction, WindowPredictor } from '../pipeline/pipeline.js';
import { letterboxGeometry } from '../preprocessing/preprocess.js';
import type { ProgressClock } from './progressClock.js';
import type { SceneDeps, SceneRequest } from './scene.js';
import type { PixelRect } from './tiling.js';

export interface SceneRun {
  pipeline: WindowPredictor;
  request: SceneRequest;
  deps: SceneDeps;
  info: RasterInfo;
  /** Pixel window of the scene the model runs on (the AOI's bounding box, or the whole scene). */
  window: PixelRect;
  /** Side of the model's square input. */
  size: number;
  /** Whether the window is read at full resolution for a single pass (≤ 2× the input size). */
  fitsView: boolean;
  clock: ProgressClock;
  writeOptions: WriteProbabilityOptions;
}

/** One pass over the whole window: the prediction and the valid mask on the read grid. */
export interface ViewPass {
  prediction: WindowPrediction;
  valid: Uint8Array;
  readW: number;
  readH: number;
}

/** Reads a pixel rect of the scene at a given size (the model's reader). */
export function reader(run: SceneRun, rect: PixelRect, outWidth: number, outHeight: number): () => Promise<RgbWindow & { valid: Uint8Array }> {
  const { request, deps } = run;
  return () =>
    deps.readRegion(request.rasterPath, {
      window: { kind: 'pixel', window: rect },
      outWidth,
      outHeight,
      ...(request.bands ? { bands: request.bands } : {}),
      ...(request.signal ? { signal: request.signal } : {}),
    });
}

/** The view-cache key of a read of `rect` at `outWidth × outHeight`, or null when views are not cached. */
export function cacheKey(run: SceneRun, rect: PixelRect, outWidth: number, outHeight: number): string | null {
  const { request } = run;
  if (request.cacheViews === false) return null;
  return `${request.rasterPath}|${rect.x},${rect.y},${rect.width},${rect.height}|${outWidth}x${outHeight}|${request.bands?.join(',') ?? 'default'}`;
}

/** The whole window in one model pass: at full resolution when it fits, else at the letterboxed size. */
export async function viewPass(run: SceneRun): Promise<ViewPass> {
  const { window, size, request } = run;
  const lb = letterboxGeometry(window.width, window.height, size);
  const [readW, readH] = run.fitsView ? [window.width, window.height] : [lb.width, lb.height];
  run.clock.report('image', 'Reading the view and running the model', 0.05);
  const prediction = await run.pipeline.predict(cacheKey(run, window, readW, readH), reader(run, window, readW, readH), request.question, request.signal);
  return { prediction, valid: prediction.valid ?? new Uint8Array(readW * readH).fill(1), readW, readH };
}
