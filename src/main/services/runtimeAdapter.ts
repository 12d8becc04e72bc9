/**
 * @module main/services/runtimeAdapter
 * The real {@link InferenceRuntime}: `src/inference` (SegEarth-R1 on onnxruntime-node) behind the narrow
 * interface of the inference service. The model runs in the runtime's worker thread (the server's event loop
 * stays free for tiles and other calls); one worker per (model folder, execution provider) is kept loaded,
 * so follow-up questions reuse the cached image features. The model folder is the one in the settings, else
 * `SEGEARTH_MODEL_DIR`, else the default bundle of the model manager.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { ringsExtent } from '../../geo/aoiMask.js';
import { ManifestSchema } from '../../inference/bundle/manifest.js';
import { EP_LABEL, selectExecutionProvider, type EpChoice, type EpRequest } from '../../inference/providers/executionProvider.js';
import { defaultSceneDeps, InferenceRuntime as SceneRuntime } from '../../inference/runtime/runtime.js';
import { workerSceneProcessor } from '../../inference/batch/workerProcessor.js';
import { annotateFeatures } from '../../inference/scene/result.js';
import { askScene, type Strategy } from '../../inference/scene/scene.js';
import { InferenceWorker } from '../../inference/worker/client.js';
import { ModelStore } from '../../inference/models/ModelStore.js';
import type { ModelLoad, ModelStatus } from '../../shared/api/dto.js';
import { SegEarthError } from '../../shared/errors.js';
import type { EpStatus, InferenceRuntime } from './backends.js';

const STRATEGY: Record<string, Strategy> = { auto: 'auto', 'single-pass': 'view', tiled: 'tiled', 'coarse-to-fine': 'coarse-to-fine' };

function describeFallback(choice: EpChoice, requested: string): string | null {
  if (requested !== 'auto' || choice.skipped.length === 0) return null;
  return choice.skipped.map((s) => `${EP_LABEL[s.provider]}: ${s.reason}`).join('; ');
}

export function createRuntimeAdapter(options: { defaultModelDir?: string | null } = {}): InferenceRuntime {
  const workers = new Map<string, Promise<InferenceWorker>>();
  /** Load state per worker key (absent: not loaded). */
  const loads = new Map<string, ModelLoad>();
  const epChoices = new Map<string, Promise<EpChoice>>();

  const chooseEp = (requested: string): Promise<EpChoice> => {
    let choice = epChoices.get(requested);
    if (!choice) {
      choice = selectExecutionProvider({ request: requested as EpRequest });
      choice.catch(() => epChoices.delete(requested));
      epChoices.set(requested, choice);
    }
    return choice;
  };

  const resolveDir = async (modelDir: string | null): Promise<string | null> => {
    if (modelDir) return modelDir;
    if (options.defaultModelDir) return options.defaultModelDir;
    if (process.env.SEGEARTH_MODEL_DIR) return process.env.SEGEARTH_MODEL_DIR;
    try {
      const { models } = await new ModelStore().list();
      // A real model before the tiny test fixture; the default of its variant first.
      const ok = models.filter((m) => m.verify.state !== 'failed').sort((a, b) => Number(a.variant === 'tiny-test') - Number(b.variant === 'tiny-test'));
      const usable = ok.find((m) => m.isDefault && m.variant !== 'tiny-test') ?? ok[0];
      return usable?.dir ?? null;
    } catch {
      return null;
    }
  };

  const status = async (modelDir: string | null): Promise<ModelStatus> => {
    const dir = await resolveDir(modelDir);
    const none: ModelStatus = { state: 'missing', dir, id: null, name: null, variant: null, examples: [], problem: null };
    if (!dir) return { ...none, problem: 'No SegEarth-R1 model bundle is installed.' };
    let text: string;
    try {
      text = await readFile(join(dir, 'manifest.json'), 'utf8');
    } catch {
      return { ...none, problem: `${dir} holds no model bundle (manifest.json is missing).` };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { ...none, state: 'invalid', problem: `${join(dir, 'manifest.json')} is not valid JSON.` };
    }
    const parsed = ManifestSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return { ...none, state: 'invalid', problem: `The bundle in ${dir} has an invalid manifest (${issue?.path.join('.')}: ${issue?.message}). Re-export it with tools/export.` };
    }
    const m = parsed.data;
    return {
      state: 'ready',
      dir,
      id: m.id,
      name: m.testFixture && !/test fixture/i.test(m.name) ? `${m.name} (test fixture, random weights)` : m.name,
      variant: m.variant,
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
    async run(request, settings) {
      const st = await status(settings.modelDir);
      if (st.state !== 'ready' || !st.dir) {
        throw new SegEarthError(st.state === 'invalid' ? 'MODEL_INVALID' : 'MODEL_NOT_FOUND', st.problem ?? 'No model is installed.');
      }
      const dir = st.dir;
      request.onProgress({ stage: 'loading-model', message: 'Loading the model', tileIndex: 0, tileCount: 0, fraction: 0, etaSeconds: null });
      const worker = await workerFor(dir, settings.executionProvider);
      const epChoice = worker.executionProvider;
      epChoices.set(settings.executionProvider, Promise.resolve(epChoice));
      const aoi = request.aoi;
      const extent =
        aoi.kind === 'scene'
          ? undefined
          : aoi.kind === 'polygon'
            ? ringsExtent([aoi.ring])
            : aoi.extent;
      await askScene(
        worker,
        {
          rasterPath: request.rasterPath,
          question: request.question,
          ...(extent ? { aoi: extent } : {}),
          strategy: STRATEGY[request.strategy] ?? 'auto',
          probabilityPath: request.probabilityPath,
          skipPolygons: true,
          signal: request.signal,
          onProgress: (p) => request.onProgress({ ...p }),
        },
        defaultSceneDeps,
      );
      return { modelId: worker.model.id, bundleSha256: worker.model.bundleSha256, executionProvider: EP_LABEL[epChoice.provider] };
    },
    async batchModel(settings) {
      const st = await status(settings.modelDir);
      if (st.state !== 'ready' || !st.dir) {
        throw new SegEarthError(st.state === 'invalid' ? 'MODEL_INVALID' : 'MODEL_NOT_FOUND', st.problem ?? 'No model is installed.');
      }
      const worker = await workerFor(st.dir, settings.executionProvider);
      epChoices.set(settings.executionProvider, Promise.resolve(worker.executionProvider));
      // Not disposed by the batch: the worker stays loaded for the question panel.
      const runtime = SceneRuntime.fromWorker(worker);
      return {
        key: `${worker.model.id}@${worker.model.bundleSha256.slice(0, 16)}`,
        executionProvider: EP_LABEL[worker.executionProvider.provider],
        processor: (strategy) => workerSceneProcessor(runtime, strategy),
      };
    },
    annotate: (features, probabilityPath, provenance) => annotateFeatures(features, probabilityPath, provenance),
    async dispose() {
      const all = [...workers.values()];
      workers.clear();
      loads.clear();
      await Promise.all(all.map((w) => w.then((x) => x.dispose()).catch(() => undefined)));
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
