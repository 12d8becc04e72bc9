/**
 * @module inference/scene/sceneRun
 * What every scene strategy shares for one run: the plan (request, raster, window, strategy, model), how a pass
 * reads a pixel rectangle of the scene and under which view-cache key (`rectRead`, `viewRead`: the one place
 * keys are made, so that a prefetched view is the one the question reads), the single `view` pass over the
 * whole window, and the options of the probability writer (metadata, the polygon AOI, the preview).
 */
import type { RasterInfo } from '../../shared/rasterInfo.js';
import type { WriteProbabilityOptions } from '../../geo/probabilityRaster.js';
import type { RgbWindow, WindowPrediction, WindowPredictor } from '../pipeline/pipeline.js';
import { letterboxGeometry } from '../preprocessing/preprocess.js';
import type { ProgressClock } from './progressClock.js';
import type { SceneDeps, SceneRequest } from './scene.js';
import type { Strategy } from '../../shared/strategies.js';
import type { PixelRect } from './tiling.js';

/** A scene request's view side: what decides which windows are read, how, and under which cache keys. */
export type ViewRequest = Pick<SceneRequest, 'rasterPath' | 'aoi' | 'strategy' | 'bands' | 'overlap' | 'cacheViews' | 'signal'>;

/** Where a scene request reads: the raster, its window, the strategy (`scene.planScene`). */
export interface ScenePlan {
  pipeline: WindowPredictor;
  request: ViewRequest;
  deps: SceneDeps;
  info: RasterInfo;
  /** Pixel window of the scene the model runs on (the AOI's bounding box, or the whole scene). */
  window: PixelRect;
  /** Side of the model's square input. */
  size: number;
  /** Whether the window is read at full resolution for a single pass (≤ 2× the input size). */
  fitsView: boolean;
  /** `auto` resolved. */
  strategy: Exclude<Strategy, 'auto'>;
}

export interface SceneRun extends ScenePlan {
  request: SceneRequest;
  clock: ProgressClock;
  writeOptions: WriteProbabilityOptions;
}

/** One model pass's read: the view-cache key (null: not cached), the reader, and the read grid's size. */
export interface PassRead {
  key: string | null;
  read: () => Promise<RgbWindow & { valid: Uint8Array }>;
  readW: number;
  readH: number;
}

/** One pass over the whole window: the prediction and the valid mask on the read grid. */
export interface ViewPass {
  prediction: WindowPrediction;
  valid: Uint8Array;
  readW: number;
  readH: number;
}

/** Reads a pixel rect of the scene at a given size (the model's reader). */
function reader(plan: ScenePlan, rect: PixelRect, outWidth: number, outHeight: number): () => Promise<RgbWindow & { valid: Uint8Array }> {
  const { request, deps } = plan;
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
function cacheKey(plan: ScenePlan, rect: PixelRect, outWidth: number, outHeight: number): string | null {
  const { request } = plan;
  if (request.cacheViews === false) return null;
  return `${request.rasterPath}|${rect.x},${rect.y},${rect.width},${rect.height}|${outWidth}x${outHeight}|${request.bands?.join(',') ?? 'default'}`;
}

/** The read of a pixel rect of the scene at full resolution (a tile). */
export function rectRead(plan: ScenePlan, rect: PixelRect): PassRead {
  return { key: cacheKey(plan, rect, rect.width, rect.height), read: reader(plan, rect, rect.width, rect.height), readW: rect.width, readH: rect.height };
}

/** The read of the `view` pass: the whole window, at full resolution when it fits, else at the letterboxed size. */
export function viewRead(plan: ScenePlan): PassRead {
  const { window, size } = plan;
  const lb = letterboxGeometry(window.width, window.height, size);
  const [readW, readH] = plan.fitsView ? [window.width, window.height] : [lb.width, lb.height];
  return { key: cacheKey(plan, window, readW, readH), read: reader(plan, window, readW, readH), readW, readH };
}

/** The whole window in one model pass (`viewRead`). */
export async function viewPass(run: SceneRun): Promise<ViewPass> {
  const { key, read, readW, readH } = viewRead(run);
  run.clock.report('image', 'Reading the view and running the model', 0.05);
  const prediction = await run.pipeline.predict(key, read, run.request.question, run.request.signal);
  return { prediction, valid: prediction.valid ?? new Uint8Array(readW * readH).fill(1), readW, readH };
}
