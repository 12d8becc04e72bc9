/**
 * @module inference/worker/protocol
 * Messages between the main thread and the inference worker, as zod schemas: every message is validated on
 * arrival on both sides (a worker is a process-like boundary). Requests carry an `id`; progress, results and
 * errors answer with the same id. Errors travel as `ErrorPayload` and are rebuilt as `SegEarthError`.
 */
import { z } from 'zod';
import { ErrorPayloadSchema } from '../../shared/errors.js';
import { FeatureSetSchema } from '../../shared/featureSet.js';
import { ExtentSchema, GeoTransformSchema } from '../../shared/rasterInfo.js';
import { EpChoiceSchema, EpRequestSchema, ThreadSettingsSchema } from '../executionProvider.js';
import { SCENE_STAGES, STRATEGIES } from '../scene.js';

export const InitSchema = z.object({
  type: z.literal('init'),
  modelDir: z.string().min(1),
  ep: EpRequestSchema,
  threads: ThreadSettingsSchema.partial().optional(),
  viewCacheBytes: z.number().int().positive().optional(),
});

/** A scene request without its callbacks (the worker adds its own signal and progress relay). */
export const SceneRequestSchema = z.object({
  rasterPath: z.string().min(1),
  question: z.string(),
  aoi: ExtentSchema.optional(),
  strategy: z.enum(STRATEGIES).optional(),
  probabilityPath: z.string().min(1),
  overwrite: z.boolean().optional(),
  threshold: z.number().optional(),
  minAreaM2: z.number().optional(),
  bands: z.array(z.number().int().positive()).optional(),
  overlap: z.number().int().nonnegative().optional(),
  maxViewOutput: z.number().int().positive().optional(),
  refineAbove: z.number().optional(),
  skipPolygons: z.boolean().optional(),
});
export type SceneRequestMessage = z.infer<typeof SceneRequestSchema>;

export const ToWorkerSchema = z.discriminatedUnion('type', [
  InitSchema,
  z.object({ type: z.literal('ask'), id: z.number().int(), request: SceneRequestSchema }),
  z.object({ type: z.literal('cancel'), id: z.number().int() }),
  z.object({ type: z.literal('stats'), id: z.number().int() }),
  z.object({ type: z.literal('clear-caches'), id: z.number().int() }),
  z.object({ type: z.literal('dispose') }),
]);
export type ToWorker = z.infer<typeof ToWorkerSchema>;

export const ModelInfoSchema = z.object({
  id: z.string(),
  name: z.string(),
  variant: z.string(),
  bundleSha256: z.string(),
  testFixture: z.boolean(),
  dir: z.string(),
});

export const SceneProgressSchema = z.object({
  stage: z.enum(SCENE_STAGES),
  message: z.string(),
  tileIndex: z.number().int().nonnegative(),
  tileCount: z.number().int().nonnegative(),
  fraction: z.number().min(0).max(1),
  etaSeconds: z.number().nonnegative().nullable(),
});

const RectSchema = z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() });

export const AskResultSchema = z.object({
  probabilityPath: z.string(),
  grid: z.object({ width: z.number().int(), height: z.number().int(), geoTransform: GeoTransformSchema, crsWkt: z.string().nullable() }),
  window: RectSchema,
  strategy: z.enum(['view', 'tiled', 'coarse-to-fine']),
  tiles: z.object({ total: z.number().int(), refined: z.number().int() }),
  maxProbability: z.number(),
  features: FeatureSetSchema,
  viewCached: z.boolean(),
  durationMs: z.number(),
  model: ModelInfoSchema,
  executionProvider: EpChoiceSchema,
  createdAt: z.string(),
  threshold: z.number(),
});

const StageStatsSchema = z.object({ runs: z.number().int(), ms: z.number() });
export const RunStatsSchema = z.object({ image: StageStatsSchema, llm: StageStatsSchema, head: StageStatsSchema });

export const FromWorkerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), model: ModelInfoSchema, executionProvider: EpChoiceSchema }),
  z.object({ type: z.literal('progress'), id: z.number().int(), progress: SceneProgressSchema }),
  z.object({ type: z.literal('result'), id: z.number().int(), result: AskResultSchema }),
  z.object({ type: z.literal('stats'), id: z.number().int(), stats: RunStatsSchema, cache: z.object({ views: z.number(), bytes: z.number(), evictions: z.number() }) }),
  z.object({ type: z.literal('done'), id: z.number().int() }),
  /** id null: the worker failed outside any request (e.g. loading the model). */
  z.object({ type: z.literal('error'), id: z.number().int().nullable(), error: ErrorPayloadSchema }),
]);
export type FromWorker = z.infer<typeof FromWorkerSchema>;
