/**
 * @module inference/scene/scene
 * A question about a scene → a georeferenced probability GeoTIFF (the source grid, cropped to the AOI). One
 * module per strategy:
 *
 * - `view` (`viewStrategy`): the AOI read once at the model's input size, one pass;
 * - `tiled` and `coarse-to-fine` (`tiledStrategy`): full-resolution tiles, blended and stitched tile by tile;
 *   coarse to fine refines only the tiles a `view` pass finds promising;
 * - `auto`: `view` when the AOI fits in 2× the input size, else `coarse-to-fine`.
 *
 * A polygon AOI runs on its bounding box and is applied once, by the probability writer (pixels outside it
 * get 0), so every later step — polygons, mean probabilities, heatmap, mask export — answers inside it only.
 * The polygons themselves are the runtime's next step (`runtime.ask`, `result.answerPolygons`).
 *
 * Cancellation (AbortSignal) is checked between graph runs; the GeoTIFF write is atomic, so a cancelled or
 * failed run leaves nothing at the target.
 */
import { SegEarthError } from '../../shared/errors.js';
import type { RasterInfo } from '../../shared/rasterInfo.js';
import type { Strategy } from '../../shared/strategies.js';
import type { ProbabilityCompression, ProbabilityPreview, RasterGrid } from '../../geo/probabilityRaster.js';
import type { PolygonField, PolygonLayer } from '../../geo/polygonLayer.js';
import type { WindowPredictor } from '../pipeline/pipeline.js';
import { ProgressClock, type SceneProgress } from './progressClock.js';
import { aoiExtent, aoiPolygons, extentToWindow, type SceneAoi } from './sceneWindow.js';
import type { ScenePlan, SceneRun, ViewRequest } from './sceneRun.js';
import type { PixelRect } from './tiling.js';
import { runTiled } from './tiledStrategy.js';
import { runView } from './viewStrategy.js';

export { SCENE_STAGES, type SceneProgress, type SceneStage } from './progressClock.js';
export type { SceneAoi } from './sceneWindow.js';

export { STRATEGIES, type Strategy } from '../../shared/strategies.js';

/** What the runtime needs from `geo/readRegion`: an RGB window (one stretch per raster) and its valid mask. */
export type RegionReader = (
  path: string,
  options: {
    window: { kind: 'pixel'; window: PixelRect };
    outWidth: number;
    outHeight: number;
    bands?: readonly number[];
    signal?: AbortSignal;
  },
) => Promise<{ width: number; height: number; rgb: Uint8Array; valid: Uint8Array }>;

export interface SceneDeps {
  openRaster(path: string): Promise<RasterInfo>;
  readRegion: RegionReader;
  /** `geo/maskToPolygons.vectorizeMask`: the polygons as OGR geometries (the caller closes them). */
  vectorizeMask(
    input: { kind: 'file'; path: string },
    options: {
      threshold: number;
      minAreaM2: number;
      fields?: readonly PolygonField[];
      signal?: AbortSignal;
      onProgress?: (fraction: number, stage: string) => void;
    },
  ): Promise<PolygonLayer>;
}

export interface SceneRequest {
  rasterPath: string;
  question: string;
  /** Area of interest in the raster's CRS (an extent or polygons with holes); absent = the whole scene. */
  aoi?: SceneAoi;
  strategy?: Strategy;
  /** Probability GeoTIFF to write (atomic). */
  probabilityPath: string;
  overwrite?: boolean;
  /** Probability in (0, 1); 0.5 ≙ the official `logit > 0`. */
  threshold?: number;
  minAreaM2?: number;
  /** Band mapping override (1-based; 1 or 3 bands). */
  bands?: readonly number[];
  /** Tile overlap in px (tiled / coarse-to-fine). Default 128. */
  overlap?: number;
  /**
   * Largest side of the probability raster of a `view` run (the window's own grid when smaller). Default
   * 1024, the resolution of the model's answer (`viewStrategy.DEFAULT_MAX_VIEW_OUTPUT`).
   */
  maxViewOutput?: number;
  /**
   * Compression of the probability GeoTIFF: `deflate` (default: the most compact, for a file the user keeps)
   * or `zstd` (several times faster to write and read back: a raster only the app or the CLI reads).
   */
  probabilityCompression?: ProbabilityCompression;
  /** Coarse probability from which a tile gets a full-resolution pass. Default 0.25. */
  refineAbove?: number;
  /**
   * Keep the image side of every view and tile in the model's cache for the next question about the same
   * scene (default true). A batch asking one question per scene passes false: nothing would reuse them, and
   * a scene's tiles would fill the cache (1 GiB by default) for nothing.
   */
  cacheViews?: boolean;
  /** Also keep the probabilities decimated to at most this many px per side in memory (the app's heatmap). */
  previewMaxSize?: number;
  /** Skip vectorization (only the probability raster is wanted). */
  skipPolygons?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: SceneProgress) => void;
  /**
   * Called once no graph will run any more for this request, before the probability raster's last pass is
   * written (a one-shot ask releases the model there: `InferenceRuntime.ask`'s `releaseModelBeforePolygons`).
   */
  onModelDone?: () => void;
}

export interface SceneResult {
  probabilityPath: string;
  grid: RasterGrid;
  /** EPSG code of the scene's CRS, when it has one (the polygons' `crsCode`). */
  crsCode: string | null;
  /** Pixel window of the source raster the result covers. */
  window: PixelRect;
  strategy: Exclude<Strategy, 'auto'>;
  tiles: { total: number; refined: number };
  /** Highest probability written, inside the AOI (tells "nothing there" from "just under the threshold"). */
  maxProbability: number;
  /** The probabilities decimated for display, when `previewMaxSize` was asked. */
  preview: ProbabilityPreview | null;
  /** Whether the single view came from the cache (view strategy only). */
  viewCached: boolean;
  durationMs: number;
}

/**
 * Where a request reads: the raster opened, the AOI's window, `auto` resolved (`view` when the window fits in
 * 2× the input size, else `coarse-to-fine`). The one rule for a question (`askScene`) and for a view read
 * ahead of it (`viewPrefetch.prefetchScene`).
 */
export async function planScene(pipeline: WindowPredictor, request: ViewRequest, deps: SceneDeps): Promise<ScenePlan> {
  const info = await deps.openRaster(request.rasterPath);
  const window = request.aoi ? extentToWindow(info, aoiExtent(request.aoi)) : { x: 0, y: 0, width: info.width, height: info.height };
  const size = pipeline.info.inputSize;
  const fitsView = Math.max(window.width, window.height) <= 2 * size;
  const strategy: Exclude<Strategy, 'auto'> =
    request.strategy === undefined || request.strategy === 'auto' ? (fitsView ? 'view' : 'coarse-to-fine') : request.strategy;
  return { pipeline, request, deps, info, window, size, fitsView, strategy };
}

/** Runs a question over a scene up to the probability raster (see the module header). */
export async function askScene(pipeline: WindowPredictor, request: SceneRequest, deps: SceneDeps): Promise<SceneResult> {
  const started = performance.now();
  const threshold = request.threshold ?? 0.5;
  if (!(threshold > 0 && threshold < 1)) {
    throw new SegEarthError('BAD_ARGUMENT', `The threshold ${threshold} is not a probability in (0, 1).`, {
      hint: 'Use e.g. 0.5 (the model\'s own decision boundary).',
    });
  }
  // Reject a bad question before reading anything.
  await pipeline.checkQuestion(request.question);
  const clock = new ProgressClock(request.onProgress);
  clock.report('reading', 'Opening the raster', 0);
  const plan = await planScene(pipeline, request, deps);
  const { info, window, strategy } = plan;
  const polygons = aoiPolygons(request.aoi);
  const run: SceneRun = {
    ...plan,
    request,
    clock,
    writeOptions: {
      overwrite: request.overwrite ?? false,
      ...(request.signal ? { signal: request.signal } : {}),
      ...(polygons ? { inside: polygons } : {}),
      ...(request.previewMaxSize ? { previewMaxSize: request.previewMaxSize } : {}),
      ...(request.probabilityCompression ? { compression: request.probabilityCompression } : {}),
      metadata: {
        SEGEARTH_QUESTION: request.question,
        SEGEARTH_MODEL: pipeline.info.modelId,
        SEGEARTH_BUNDLE_SHA256: pipeline.info.bundleSha256,
        SEGEARTH_SOURCE: request.rasterPath,
        SEGEARTH_STRATEGY: strategy,
      },
    },
  };
  const outcome = strategy === 'view' ? await runView(run) : await runTiled(run, strategy === 'coarse-to-fine');
  return {
    probabilityPath: request.probabilityPath,
    grid: outcome.grid,
    crsCode: info.crs?.code ?? null,
    window,
    strategy,
    tiles: outcome.tiles,
    maxProbability: outcome.written.maxProbability,
    preview: outcome.written.preview,
    viewCached: outcome.viewCached,
    durationMs: performance.now() - started,
  };
}
