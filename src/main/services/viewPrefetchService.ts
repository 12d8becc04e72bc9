/**
 * @module main/services/viewPrefetchService
 * `inference.prefetchView`: while the analyst types a question, the view it will be asked about (layer, AOI,
 * strategy) is read into the loaded model's view cache (`InferenceBackend.prefetch` → `InferenceRuntime.prefetch`,
 * the ask's own planning, reader and cache key), so that Ask only runs the question. Thin: the runtime does
 * the work and keeps the view (its cache's byte bound applies); this service only decides whether now is the
 * time and keeps one prefetch at a time:
 *
 * - skipped while a question runs (its view is being read anyway) or while no model is loaded (a prefetch does
 *   not load a model: the app loads it at start);
 * - the same view asked again while it is being read → the same promise (one image pass);
 * - another view (the analyst changed scene, AOI or strategy) → the previous prefetch is cancelled; so is a
 *   prefetch of a layer that is closed. A cancelled prefetch stops between two graph runs (it holds up the
 *   next question at most for the graph run in progress); a question about another view stops it in the model's
 *   worker too, and a question about its view waits for it there instead of reading the view a second time.
 */
import type { z } from 'zod';
import type { ViewPrefetchRequestSchema, ViewPrefetchResult } from '../../shared/api/dto.js';
import { isSegEarthError } from '../../shared/errors.js';
import type { InferenceBackend } from './backends.js';
import type { SettingsService } from './settingsService.js';
import type { WorkspaceService } from './workspaceService.js';

type PrefetchArgs = z.output<typeof ViewPrefetchRequestSchema>;

export interface ViewPrefetchService {
  prefetch(args: PrefetchArgs): Promise<ViewPrefetchResult>;
  /** Cancels the prefetch under way, if any (shutdown). */
  cancel(): void;
}

export interface ViewPrefetchDeps {
  workspace: WorkspaceService;
  runtime: InferenceBackend;
  settings: SettingsService;
  /** Whether a question is running now. */
  asking(): boolean;
}

const skipped = (reason: string): ViewPrefetchResult => ({ outcome: 'skipped', reason, strategy: null, durationMs: 0 });

export function createViewPrefetchService(deps: ViewPrefetchDeps): ViewPrefetchService {
  const { workspace, runtime, settings } = deps;
  let current: { view: string; layerId: string; controller: AbortController; done: Promise<ViewPrefetchResult> } | null = null;

  workspace.onRemoved((layerId) => {
    if (current?.layerId === layerId) current.controller.abort();
  });

  const run = async (args: PrefetchArgs, path: string, controller: AbortController): Promise<ViewPrefetchResult> => {
    const started = Date.now();
    try {
      const done = await runtime.prefetch!({ rasterPath: path, aoi: args.aoi, strategy: args.strategy, signal: controller.signal }, await settings.get());
      return { outcome: done.cached ? 'cached' : 'read', reason: null, strategy: done.strategy, durationMs: Date.now() - started };
    } catch (err) {
      if (controller.signal.aborted || isSegEarthError(err, 'CANCELLED')) {
        return { outcome: 'cancelled', reason: 'Another view or question came first.', strategy: null, durationMs: Date.now() - started };
      }
      throw err;
    }
  };

  return {
    async prefetch(args) {
      workspace.getLayer(args.layerId);
      if (!runtime.prefetch) return skipped('This model runtime does not read views ahead.');
      const load = (await runtime.loadState?.(await settings.get())) ?? 'loaded';
      if (load === 'not-loaded') return skipped('The model is not loaded yet.');
      if (deps.asking()) return skipped('A question is running.');
      // From here on nothing is awaited until the prefetch is `current`: a layer closed meanwhile was refused
      // here (NOT_FOUND), one closed later cancels it.
      const layer = workspace.getLayer(args.layerId);
      const view = JSON.stringify([layer.path, args.aoi, args.strategy]);
      if (current?.view === view) return current.done;
      current?.controller.abort();
      const controller = new AbortController();
      const mine = { view, layerId: layer.id, controller, done: run(args, layer.path, controller) };
      current = mine;
      void mine.done.finally(() => {
        if (current === mine) current = null;
      }).catch(() => undefined);
      return mine.done;
    },
    cancel() {
      current?.controller.abort();
    },
  };
}
