/**
 * @module main/services/inferenceService
 * Questions about a scene as jobs: `ask` starts a run of the answer pipeline (the same `InferenceRuntime.ask`
 * as `segearth ask`) and returns a job id at once; progress, the result or the error arrive as
 * `inference.job` events. Each result keeps its probability raster on disk, so the threshold and minimum area
 * can be changed afterwards by re-running only the pipeline's polygon step (`revectorize`, the model does not
 * run again), and the heatmap PNG made from the decimated probabilities the answer brought back.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { AskRequestSchema, ResultFeatures, ResultSummary } from '../../shared/api/dto.js';
import { SegEarthError, toErrorPayload } from '../../shared/errors.js';
import type { EventBus } from '../events.js';
import type { GeoBackend, InferenceBackend } from './backends.js';
import type { SettingsService } from './settingsService.js';
import type { WorkspaceService } from './workspaceService.js';
import type { z } from 'zod';
import { newId } from './newId.js';

type AskArgs = z.output<typeof AskRequestSchema>;

interface StoredResult {
  summary: ResultSummary;
  source: string;
  bundleSha256: string;
  features: ResultFeatures;
  probabilityPath: string;
  /**
   * The heatmap layer (PNG), made when first asked for — off the answer's critical path (~70–90 ms for the
   * 1024² preview) — and then kept; null when the answer brought no preview.
   */
  heatmap: (() => Promise<Uint8Array>) | null;
}

export interface InferenceService {
  ask(args: AskArgs): Promise<{ jobId: string }>;
  cancel(jobId: string): boolean;
  revectorize(resultId: string, threshold: number, minAreaM2: number): Promise<{ result: ResultSummary; features: ResultFeatures }>;
  listResults(layerId: string): ResultSummary[];
  getFeatures(resultId: string): ResultFeatures;
  deleteResult(resultId: string): Promise<void>;
  getResult(resultId: string): { summary: ResultSummary; probabilityPath: string; features: ResultFeatures };
  probabilityPng(resultId: string): Promise<Uint8Array>;
  /** Whether a question is running now. */
  asking(): boolean;
  /** Resolves when no job is running (tests, shutdown). */
  idle(): Promise<void>;
  /** Cancels every running job (shutdown). */
  cancelAll(): void;
}

export interface InferenceServiceDeps {
  workspace: WorkspaceService;
  geo: GeoBackend;
  runtime: InferenceBackend;
  events: EventBus;
  settings: SettingsService;
  /** Folder for cached probability rasters. */
  cacheDir: string;
}

function totalArea(features: ResultFeatures): number {
  let sum = 0;
  for (const f of features.features) {
    const a = f.properties.area_m2;
    if (typeof a === 'number' && Number.isFinite(a)) sum += a;
  }
  return sum;
}

export function createInferenceService(deps: InferenceServiceDeps): InferenceService {
  const { workspace, geo, runtime, events, settings } = deps;
  const results = new Map<string, StoredResult>();
  const jobs = new Map<string, { controller: AbortController; done: Promise<void>; layerId: string }>();

  const get = (resultId: string): StoredResult => {
    const stored = results.get(resultId);
    if (!stored) throw new SegEarthError('NOT_FOUND', 'This result was deleted or belongs to a closed layer.', { hint: 'Ask the question again.' });
    return stored;
  };

  workspace.onRemoved((layerId) => {
    // A question still running on the removed layer is cancelled: its result would belong to no layer.
    for (const job of jobs.values()) {
      if (job.layerId === layerId) job.controller.abort(new SegEarthError('CANCELLED', 'The layer was removed.'));
    }
    for (const [id, stored] of results) {
      if (stored.summary.layerId === layerId) {
        results.delete(id);
        void rm(stored.probabilityPath, { force: true });
      }
    }
  });

  async function runJob(jobId: string, args: AskArgs, controller: AbortController): Promise<void> {
    const layer = workspace.getLayer(args.layerId);
    const current = await settings.get();
    const resultId = newId();
    await mkdir(deps.cacheDir, { recursive: true });
    const probabilityPath = join(deps.cacheDir, `${resultId}.probability.tif`);
    const started = Date.now();
    try {
      const answer = await runtime.ask(
        {
          rasterPath: layer.path,
          question: args.question,
          aoi: args.aoi,
          strategy: args.strategy,
          threshold: args.threshold,
          minAreaM2: args.minAreaM2,
          probabilityPath,
          signal: controller.signal,
          onProgress: (p) => events.emit('inference.job', { type: 'progress', jobId, ...p }),
        },
        { modelDir: current.modelDir, executionProvider: current.executionProvider },
      );
      if (controller.signal.aborted) throw new SegEarthError('CANCELLED', 'The question was cancelled.');
      const preview = answer.preview;
      let png: Promise<Uint8Array> | null = null;
      const heatmap = preview
        ? () =>
            (png ??= geo.heatmapPng(preview).catch((err: unknown) => {
              png = null; // asked again, it is made again
              throw err;
            }))
        : null;
      const summary: ResultSummary = {
        id: resultId,
        layerId: layer.id,
        question: args.question,
        aoi: args.aoi,
        strategy: args.strategy,
        createdAt: answer.createdAt,
        modelId: answer.modelId,
        executionProvider: answer.executionProvider,
        threshold: args.threshold,
        minAreaM2: args.minAreaM2,
        featureCount: answer.features.features.length,
        totalAreaM2: totalArea(answer.features),
        maxProbability: Math.min(1, Math.max(0, answer.maxProbability)),
        probability: answer.probability,
        durationMs: Date.now() - started,
      };
      // The layer may have been removed while this ran: then nothing is kept (the catch removes the raster).
      if (controller.signal.aborted || !workspace.listLayers().some((l) => l.id === layer.id)) {
        throw new SegEarthError('CANCELLED', 'The layer was removed while the question ran.');
      }
      results.set(resultId, { summary, source: layer.path, bundleSha256: answer.bundleSha256, probabilityPath, features: answer.features, heatmap });
      events.emit('inference.job', { type: 'result', jobId, result: summary });
    } catch (err) {
      await rm(probabilityPath, { force: true });
      const cancelled = controller.signal.aborted;
      const payload = cancelled
        ? { code: 'CANCELLED' as const, message: 'The question was cancelled.', hint: 'Nothing was kept from this run.' }
        : toErrorPayload(err);
      if (payload.code === 'INTERNAL') console.error(`inference job ${jobId} failed`, err);
      events.emit('inference.job', { type: 'error', jobId, error: payload });
    }
  }

  return {
    async ask(args) {
      workspace.getLayer(args.layerId);
      const current = await settings.get();
      const status = await runtime.modelStatus(current.modelDir);
      if (status.state !== 'ready') {
        throw new SegEarthError(status.state === 'invalid' ? 'MODEL_INVALID' : 'MODEL_NOT_FOUND', status.problem ?? 'No model is installed.', {
          hint: 'Open Model & device… to choose a model folder.',
        });
      }
      const jobId = newId();
      const controller = new AbortController();
      const done = runJob(jobId, args, controller).finally(() => jobs.delete(jobId));
      jobs.set(jobId, { controller, done, layerId: args.layerId });
      return { jobId };
    },
    cancel(jobId) {
      const job = jobs.get(jobId);
      if (!job) return false;
      job.controller.abort(new SegEarthError('CANCELLED', 'The question was cancelled.'));
      return true;
    },
    async revectorize(resultId, threshold, minAreaM2) {
      const stored = get(resultId);
      const { summary } = stored;
      const features = await runtime.polygons(stored.probabilityPath, { threshold, minAreaM2 }, {
        question: summary.question,
        modelId: summary.modelId,
        bundleSha256: stored.bundleSha256,
        source: stored.source,
        createdAt: summary.createdAt,
      });
      stored.summary = { ...summary, threshold, minAreaM2, featureCount: features.features.length, totalAreaM2: totalArea(features) };
      stored.features = features;
      return { result: stored.summary, features };
    },
    listResults(layerId) {
      return [...results.values()].filter((r) => r.summary.layerId === layerId).map((r) => r.summary).reverse();
    },
    getFeatures: (resultId) => get(resultId).features,
    async deleteResult(resultId) {
      const stored = get(resultId);
      results.delete(resultId);
      await rm(stored.probabilityPath, { force: true });
    },
    getResult(resultId) {
      const stored = get(resultId);
      return { summary: stored.summary, probabilityPath: stored.probabilityPath, features: stored.features };
    },
    async probabilityPng(resultId) {
      const { heatmap } = get(resultId);
      if (!heatmap) throw new SegEarthError('NOT_FOUND', 'This result has no probability heatmap.', { hint: 'Ask the question again.' });
      return heatmap();
    },
    asking: () => jobs.size > 0,
    cancelAll() {
      for (const job of jobs.values()) job.controller.abort(new SegEarthError('CANCELLED', 'The app is closing.'));
    },
    async idle() {
      await Promise.all([...jobs.values()].map((j) => j.done));
    },
  };
}
