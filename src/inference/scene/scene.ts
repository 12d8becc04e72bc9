/**
 * @module inference/scene/scene
 * A question about a scene → a georeferenced probability GeoTIFF (the source grid, cropped to the AOI) →
 * polygons. Three strategies:
 *
 * - `view`: the AOI (or whole scene) read once at the model's input size (GDAL resamples large windows from
 *   overviews; windows up to 2× the input are read at full resolution and resized like the official code),
 *   one pass, logits un-letterboxed onto the output grid (the source grid, decimated only when the AOI is
 *   larger than `maxViewOutput` px).
 * - `tiled`: full-resolution tiles of the input size with `overlap` px of overlap, logits blended with a smooth
 *   window and stitched tile by tile into the GeoTIFF (memory bounded by one tile for any scene size).
 * - `coarse-to-fine`: a `view` pass over the AOI picks the tiles whose coarse probability reaches
 *   `refineAbove`; only those get a full-resolution pass, the others keep the coarse logits.
 * - `auto`: `view` when the AOI fits in 2× the input size, else `coarse-to-fine`.
 *
 * Cancellation (AbortSignal) is checked between graph runs; the GeoTIFF write is atomic, so a cancelled or
 * failed run leaves nothing at the target.
 */
import { rm } from 'node:fs/promises';
import { SegEarthError } from '../../shared/errors.js';
import type { FeatureSet } from '../../shared/featureSet.js';
import type { Extent, GeoTransform, RasterInfo } from '../../shared/rasterInfo.js';
import { writeProbabilityRaster, type RasterGrid, type ProbabilitySink } from '../../geo/probabilityRaster.js';
import { maskOutsideRings, ringsExtent, type Ring } from '../../geo/aoiMask.js';
import { throwIfAborted } from '../sessions/model.js';
import { SegEarthPipeline, type RgbWindow, type WindowPrediction, type WindowPredictor } from '../pipeline/pipeline.js';
import { letterboxGeometry } from '../preprocessing/preprocess.js';
import { planTiles, tileWeights, type PixelRect } from './tiling.js';

export const STRATEGIES = ['auto', 'view', 'tiled', 'coarse-to-fine'] as const;
export type Strategy = (typeof STRATEGIES)[number];

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
  maskToPolygons(
    input: { kind: 'file'; path: string },
    options: { threshold: number; minAreaM2: number; signal?: AbortSignal },
  ): Promise<FeatureSet>;
}

export const SCENE_STAGES = ['reading', 'image', 'question', 'tiles', 'stitching', 'vectorizing'] as const;
export type SceneStage = (typeof SCENE_STAGES)[number];

export interface SceneProgress {
  stage: SceneStage;
  message: string;
  tileIndex: number;
  tileCount: number;
  /** 0..1 over the whole run. */
  fraction: number;
  etaSeconds: number | null;
}

export interface SceneRequest {
  rasterPath: string;
  question: string;
  /** Area of interest in the raster's CRS [minX, minY, maxX, maxY]; absent = the whole scene. */
  aoi?: Extent;
  /**
   * A polygon area of interest: its rings (exterior rings and holes, raster CRS, even-odd). The model runs on
   * their bounding box (or `aoi` when given); pixels whose centre is outside get probability 0.
   */
  aoiRings?: readonly Ring[];
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
  /** Largest side of the probability raster of a `view` run. Default 4096. */
  maxViewOutput?: number;
  /** Coarse probability from which a tile gets a full-resolution pass. Default 0.25. */
  refineAbove?: number;
  /**
   * Keep the image side of every view and tile in the model's cache for the next question about the same
   * scene (default true). A batch asking one question per scene passes false: nothing would reuse them, and
   * a scene's tiles would fill the cache (1 GiB by default) for nothing.
   */
  cacheViews?: boolean;
  /** Skip vectorization (the caller re-vectorizes the probability raster itself). */
  skipPolygons?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: SceneProgress) => void;
}

export interface SceneResult {
  probabilityPath: string;
  grid: RasterGrid;
  /** Pixel window of the source raster the result covers. */
  window: PixelRect;
  strategy: Exclude<Strategy, 'auto'>;
  tiles: { total: number; refined: number };
  /** Highest probability written (tells "nothing there" from "just under the threshold"). */
  maxProbability: number;
  /** Polygons (empty when `skipPolygons`), attributes from `maskToPolygons`. */
  features: FeatureSet;
  /** Whether the single view came from the cache (view strategy only). */
  viewCached: boolean;
  durationMs: number;
}

/** Pixel rectangle of an extent in the raster (bounding box of its four corners), clipped to the raster. */
export function extentToWindow(info: RasterInfo, extent: Extent): PixelRect {
  const [x0, a, b, y0, d, e] = info.geoTransform;
  const det = a * e - b * d;
  if (det === 0) throw new SegEarthError('BAD_ARGUMENT', 'The raster geotransform cannot be inverted.');
  const toPixel = (X: number, Y: number): [number, number] => {
    const dx = X - x0;
    const dy = Y - y0;
    return [(e * dx - b * dy) / det, (-d * dx + a * dy) / det];
  };
  const [minX, minY, maxX, maxY] = extent;
  if (!(maxX > minX && maxY > minY)) {
    throw new SegEarthError('BAD_ARGUMENT', `The area of interest ${extent.join(',')} is empty.`, {
      hint: 'Give minX,minY,maxX,maxY with max > min, in the raster\'s CRS.',
    });
  }
  const corners = [toPixel(minX, minY), toPixel(maxX, minY), toPixel(minX, maxY), toPixel(maxX, maxY)];
  const px = corners.map((c) => c[0]);
  const py = corners.map((c) => c[1]);
  const left = Math.max(0, Math.floor(Math.min(...px) + 1e-9));
  const top = Math.max(0, Math.floor(Math.min(...py) + 1e-9));
  const right = Math.min(info.width, Math.ceil(Math.max(...px) - 1e-9));
  const bottom = Math.min(info.height, Math.ceil(Math.max(...py) - 1e-9));
  if (right <= left || bottom <= top) {
    throw new SegEarthError('BAD_ARGUMENT', `The area of interest ${extent.join(',')} does not overlap the raster.`, {
      hint: `The raster covers ${info.bounds.join(',')} in its own CRS.`,
    });
  }
  return { x: left, y: top, width: right - left, height: bottom - top };
}

/** Geotransform of a window of the raster, resampled to `outWidth × outHeight`. */
export function windowGeoTransform(gt: GeoTransform, w: PixelRect, outWidth: number, outHeight: number): GeoTransform {
  const sx = w.width / outWidth;
  const sy = w.height / outHeight;
  return [gt[0] + w.x * gt[1] + w.y * gt[2], gt[1] * sx, gt[2] * sy, gt[3] + w.x * gt[4] + w.y * gt[5], gt[4] * sx, gt[5] * sy];
}

/**
 * Bilinear samples (half-pixel centres, edge clamped) of a `sw × sh` grid covering a window of `W × H` px,
 * at the pixels of `rect` (window coordinates).
 */
function sampleGrid(src: Float32Array, sw: number, sh: number, W: number, H: number, rect: PixelRect): Float32Array {
  const out = new Float32Array(rect.width * rect.height);
  const kx = sw / W;
  const ky = sh / H;
  for (let j = 0; j < rect.height; j++) {
    const fy = Math.min(Math.max((rect.y + j + 0.5) * ky - 0.5, 0), sh - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, sh - 1);
    const wy = fy - y0;
    for (let i = 0; i < rect.width; i++) {
      const fx = Math.min(Math.max((rect.x + i + 0.5) * kx - 0.5, 0), sw - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, sw - 1);
      const wx = fx - x0;
      const top = src[y0 * sw + x0]! * (1 - wx) + src[y0 * sw + x1]! * wx;
      const bot = src[y1 * sw + x0]! * (1 - wx) + src[y1 * sw + x1]! * wx;
      out[j * rect.width + i] = top * (1 - wy) + bot * wy;
    }
  }
  return out;
}

/** Nearest-neighbour resampling of a 0/1 mask to another size. */
function resampleMask(valid: Uint8Array, sw: number, sh: number, dw: number, dh: number): Float32Array {
  const out = new Float32Array(dw * dh);
  for (let y = 0; y < dh; y++) {
    const sy = Math.min(sh - 1, Math.floor(((y + 0.5) * sh) / dh));
    for (let x = 0; x < dw; x++) {
      const sx = Math.min(sw - 1, Math.floor(((x + 0.5) * sw) / dw));
      out[y * dw + x] = valid[sy * sw + sx] ? 1 : 0;
    }
  }
  return out;
}

function maxSigmoid(values: Float32Array, weights: Float32Array): number {
  let m = -Infinity;
  for (let i = 0; i < values.length; i++) if (weights[i]! > 0 && values[i]! > m) m = values[i]!;
  return m === -Infinity ? 0 : 1 / (1 + Math.exp(-m));
}

/** Adds a full-grid array to the sink in strips (bounded GDAL buffers). */
async function addInStrips(sink: ProbabilitySink, logits: Float32Array, weights: Float32Array, width: number, height: number): Promise<void> {
  const rows = Math.max(1, Math.floor((1 << 20) / width));
  for (let y = 0; y < height; y += rows) {
    const h = Math.min(rows, height - y);
    await sink.add({ x: 0, y, width, height: h }, logits.subarray(y * width, (y + h) * width), weights.subarray(y * width, (y + h) * width));
  }
}

class ProgressClock {
  private readonly t0 = performance.now();
  constructor(private readonly emit: ((p: SceneProgress) => void) | undefined) {}
  report(stage: SceneStage, message: string, fraction: number, tileIndex = 0, tileCount = 0): void {
    if (!this.emit) return;
    const elapsed = (performance.now() - this.t0) / 1000;
    const eta = fraction > 0.02 && fraction < 1 ? (elapsed * (1 - fraction)) / fraction : null;
    this.emit({ stage, message, tileIndex, tileCount, fraction: Math.min(1, Math.max(0, fraction)), etaSeconds: eta });
  }
}

/** Runs a question over a scene (see the module header). */
export async function askScene(pipeline: WindowPredictor, request: SceneRequest, deps: SceneDeps): Promise<SceneResult> {
  const started = performance.now();
  const { signal } = request;
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
  const info = await deps.openRaster(request.rasterPath);
  const aoiExtent = request.aoi ?? (request.aoiRings ? ringsExtent(request.aoiRings) : undefined);
  const window = aoiExtent ? extentToWindow(info, aoiExtent) : { x: 0, y: 0, width: info.width, height: info.height };
  /** Zero weight (probability 0) outside the polygon AOI, for `weights` on a block of the output grid. */
  const clipToRings = (weights: Float32Array, block: PixelRect, gridGt: GeoTransform): void => {
    if (request.aoiRings) maskOutsideRings(weights, block.width, block.height, windowGeoTransform(gridGt, block, block.width, block.height), request.aoiRings);
  };
  const size = pipeline.info.inputSize;
  const fitsView = Math.max(window.width, window.height) <= 2 * size;
  const strategy: Exclude<Strategy, 'auto'> =
    request.strategy === undefined || request.strategy === 'auto' ? (fitsView ? 'view' : 'coarse-to-fine') : request.strategy;
  const bandsKey = request.bands?.join(',') ?? 'default';
  const cacheKey = (key: string): string | null => (request.cacheViews === false ? null : key);

  /** Reads a pixel rect of the raster at a given size. */
  const reader = (rect: PixelRect, outWidth: number, outHeight: number) => (): Promise<RgbWindow & { valid: Uint8Array }> =>
    deps.readRegion(request.rasterPath, {
      window: { kind: 'pixel', window: rect },
      outWidth,
      outHeight,
      ...(request.bands ? { bands: request.bands } : {}),
      ...(signal ? { signal } : {}),
    });

  /** One pass over the whole window: the prediction and the valid mask on the read grid. */
  const viewPass = async (): Promise<{ prediction: WindowPrediction; valid: Uint8Array; readW: number; readH: number }> => {
    const lb = letterboxGeometry(window.width, window.height, size);
    const [readW, readH] = fitsView ? [window.width, window.height] : [lb.width, lb.height];
    const key = cacheKey(`${request.rasterPath}|${window.x},${window.y},${window.width},${window.height}|${readW}x${readH}|${bandsKey}`);
    clock.report('image', 'Reading the view and running the model', 0.05);
    const prediction = await pipeline.predict(key, reader(window, readW, readH), request.question, signal);
    return { prediction, valid: prediction.valid ?? new Uint8Array(readW * readH).fill(1), readW, readH };
  };

  let grid: RasterGrid;
  let maxProbability = 0;
  let tilesTotal = 0;
  let tilesRefined = 0;
  let viewCached = false;
  const crsWkt = info.crs?.wkt ?? null;
  const metadata = {
    SEGEARTH_QUESTION: request.question,
    SEGEARTH_MODEL: pipeline.info.modelId,
    SEGEARTH_BUNDLE_SHA256: pipeline.info.bundleSha256,
    SEGEARTH_SOURCE: request.rasterPath,
    SEGEARTH_STRATEGY: strategy,
  };

  if (strategy === 'view') {
    const maxOut = request.maxViewOutput ?? 4096;
    const f = Math.max(1, Math.max(window.width, window.height) / maxOut);
    const outW = Math.max(1, Math.round(window.width / f));
    const outH = Math.max(1, Math.round(window.height / f));
    grid = { width: outW, height: outH, geoTransform: windowGeoTransform(info.geoTransform, window, outW, outH), crsWkt };
    const { prediction, valid, readW, readH } = await viewPass();
    viewCached = prediction.cached;
    throwIfAborted(signal);
    clock.report('stitching', 'Writing the probability raster', 0.8);
    const logits = SegEarthPipeline.toGrid(prediction, outW, outH);
    const weights = resampleMask(valid, readW, readH, outW, outH);
    clipToRings(weights, { x: 0, y: 0, width: outW, height: outH }, grid.geoTransform);
    maxProbability = maxSigmoid(logits, weights);
    await writeProbabilityRaster(request.probabilityPath, grid, { overwrite: request.overwrite ?? false, ...(signal ? { signal } : {}), metadata }, (sink) =>
      addInStrips(sink, logits, weights, outW, outH),
    );
  } else {
    grid = { width: window.width, height: window.height, geoTransform: windowGeoTransform(info.geoTransform, window, window.width, window.height), crsWkt };
    const plan = planTiles(window.width, window.height, size, request.overlap ?? 128);
    tilesTotal = plan.tiles.length;
    let coarse: { logits: Float32Array; w: number; h: number } | null = null;
    let selected = plan.tiles;
    if (strategy === 'coarse-to-fine') {
      const { prediction } = await viewPass();
      const lb = prediction.letterbox;
      coarse = { logits: SegEarthPipeline.toGrid(prediction, lb.width, lb.height), w: lb.width, h: lb.height };
      const refineAbove = request.refineAbove ?? 0.25;
      const c = coarse;
      selected = plan.tiles.filter((t) => {
        const area = { x: Math.floor((t.x * c.w) / window.width), y: Math.floor((t.y * c.h) / window.height) };
        const x1 = Math.min(c.w, Math.ceil(((t.x + t.width) * c.w) / window.width));
        const y1 = Math.min(c.h, Math.ceil(((t.y + t.height) * c.h) / window.height));
        let m = -Infinity;
        for (let y = area.y; y < y1; y++) for (let x = area.x; x < x1; x++) m = Math.max(m, c.logits[y * c.w + x]!);
        return 1 / (1 + Math.exp(-m)) >= refineAbove;
      });
    }
    tilesRefined = selected.length;
    const selectedSet = new Set(selected.map((t) => t.index));
    const base = coarse ? 0.15 : 0;
    let done = 0;
    await writeProbabilityRaster(request.probabilityPath, grid, { overwrite: request.overwrite ?? false, ...(signal ? { signal } : {}), metadata }, async (sink) => {
      for (const tile of plan.tiles) {
        throwIfAborted(signal);
        const weights = tileWeights(tile, plan, window.width, window.height);
        let logits: Float32Array;
        const rect = { x: window.x + tile.x, y: window.y + tile.y, width: tile.width, height: tile.height };
        if (selectedSet.has(tile.index)) {
          clock.report('tiles', `Tile ${done + 1} of ${selected.length}`, base + ((1 - base) * 0.9 * done) / Math.max(1, selected.length), done, selected.length);
          const key = cacheKey(`${request.rasterPath}|${rect.x},${rect.y},${rect.width},${rect.height}|${tile.width}x${tile.height}|${bandsKey}`);
          const prediction = await pipeline.predict(key, reader(rect, tile.width, tile.height), request.question, signal);
          const valid = prediction.valid;
          logits = SegEarthPipeline.toGrid(prediction, tile.width, tile.height);
          if (valid) for (let i = 0; i < weights.length; i++) if (!valid[i]) weights[i] = 0;
          done++;
        } else {
          const c = coarse!;
          logits = sampleGrid(c.logits, c.w, c.h, window.width, window.height, tile);
        }
        clipToRings(weights, tile, grid.geoTransform);
        maxProbability = Math.max(maxProbability, maxSigmoid(logits, weights));
        await sink.add(tile, logits, weights);
      }
      clock.report('stitching', 'Writing the probability raster', 0.9, selected.length, selected.length);
    });
  }

  let features: FeatureSet = { crsWkt, crsCode: info.crs?.code ?? null, features: [] };
  if (!request.skipPolygons) {
    clock.report('vectorizing', 'Turning the mask into polygons', 0.95);
    try {
      features = await deps.maskToPolygons(
        { kind: 'file', path: request.probabilityPath },
        { threshold, minAreaM2: request.minAreaM2 ?? 0, ...(signal ? { signal } : {}) },
      );
    } catch (err) {
      // A run that does not finish leaves no output behind (an overwritten file cannot be restored).
      if (!request.overwrite) await rm(request.probabilityPath, { force: true });
      throw err;
    }
  }
  clock.report('vectorizing', 'Done', 1);
  return {
    probabilityPath: request.probabilityPath,
    grid,
    window,
    strategy,
    tiles: { total: tilesTotal, refined: tilesRefined },
    maxProbability,
    features,
    viewCached,
    durationMs: performance.now() - started,
  };
}
