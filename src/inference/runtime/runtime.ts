/**
 * @module inference/runtime/runtime
 * The answer pipeline: one loaded model (sessions created once and reused), its view cache, and
 * `ask(request)` = question + scene + AOI (+ threshold, minimum area, strategy) → probability GeoTIFF (the
 * polygon AOI applied once, by its writer) → polygons with provenance, plus the exact highest probability and,
 * when asked, a decimated copy of the probabilities. `segearth ask`, `segearth batch` (through
 * `batch/workerProcessor`) and the app (`main/services/runtimeAdapter`, for the question panel and batches) all
 * call it; the app re-runs only its last step (`answerPolygons`) when the threshold or minimum area changes.
 * By default the model runs in the worker thread (`worker/`): this thread only reads rasters and writes
 * GeoTIFFs, with gdal-async's asynchronous calls.
 */
import { openRaster } from '../../geo/openRaster.js';
import { readRegion } from '../../geo/readRegion.js';
import { vectorizeMask } from '../../geo/maskToPolygons.js';
import { SegEarthPipeline, type PipelineOptions } from '../pipeline/pipeline.js';
import { askScene, type SceneDeps, type SceneRequest, type SceneResult } from '../scene/scene.js';
import { answerPolygonLayer, answerPolygons, PROVENANCE_FIELDS, type PolygonSettings, type Provenance } from '../scene/result.js';
import { prefetchScene, type PrefetchedScene, type ViewRequest } from '../scene/viewPrefetch.js';
import { PolygonLayer } from '../../geo/polygonLayer.js';
import { srsFromUserInput } from '../../geo/gisOrderTransform.js';
import { rm } from 'node:fs/promises';
import { SegEarthError } from '../../shared/errors.js';
import type { FeatureSet } from '../../shared/featureSet.js';
import type { EpChoice } from '../providers/executionProvider.js';
import { InferenceWorker } from '../worker/client.js';
import type { WorkerKind } from '../worker/workerHost.js';
import { modelInfoOf, type ModelInfo } from '../worker/protocol.js';
import type { RunStats } from '../sessions/model.js';

/** The geo engine, as the runtime uses it (injectable for tests). */
export const defaultSceneDeps: SceneDeps = {
  openRaster,
  readRegion: (path, options) =>
    readRegion(path, {
      window: options.window,
      outWidth: options.outWidth,
      outHeight: options.outHeight,
      ...(options.bands ? { bands: [...options.bands] } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    }),
  vectorizeMask: (input, options) => vectorizeMask(input, options),
};

export type { ModelInfo } from '../worker/protocol.js';

/**
 * The polygon step, `scene/result.answerPolygons` with its vectorizer bound: in this thread by default; the app
 * passes the geo process's (`worker/geoClient.GeoWorker.answerPolygons`), so that its event loop stays free.
 */
export type PolygonStep = (probabilityPath: string, settings: PolygonSettings, provenance: Omit<Provenance, 'threshold'>) => Promise<FeatureSet>;

export interface AskResult<F = FeatureSet> extends SceneResult {
  /** Polygons with provenance (empty when `skipPolygons`). */
  features: F;
  model: ModelInfo;
  executionProvider: EpChoice;
  createdAt: string;
  threshold: number;
}

export type AskOptions = Pick<SceneRequest, 'signal' | 'onProgress'> & { releaseModelBeforePolygons?: boolean };

export interface RuntimeOptions extends PipelineOptions {
  /**
   * Run the model in a worker thread (default true): the calling thread never blocks on a graph run, so an
   * Electron main process, a server or a progress bar stays responsive. `false` runs in-process (tests).
   */
  worker?: boolean;
  /** Where the worker runs (`worker/workerHost`): a thread (default), or a child process for a one-shot question. */
  host?: WorkerKind;
}

/**
 * The inference service: `InferenceRuntime.open(modelDir)` once, then `ask(request)` per question. Sessions
 * are created once and reused; views are cached in the model's thread.
 */
export class InferenceRuntime {
  /** Set once the model is released (`dispose`, or `releaseModelBeforePolygons`): no more questions. */
  private released = false;

  private constructor(
    private readonly predictor: SegEarthPipeline | InferenceWorker,
    readonly model: ModelInfo,
    readonly executionProvider: EpChoice,
    private readonly deps: SceneDeps,
    private readonly polygonStep: PolygonStep = (path, settings, provenance) => answerPolygons(path, settings, provenance, deps.vectorizeMask),
  ) {}

  static async open(modelDir: string, options: RuntimeOptions = {}, deps: SceneDeps = defaultSceneDeps): Promise<InferenceRuntime> {
    const { worker = true, host, ...pipelineOptions } = options;
    if (worker) {
      const w = await InferenceWorker.start({
        modelDir,
        ...(pipelineOptions.ep ? { ep: pipelineOptions.ep } : {}),
        ...(pipelineOptions.epChoice ? { epChoice: pipelineOptions.epChoice } : {}),
        ...(pipelineOptions.threads ? { threads: pipelineOptions.threads } : {}),
        ...(pipelineOptions.viewCacheBytes ? { viewCacheBytes: pipelineOptions.viewCacheBytes } : {}),
        ...(host ? { host } : {}),
      });
      return new InferenceRuntime(w, w.model, w.executionProvider, deps);
    }
    const p = await SegEarthPipeline.create(modelDir, pipelineOptions);
    return new InferenceRuntime(p, modelInfoOf(p), p.model.ep, deps);
  }

  /**
   * A runtime over a worker that is already loaded (the app shares one worker between the question panel and
   * batches, so the model is in memory once). Disposing this runtime stops the worker: owners of a shared
   * worker must not. `polygonStep`: where the polygons are made (default: in this thread).
   */
  static fromWorker(worker: InferenceWorker, deps: SceneDeps = defaultSceneDeps, polygonStep?: PolygonStep): InferenceRuntime {
    return new InferenceRuntime(worker, worker.model, worker.executionProvider, deps, polygonStep);
  }

  /** The polygons of a probability raster this runtime wrote, at other settings (threshold, minimum area). */
  polygons(probabilityPath: string, settings: { threshold: number; minAreaM2: number; signal?: AbortSignal }, provenance: { question: string; source: string; createdAt: string }): Promise<FeatureSet> {
    return this.polygonStep(probabilityPath, settings, { ...provenance, modelId: this.model.id, bundleSha256: this.model.bundleSha256 });
  }

  /** `polygons` as OGR geometries (`scene/result.answerPolygonLayer`), always in this thread; the caller closes them. */
  polygonLayer(probabilityPath: string, settings: PolygonSettings, provenance: { question: string; source: string; createdAt: string }): Promise<PolygonLayer> {
    return answerPolygonLayer(probabilityPath, settings, { ...provenance, modelId: this.model.id, bundleSha256: this.model.bundleSha256 }, this.deps.vectorizeMask);
  }

  /**
   * Answers a question about a scene (see the module header); features carry provenance and mean probability.
   * `signal` / `onProgress` may be given in the request or in `options`. `releaseModelBeforePolygons` (a
   * one-shot ask, e.g. `segearth ask`): the model is released as soon as its last graph has run (while the
   * probability raster's last pass is written), so its memory is not held while stitching and vectorizing — the
   * runtime answers no further question.
   */
  ask(request: SceneRequest, options: AskOptions = {}): Promise<AskResult> {
    const empty = (scene: SceneResult): FeatureSet => ({ crsWkt: scene.grid.crsWkt, crsCode: scene.crsCode, features: [] });
    return this.#ask(request, options, (path, settings, provenance) => this.polygons(path, settings, provenance), empty);
  }

  /**
   * `ask` with the polygons left as OGR geometries (`geo/polygonLayer`, made in this thread by
   * `scene/result.answerPolygonLayer`), for a caller that writes them straight to a file (`segearth ask`): no
   * DTO of the whole answer is made. The caller closes `features`.
   */
  askToLayer(request: SceneRequest, options: AskOptions = {}): Promise<AskResult<PolygonLayer>> {
    const empty = (scene: SceneResult): PolygonLayer =>
      new PolygonLayer(scene.grid.crsWkt === null ? null : srsFromUserInput(scene.grid.crsWkt), PROVENANCE_FIELDS);
    return this.#ask(request, options, (path, settings, provenance) => this.polygonLayer(path, settings, provenance), empty);
  }

  async #ask<F>(
    request: SceneRequest,
    options: AskOptions,
    polygons: (probabilityPath: string, settings: PolygonSettings, provenance: { question: string; source: string; createdAt: string }) => Promise<F>,
    empty: (scene: SceneResult) => F,
  ): Promise<AskResult<F>> {
    const { releaseModelBeforePolygons = false, ...callbacks } = options;
    request = { ...callbacks, ...request };
    if (this.released) throw new SegEarthError('INTERNAL', 'This runtime has released its model.', { hint: 'Open a new InferenceRuntime for another question.' });
    const createdAt = new Date().toISOString();
    const threshold = request.threshold ?? 0.5;
    // A one-shot ask releases the model as soon as its last graph has run: the probability raster's last pass is
    // written, and the polygons made, without it.
    let releasing: Promise<void> | null = null;
    // (Started while the scene run goes on, so never left to reject unawaited: a model that fails to release is
    // not used again either way.)
    const release = (): Promise<void> => (releasing ??= this.dispose().catch(() => undefined));
    const scene = await askScene(this.predictor, releaseModelBeforePolygons ? { ...request, onModelDone: () => void release() } : request, this.deps);
    if (releaseModelBeforePolygons) await release();
    let features: F;
    if (!request.skipPolygons) {
      const step = { tileIndex: 0, tileCount: 0, etaSeconds: null };
      request.onProgress?.({ stage: 'vectorizing', message: 'Turning the mask into polygons', fraction: 0.95, ...step });
      try {
        features = await polygons(
          request.probabilityPath,
          { threshold, minAreaM2: request.minAreaM2 ?? 0, ...(request.signal ? { signal: request.signal } : {}) },
          { question: request.question.trim(), source: request.rasterPath, createdAt },
        );
      } catch (err) {
        // A run that does not finish leaves no output behind (an overwritten file cannot be restored).
        if (!request.overwrite) await rm(request.probabilityPath, { force: true });
        throw err;
      }
      request.onProgress?.({ stage: 'vectorizing', message: 'Done', fraction: 1, ...step });
    } else {
      features = empty(scene);
    }
    return { ...scene, features, model: this.model, executionProvider: this.executionProvider, createdAt, threshold };
  }

  /**
   * Reads the first model pass of a question about this scene, AOI, band mapping and strategy into the view
   * cache, ahead of the question (`scene/viewPrefetch`): an `ask` with the same view side then finds it cached
   * and runs only the question's tokens and the head. In the worker, an `ask` about the same view asked
   * meanwhile waits for it (one image pass, not two); an `ask` about another view, or a newer prefetch, stops
   * it between two graph runs (it rejects with CANCELLED), as does `signal`.
   */
  async prefetch(request: ViewRequest, options: { signal?: AbortSignal } = {}): Promise<PrefetchedScene> {
    if (this.released) throw new SegEarthError('INTERNAL', 'This runtime has released its model.', { hint: 'Open a new InferenceRuntime for another question.' });
    return prefetchScene(this.predictor, { ...options, ...request }, this.deps);
  }

  /** Graph run counters and times (tests, benchmarks, logs). */
  async stats(): Promise<RunStats> {
    return this.predictor instanceof InferenceWorker ? (await this.predictor.stats()).stats : this.predictor.model.stats;
  }

  /** What the view cache holds now: views, their bytes, evictions so far (tests, logs). */
  async cacheInfo(): Promise<{ views: number; bytes: number; evictions: number }> {
    return this.predictor instanceof InferenceWorker ? (await this.predictor.stats()).cache : this.predictor.cacheInfo;
  }

  /** Frees the cached views (image features and KV caches). */
  async clearCaches(): Promise<void> {
    if (this.predictor instanceof InferenceWorker) await this.predictor.clearCaches();
    else this.predictor.clearViews();
  }

  /** Releases the sessions (and stops the worker). Idempotent. */
  async dispose(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.predictor.dispose();
  }
}
