/**
 * @module inference/runtime
 * The in-process inference service: one loaded model (sessions created once and reused), its view cache, and
 * `ask(request)` = scene strategy → probability GeoTIFF → polygons with provenance. This is what the worker
 * thread hosts (`worker/inference.worker.ts`); callers on the main thread use `worker/client.ts`, whose
 * `InferenceWorker.ask` has the same request and result types.
 */
import { openRaster } from '../geo/openRaster.js';
import { readRegion } from '../geo/readRegion.js';
import { maskToPolygons } from '../geo/maskToPolygons.js';
import { SegEarthPipeline, type PipelineOptions } from './pipeline.js';
import { askScene, type SceneDeps, type SceneRequest, type SceneResult } from './scene.js';
import { annotateFeatures } from './result.js';
import type { EpChoice } from './executionProvider.js';
import type { RunStats } from './model.js';

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
  maskToPolygons: (input, options) => maskToPolygons(input, options),
};

export interface ModelInfo {
  id: string;
  name: string;
  variant: string;
  /** sha256 of the bundle's manifest.json. */
  bundleSha256: string;
  /** True for generated test fixtures (random weights). */
  testFixture: boolean;
  dir: string;
}

export interface AskResult extends SceneResult {
  model: ModelInfo;
  executionProvider: EpChoice;
  createdAt: string;
  threshold: number;
}

export class InferenceRuntime {
  private constructor(
    readonly pipeline: SegEarthPipeline,
    private readonly deps: SceneDeps,
  ) {}

  static async open(modelDir: string, options: PipelineOptions = {}, deps: SceneDeps = defaultSceneDeps): Promise<InferenceRuntime> {
    return new InferenceRuntime(await SegEarthPipeline.create(modelDir, options), deps);
  }

  get model(): ModelInfo {
    const m = this.pipeline.model;
    return {
      id: m.manifest.id,
      name: m.manifest.name,
      variant: m.manifest.variant,
      bundleSha256: m.bundle.hash,
      testFixture: m.manifest.testFixture,
      dir: m.bundle.dir,
    };
  }

  get executionProvider(): EpChoice {
    return this.pipeline.model.ep;
  }

  /** Answers a question about a scene (see `scene.ts`); features carry provenance and mean probability. */
  async ask(request: SceneRequest): Promise<AskResult> {
    const createdAt = new Date().toISOString();
    const threshold = request.threshold ?? 0.5;
    const result = await askScene(this.pipeline, request, this.deps);
    const features = request.skipPolygons
      ? result.features
      : await annotateFeatures(result.features, result.probabilityPath, {
          question: request.question.trim(),
          modelId: this.model.id,
          bundleSha256: this.model.bundleSha256,
          source: request.rasterPath,
          threshold,
          createdAt,
        });
    return { ...result, features, model: this.model, executionProvider: this.executionProvider, createdAt, threshold };
  }

  /** Graph run counters and times (tests, benchmarks, logs). */
  get stats(): RunStats {
    return this.pipeline.model.stats;
  }

  clearCaches(): void {
    this.pipeline.clearViews();
  }

  async dispose(): Promise<void> {
    await this.pipeline.dispose();
  }
}
