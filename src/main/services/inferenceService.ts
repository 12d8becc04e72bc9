/**
 * @module main/services/inferenceService
 * Questions about a scene as jobs: `ask` starts a run of the inference runtime and returns a job id at once;
 * progress, the result or the error arrive as `inference.job` events. Each result keeps its probability
 * raster on disk, so the threshold and minimum area can be changed afterwards without running the model
 * again (`revectorize`), and the heatmap layer is drawn from it.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Aoi, AskRequestSchema, ResultFeatures, ResultSummary } from '../../shared/api/dto.js';
import { SegEarthError, toErrorPayload } from '../../shared/errors.js';
import type { EventBus } from '../events.js';
import type { GeoBackend, InferenceRuntime } from './backends.js';
import type { SettingsService } from './settingsService.js';
import type { WorkspaceService } from './workspaceService.js';
import type { z } from 'zod';

type AskArgs = z.output<typeof AskRequestSchema>;

interface StoredResult {
  summary: ResultSummary;
  source: string;
  bundleSha256: string | null;
  features: ResultFeatures;
  probabilityPath: string;
  heatmap: Uint8Array | null;
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
  /** Resolves when no job is running (tests, shutdown). */
  idle(): Promise<void>;
  /** Cancels every running job (shutdown). */
  cancelAll(): void;
}

export interface InferenceServiceDeps {
  workspace: WorkspaceService;
  geo: GeoBackend;
  runtime: InferenceRuntime;
  events: EventBus;
  settings: SettingsService;
  /** Folder for cached probability rasters. */
  cacheDir: string;
}

/** The outline of a polygon AOI (applied to the probability raster), else undefined. */
export function aoiRingOf(aoi: Aoi): Array<[number, number]> | undefined {
  return aoi.kind === 'polygon' ? aoi.ring : undefined;
}

const newId = (): string => randomUUID().replaceAll('-', '').slice(0, 16);

function decorate(features: ResultFeatures, summary: ResultSummary): ResultFeatures {
  return {
    ...features,
    features: features.features.map((f) => ({
      ...f,
      properties: {
        ...f.properties,
        question: summary.question,
        model: summary.modelId,
        threshold: summary.threshold,
        created: summary.createdAt,
      },
    })),
  };
}

/** Bounding box of a raster grid in the coordinates of its geotransform (GDAL pixel/line space when it has no CRS). */
export function gridExtent(gt: readonly number[], width: number, height: number): [number, number, number, number] {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const [c, r] of [[0, 0], [width, 0], [0, height], [width, height]] as const) {
    xs.push(gt[0]! + c * gt[1]! + r * gt[2]!);
    ys.push(gt[3]! + c * gt[4]! + r * gt[5]!);
  }
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
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

  /** Attributes of every polygon: the runtime's provenance (as the CLI writes it), else a minimal set. */
  const describe = async (raw: ResultFeatures, stored: Pick<StoredResult, 'summary' | 'source' | 'bundleSha256' | 'probabilityPath'>): Promise<ResultFeatures> => {
    const { summary } = stored;
    if (runtime.annotate && stored.bundleSha256) {
      return runtime.annotate(raw, stored.probabilityPath, {
        question: summary.question,
        modelId: summary.modelId,
        bundleSha256: stored.bundleSha256,
        source: stored.source,
        threshold: summary.threshold,
        createdAt: summary.createdAt,
      });
    }
    return decorate(raw, summary);
  };

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
      const run = await runtime.run(
        {
          rasterPath: layer.path,
          info: layer.info,
          question: args.question,
          aoi: args.aoi,
          strategy: args.strategy,
          probabilityPath,
          signal: controller.signal,
          onProgress: (p) => events.emit('inference.job', { type: 'progress', jobId, ...p }),
        },
        { modelDir: current.modelDir, executionProvider: current.executionProvider },
      );
      if (controller.signal.aborted) throw new SegEarthError('CANCELLED', 'The question was cancelled.');
      events.emit('inference.job', {
        type: 'progress', jobId, stage: 'vectorizing', message: 'Drawing polygons', tileIndex: 0, tileCount: 0, fraction: 0.97, etaSeconds: null,
      });
      const probInfo = await geo.openRaster(probabilityPath);
      const ring = aoiRingOf(args.aoi);
      const heat = await geo.renderProbabilityPng(probabilityPath, { maxSize: 1024, ...(ring ? { aoiRing: ring } : {}) });
      const raw = await geo.vectorizeProbability(probabilityPath, { threshold: args.threshold, minAreaM2: args.minAreaM2, ...(ring ? { aoiRing: ring } : {}) });
      const summary: ResultSummary = {
        id: resultId,
        layerId: layer.id,
        question: args.question,
        aoi: args.aoi,
        strategy: args.strategy,
        createdAt: new Date().toISOString(),
        modelId: run.modelId,
        executionProvider: run.executionProvider,
        threshold: args.threshold,
        minAreaM2: args.minAreaM2,
        featureCount: raw.features.length,
        totalAreaM2: totalArea(raw),
        maxProbability: Math.min(1, Math.max(0, heat.maxProbability)),
        probability: { extent: gridExtent(probInfo.geoTransform, probInfo.width, probInfo.height), width: probInfo.width, height: probInfo.height },
        durationMs: Date.now() - started,
      };
      const stored = { summary, source: layer.path, bundleSha256: run.bundleSha256, probabilityPath };
      const features = await describe(raw, stored);
      // The layer may have been removed while this ran: then nothing is kept (the catch removes the raster).
      if (controller.signal.aborted || !workspace.listLayers().some((l) => l.id === layer.id)) {
        throw new SegEarthError('CANCELLED', 'The layer was removed while the question ran.');
      }
      results.set(resultId, { ...stored, features, heatmap: heat.png });
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
      const ring = aoiRingOf(stored.summary.aoi);
      const raw = await geo.vectorizeProbability(stored.probabilityPath, { threshold, minAreaM2, ...(ring ? { aoiRing: ring } : {}) });
      const summary: ResultSummary = { ...stored.summary, threshold, minAreaM2, featureCount: raw.features.length, totalAreaM2: totalArea(raw) };
      const features = await describe(raw, { ...stored, summary });
      stored.summary = summary;
      stored.features = features;
      return { result: summary, features: stored.features };
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
      const stored = get(resultId);
      if (!stored.heatmap) {
        const ring = aoiRingOf(stored.summary.aoi);
        stored.heatmap = (await geo.renderProbabilityPng(stored.probabilityPath, { maxSize: 1024, ...(ring ? { aoiRing: ring } : {}) })).png;
      }
      return stored.heatmap;
    },
    cancelAll() {
      for (const job of jobs.values()) job.controller.abort(new SegEarthError('CANCELLED', 'The app is closing.'));
    },
    async idle() {
      await Promise.all([...jobs.values()].map((j) => j.done));
    },
  };
}
