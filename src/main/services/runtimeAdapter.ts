/**
 * @module main/services/runtimeAdapter
 * The real {@link InferenceBackend}: the answer pipeline of `src/inference` (`InferenceRuntime.ask`, the one
 * `segearth ask` and `segearth batch` run) behind the narrow interface of the backend services. The model runs
 * in the runtime's worker thread (the server's event loop stays free for tiles and other calls); one worker per
 * (model folder, execution provider) is kept loaded, shared by questions and batches, so follow-up questions
 * reuse the cached image features. The model folder is the one in the settings, else `defaultModelDir`
 * (`SEGEARTH_MODEL_DIR`, `serve --model`), else the model manager's default (`ModelStore.resolveDefault`, the
 * CLI's rule) of the injected store. The polygon step (`answerPolygons`, also behind the threshold and
 * minimum-area sliders) runs in the geo process (`inference/worker/geoClient`): vectorizing a large answer is
 * seconds of synchronous work that would otherwise stop every other request.
 */
import { createRequire } from 'node:module';
import { EP_LABEL, selectExecutionProvider, type EpChoice, type EpRequest } from '../../inference/providers/executionProvider.js';
import { defaultSceneDeps, InferenceRuntime, type PolygonStep } from '../../inference/runtime/runtime.js';
import { workerSceneProcessor } from '../../inference/batch/workerProcessor.js';
import type { SceneAoi } from '../../inference/scene/scene.js';
import type { ViewRequest } from '../../inference/scene/viewPrefetch.js';
import { InferenceWorker } from '../../inference/worker/client.js';
import { GeoWorker } from '../../inference/worker/geoClient.js';
import { readBundleFacts } from '../../inference/models/bundleFacts.js';
import type { ModelStore } from '../../inference/models/ModelStore.js';
import { gridExtent } from '../../geo/geoTransform.js';
import type { Aoi, ModelLoad, ModelStatus } from '../../shared/api/dto.js';
import { isSegEarthError, SegEarthError } from '../../shared/errors.js';
import type { EpStatus, InferenceBackend, InferencePrefetchRequest } from './backends.js';

/** Side of the heatmap the app keeps per answer. */
const HEATMAP_SIZE = 1024;

/**
 * The view side of the app's question (raster, AOI, strategy; no band override): one function for `ask` and
 * `prefetch`, so that a prefetched view is the one the question reads.
 */
function viewSide(request: InferencePrefetchRequest): ViewRequest {
  const aoi = sceneAoi(request.aoi);
  return { rasterPath: request.rasterPath, ...(aoi ? { aoi } : {}), strategy: request.strategy };
}

/** The app's area of interest → the runtime's (undefined = the whole scene). */
function sceneAoi(aoi: Aoi): SceneAoi | undefined {
  switch (aoi.kind) {
    case 'scene':
      return undefined;
    case 'polygon':
      return { polygons: [[aoi.ring]] };
    default:
      return aoi.extent;
  }
}

function describeFallback(choice: EpChoice, requested: string): string | null {
  if (requested !== 'auto' || choice.skipped.length === 0) return null;
  return choice.skipped.map((s) => `${EP_LABEL[s.provider]}: ${s.reason}`).join('; ');
}

export interface RuntimeAdapterOptions {
  /** The model manager (the same instance as the Model & device dialog's). */
  store: ModelStore;
  /** A bundle folder used when the settings name none (`SEGEARTH_MODEL_DIR`, `serve --model`). */
  defaultModelDir?: string | null;
}

export function createRuntimeAdapter(options: RuntimeAdapterOptions): InferenceBackend {
  const workers = new Map<string, Promise<InferenceWorker>>();
  /** Load state per worker key (absent: not loaded). */
  const loads = new Map<string, ModelLoad>();
  const epChoices = new Map<string, Promise<EpChoice>>();
  /** The geo process: started with the first polygons asked for, shared by questions, sliders and batches. */
  const geo = new GeoWorker();
  const polygonStep: PolygonStep = (path, settings, provenance) => geo.answerPolygons(path, settings, provenance);
  /** Views being read ahead of their question (`prefetch`) now. */
  let prefetching = 0;

  const chooseEp = (requested: string): Promise<EpChoice> => {
    let choice = epChoices.get(requested);
    if (!choice) {
      choice = selectExecutionProvider({ request: requested as EpRequest });
      choice.catch(() => epChoices.delete(requested));
      epChoices.set(requested, choice);
    }
    return choice;
  };

  const status = async (modelDir: string | null): Promise<ModelStatus> => {
    const none: ModelStatus = { state: 'missing', dir: null, id: null, name: null, variant: null, examples: [], problem: null };
    const dir = modelDir ?? options.defaultModelDir ?? null;
    let facts: { id: string; name: string; variant: string; testFixture: boolean; dir: string };
    if (dir) {
      try {
        facts = { ...(await readBundleFacts(dir)), dir };
      } catch (err) {
        if (isSegEarthError(err, 'MODEL_NOT_FOUND')) return { ...none, dir, problem: `${dir} holds no model bundle (manifest.json is missing).` };
        return { ...none, dir, state: 'invalid', problem: isSegEarthError(err) ? err.describe() : String(err) };
      }
    } else {
      const found = await options.store.resolveDefault().catch(() => null);
      if (!found) return { ...none, problem: 'No SegEarth-R1 model bundle is installed.' };
      facts = found;
    }
    return {
      state: 'ready',
      dir: facts.dir,
      id: facts.id,
      name: facts.testFixture && !/test fixture/i.test(facts.name) ? `${facts.name} (test fixture, random weights)` : facts.name,
      variant: facts.variant,
      examples: [],
      problem: null,
    };
  };

  const keyOf = (dir: string, ep: string): string => `${dir}\u0000${ep}`;

  /**
   * One loaded worker per (model folder, execution provider), shared by questions and batches. `warmUp`: when
   * this call starts the worker, warm it up once loaded (`InferenceWorker.warmUp`; a question stops it).
   */
  const workerFor = (dir: string, ep: string, warmUp = false): Promise<InferenceWorker> => {
    const key = keyOf(dir, ep);
    let starting = workers.get(key);
    if (!starting) {
      loads.set(key, 'loading');
      starting = InferenceWorker.start({ modelDir: dir, ep: ep as EpRequest });
      starting.then(
        (worker) => {
          if (!warmUp) return void loads.set(key, 'loaded');
          loads.set(key, 'warming-up');
          void worker
            .warmUp()
            .catch(() => undefined)
            .finally(() => {
              if (workers.get(key) === starting) loads.set(key, 'loaded');
            });
        },
        () => {
          workers.delete(key);
          loads.delete(key);
        },
      );
      workers.set(key, starting);
    }
    return starting;
  };

  /** The key of the worker these settings use, when they name a usable model. */
  const keyFor = async (settings: { modelDir: string | null; executionProvider: string }): Promise<string | null> => {
    const st = await status(settings.modelDir);
    return st.state === 'ready' && st.dir ? keyOf(st.dir, settings.executionProvider) : null;
  };

  /** The loaded runtime of the settings' model (not disposed by its users: the worker stays loaded). */
  const runtimeFor = async (settings: { modelDir: string | null; executionProvider: string }): Promise<InferenceRuntime> => {
    const st = await status(settings.modelDir);
    if (st.state !== 'ready' || !st.dir) {
      throw new SegEarthError(st.state === 'invalid' ? 'MODEL_INVALID' : 'MODEL_NOT_FOUND', st.problem ?? 'No model is installed.');
    }
    const worker = await workerFor(st.dir, settings.executionProvider);
    epChoices.set(settings.executionProvider, Promise.resolve(worker.executionProvider));
    return InferenceRuntime.fromWorker(worker, defaultSceneDeps, polygonStep);
  };

  return {
    modelStatus: status,
    async prepare(settings) {
      const st = await status(settings.modelDir);
      if (st.state !== 'ready' || !st.dir) return;
      // A failure is reported by the first question, which starts the worker again.
      await workerFor(st.dir, settings.executionProvider, true).then(
        () => undefined,
        () => undefined,
      );
    },
    async loadState(settings) {
      const key = await keyFor(settings);
      return (key && loads.get(key)) || 'not-loaded';
    },
    async graphStats(settings) {
      const key = await keyFor(settings);
      const worker = key ? workers.get(key) : undefined;
      return worker ? (await (await worker).stats()).stats : null;
    },
    async executionProvider(requested): Promise<EpStatus> {
      try {
        const choice = await chooseEp(requested);
        return { active: EP_LABEL[choice.provider], fallbackReason: describeFallback(choice, requested), notes: choice.notes ?? [] };
      } catch (err) {
        return { active: null, fallbackReason: err instanceof Error ? err.message : String(err), notes: [] };
      }
    },
    async ask(request, settings) {
      request.onProgress({ stage: 'loading-model', message: 'Loading the model', tileIndex: 0, tileCount: 0, fraction: 0, etaSeconds: null });
      // The geo process starts (once) while the model runs, so the polygon step does not wait for it.
      void geo.start();
      const runtime = await runtimeFor(settings);
      if (prefetching > 0) {
        // The model is busy with a view read ahead (this question's, or a stale one it stops between two graph runs).
        request.onProgress({ stage: 'reading', message: 'Finishing the view read while you typed', tileIndex: 0, tileCount: 0, fraction: 0, etaSeconds: null });
      }
      const answer = await runtime.ask(
        {
          ...viewSide(request),
          question: request.question,
          probabilityPath: request.probabilityPath,
          threshold: request.threshold,
          minAreaM2: request.minAreaM2,
          previewMaxSize: HEATMAP_SIZE,
          // The app's own copy (its exports write new files): the fast compression.
          probabilityCompression: 'zstd',
        },
        { signal: request.signal, onProgress: (p) => request.onProgress({ ...p }) },
      );
      return {
        features: answer.features,
        maxProbability: answer.maxProbability,
        probability: { extent: gridExtent(answer.grid.geoTransform, answer.grid.width, answer.grid.height), width: answer.grid.width, height: answer.grid.height },
        preview: answer.preview,
        modelId: answer.model.id,
        bundleSha256: answer.model.bundleSha256,
        executionProvider: EP_LABEL[answer.executionProvider.provider],
        createdAt: answer.createdAt,
      };
    },
    async prefetch(request, settings) {
      const runtime = await runtimeFor(settings);
      prefetching++;
      try {
        const done = await runtime.prefetch(viewSide(request), { signal: request.signal });
        return { cached: done.cached, strategy: done.strategy };
      } finally {
        prefetching--;
      }
    },
    polygons: polygonStep,
    async batchModel(settings) {
      const runtime = await runtimeFor(settings);
      return {
        key: `${runtime.model.id}@${runtime.model.bundleSha256.slice(0, 16)}`,
        executionProvider: EP_LABEL[runtime.executionProvider.provider],
        processor: (strategy) => workerSceneProcessor(runtime, strategy),
      };
    },
    async dispose() {
      const all = [...workers.values()];
      workers.clear();
      loads.clear();
      await Promise.all([...all.map((w) => w.then((x) => x.dispose()).catch(() => undefined)), geo.dispose()]);
    },
    version() {
      try {
        const require = createRequire(import.meta.url);
        return (require('onnxruntime-node/package.json') as { version: string }).version;
      } catch {
        return null;
      }
    },
  };
}
