/**
 * @module inference/scene/viewPrefetch
 * A scene's first model pass read ahead of its question: the analyst opens a scene (or draws an AOI) and then
 * spends seconds typing; the image side of the pass (image graph + LLM over the image tokens and instruction
 * text) does not depend on the question, so it runs meanwhile, into the model's view cache, and the question
 * then only runs its own tokens and the head — as a follow-up question does (SAM demos compute the image
 * embedding on load the same way).
 *
 * Exactly the pass the question would run first, planned by the same rule (`scene.planScene`) and read
 * through the same reader under the same cache key (`sceneRun.viewRead` / `rectRead`), so it is a cache hit:
 * - `view`: the view pass over the AOI;
 * - `coarse-to-fine`: its coarse view pass (which tiles it refines depends on the question: those are not read);
 * - `tiled`: the first tile (the others follow one by one during the run; reading them all ahead would hold
 *   a whole scene's views in the cache and minutes of work for a question that may never be asked).
 * Nothing is read when the request does not cache views (`cacheViews: false`).
 */
import type { PrefetchedView, WindowPredictor } from '../pipeline/pipeline.js';
import type { Strategy } from '../../shared/strategies.js';
import { planScene, type SceneDeps } from './scene.js';
import { rectRead, viewRead, type PassRead, type ScenePlan, type ViewRequest } from './sceneRun.js';
import { tilePlanOf, tileRect } from './tiledStrategy.js';

export type { ViewRequest } from './sceneRun.js';

export interface PrefetchedScene extends PrefetchedView {
  /** The strategy the question will run (`auto` resolved). */
  strategy: Exclude<Strategy, 'auto'>;
  /** The view-cache key read (null: the request caches no views, nothing was read). */
  key: string | null;
}

/** The read of the first model pass a question with this plan runs. */
export function firstPassRead(plan: ScenePlan): PassRead {
  if (plan.strategy !== 'tiled') return viewRead(plan);
  const first = tilePlanOf(plan).tiles[0]!;
  return rectRead(plan, tileRect(plan.window, first));
}

/** Reads and encodes the first pass of a question about this scene and AOI into the view cache. */
export async function prefetchScene(pipeline: WindowPredictor, request: ViewRequest, deps: SceneDeps): Promise<PrefetchedScene> {
  const plan = await planScene(pipeline, request, deps);
  const { key, read } = firstPassRead(plan);
  if (key === null) return { strategy: plan.strategy, key, cached: false, ms: 0 };
  return { strategy: plan.strategy, key, ...(await pipeline.prefetch(key, read, request.signal)) };
}
