/**
 * @module inference/scene/tiledStrategy
 * `tiled`: full-resolution tiles of the input size with `overlap` px of overlap, logits blended with a smooth
 * window and stitched tile by tile into the GeoTIFF (memory bounded by one tile for any scene size).
 *
 * `coarse-to-fine`: a `view` pass over the AOI picks the tiles whose coarse probability reaches `refineAbove`;
 * only those get a full-resolution pass, the others keep the (bilinearly sampled) coarse logits.
 */
import { windowGeoTransform } from '../../geo/geoTransform.js';
import { writeProbabilityRaster, type RasterGrid } from '../../geo/probabilityRaster.js';
import { throwIfAborted } from '../sessions/model.js';
import { SegEarthPipeline } from '../pipeline/pipeline.js';
import { sampleGrid } from './gridResampling.js';
import { rectRead, viewPass, type ScenePlan, type SceneRun } from './sceneRun.js';
import { planTiles, tileWeights, type PixelRect, type TilePlan } from './tiling.js';
import type { StrategyOutcome } from './viewStrategy.js';

/** The coarse logits of a `view` pass over the whole window (letterboxed read grid). */
interface CoarseLogits {
  logits: Float32Array;
  w: number;
  h: number;
}

/** Tiles whose highest coarse probability reaches `refineAbove`. */
function tilesToRefine(plan: TilePlan, coarse: CoarseLogits, window: PixelRect, refineAbove: number): TilePlan['tiles'] {
  return plan.tiles.filter((t) => {
    const x0 = Math.floor((t.x * coarse.w) / window.width);
    const y0 = Math.floor((t.y * coarse.h) / window.height);
    const x1 = Math.min(coarse.w, Math.ceil(((t.x + t.width) * coarse.w) / window.width));
    const y1 = Math.min(coarse.h, Math.ceil(((t.y + t.height) * coarse.h) / window.height));
    let m = -Infinity;
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m = Math.max(m, coarse.logits[y * coarse.w + x]!);
    return 1 / (1 + Math.exp(-m)) >= refineAbove;
  });
}

/** The tile plan of a run's window (`overlap` px of overlap, default 128). */
export function tilePlanOf(plan: Pick<ScenePlan, 'window' | 'size' | 'request'>): TilePlan {
  return planTiles(plan.window.width, plan.window.height, plan.size, plan.request.overlap ?? 128);
}

/** A tile of the plan as a pixel rect of the scene. */
export function tileRect(window: PixelRect, tile: PixelRect): PixelRect {
  return { x: window.x + tile.x, y: window.y + tile.y, width: tile.width, height: tile.height };
}

export async function runTiled(run: SceneRun, coarseToFine: boolean): Promise<StrategyOutcome> {
  const { window, info, request, pipeline } = run;
  const { signal } = request;
  const grid: RasterGrid = {
    width: window.width,
    height: window.height,
    geoTransform: windowGeoTransform(info.geoTransform, window, window.width, window.height),
    crsWkt: info.crs?.wkt ?? null,
  };
  const plan = tilePlanOf(run);
  let coarse: CoarseLogits | null = null;
  let selected = plan.tiles;
  if (coarseToFine) {
    const { prediction } = await viewPass(run);
    const lb = prediction.letterbox;
    coarse = { logits: SegEarthPipeline.toGrid(prediction, lb.width, lb.height), w: lb.width, h: lb.height };
    selected = tilesToRefine(plan, coarse, window, request.refineAbove ?? 0.25);
  }
  const selectedSet = new Set(selected.map((t) => t.index));
  const base = coarse ? 0.15 : 0;
  let done = 0;
  const written = await writeProbabilityRaster(request.probabilityPath, grid, run.writeOptions, async (sink) => {
    for (const tile of plan.tiles) {
      throwIfAborted(signal);
      const weights = tileWeights(tile, plan, window.width, window.height);
      let logits: Float32Array;
      if (selectedSet.has(tile.index)) {
        run.clock.report('tiles', `Tile ${done + 1} of ${selected.length}`, base + ((1 - base) * 0.9 * done) / Math.max(1, selected.length), done, selected.length);
        const { key, read } = rectRead(run, tileRect(window, tile));
        const prediction = await pipeline.predict(key, read, request.question, signal);
        const valid = prediction.valid;
        logits = SegEarthPipeline.toGrid(prediction, tile.width, tile.height);
        if (valid) for (let i = 0; i < weights.length; i++) if (!valid[i]) weights[i] = 0;
        done++;
      } else {
        const c = coarse!;
        logits = sampleGrid(c.logits, c.w, c.h, window.width, window.height, tile);
      }
      await sink.add(tile, logits, weights);
    }
    request.onModelDone?.();
    run.clock.report('stitching', 'Writing the probability raster', 0.9, selected.length, selected.length);
  });
  return { grid, written, tiles: { total: plan.tiles.length, refined: selected.length }, viewCached: false };
}
