/**
 * @module inference/worker/protocol
 * Messages between the main thread and the inference worker, as zod schemas, validated on arrival on both
 * sides. The worker hosts only the model (onnxruntime sessions, caches): reading rasters and writing GeoTIFFs
 * stay on the main thread with gdal-async's asynchronous calls (gdal-async cannot be loaded in a second
 * thread of the same process).
 *
 * A prediction is a small conversation: `predict {id, key, question}` → the worker answers `result` when the
 * view is cached, else `need-window {id}` → `window {id, rgb, valid}` → `result`. Pixel arrays travel as
 * transferred typed arrays. `prefetch {id, key}` has the same conversation and answers `prefetched` (the view is
 * in the cache). `cancel {id}` aborts between graph runs; errors come back as `ErrorPayload`s.
 */
import { z } from 'zod';
import type { SegEarthPipeline } from '../pipeline/pipeline.js';
import { ErrorPayloadSchema } from '../../shared/errorPayloadSchema.js';
import { EpChoiceSchema, EpRequestSchema, ThreadSettingsSchema } from '../providers/executionProvider.js';

const u8 = z.instanceof(Uint8Array);
const f32 = z.instanceof(Float32Array);
const Id = z.number().int().nonnegative();

export const LetterboxSchema = z.object({
  size: z.number().int().positive(),
  srcWidth: z.number().int().positive(),
  srcHeight: z.number().int().positive(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  padTop: z.number().int().nonnegative(),
  padLeft: z.number().int().nonnegative(),
});

export const ToWorkerSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('init'),
    modelDir: z.string().min(1),
    ep: EpRequestSchema,
    /** A provider already chosen (and probed) by the caller: the worker uses it as is. */
    epChoice: EpChoiceSchema.optional(),
    threads: ThreadSettingsSchema.partial().optional(),
    viewCacheBytes: z.number().int().positive().optional(),
  }),
  z.object({ type: z.literal('check'), id: Id, question: z.string() }),
  z.object({ type: z.literal('predict'), id: Id, key: z.string().nullable(), question: z.string() }),
  /**
   * Read and encode the view under `key` into the cache ahead of its question (`SegEarthPipeline.prefetch`);
   * the same window conversation as `predict`. A predict for another view, or a newer prefetch, stops it.
   */
  z.object({ type: z.literal('prefetch'), id: Id, key: z.string().min(1) }),
  z.object({
    type: z.literal('window'),
    id: Id,
    rgb: u8,
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    valid: u8.optional(),
  }),
  z.object({ type: z.literal('cancel'), id: Id }),
  z.object({ type: z.literal('stats'), id: Id }),
  z.object({ type: z.literal('clear-caches'), id: Id }),
  /** Run the first-question passes once or twice on a blank view (`SegEarthPipeline.warmUp`); a predict stops it. */
  z.object({ type: z.literal('warm-up'), id: Id }),
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
  inputSize: z.number().int().positive(),
});
export type ModelInfo = z.infer<typeof ModelInfoSchema>;

/** The ModelInfo of a loaded pipeline (used in-process and by the worker's `ready` message). */
export function modelInfoOf(p: SegEarthPipeline): ModelInfo {
  const m = p.model;
  return {
    id: m.manifest.id,
    name: m.manifest.name,
    variant: m.manifest.variant,
    bundleSha256: m.bundle.hash,
    testFixture: m.manifest.testFixture,
    dir: m.bundle.dir,
    inputSize: m.manifest.image.size,
  };
}

const StageStatsSchema = z.object({ runs: z.number().int(), ms: z.number() });
export const RunStatsSchema = z.object({ image: StageStatsSchema, llm: StageStatsSchema, head: StageStatsSchema });
export const CacheInfoSchema = z.object({ views: z.number(), bytes: z.number(), evictions: z.number() });

export const FromWorkerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), model: ModelInfoSchema, executionProvider: EpChoiceSchema }),
  z.object({ type: z.literal('need-window'), id: Id }),
  z.object({
    type: z.literal('result'),
    id: Id,
    logits: f32,
    maskSize: z.number().int().positive(),
    letterbox: LetterboxSchema,
    cached: z.boolean(),
    valid: u8.optional(),
  }),
  z.object({ type: z.literal('stats'), id: Id, stats: RunStatsSchema, cache: CacheInfoSchema }),
  z.object({ type: z.literal('done'), id: Id }),
  z.object({ type: z.literal('prefetched'), id: Id, cached: z.boolean(), ms: z.number() }),
  z.object({ type: z.literal('warmed'), id: Id, ms: z.number(), runs: z.number().int(), interrupted: z.boolean() }),
  /** id null: the worker failed outside any request (e.g. loading the model). */
  z.object({ type: z.literal('error'), id: Id.nullable(), error: ErrorPayloadSchema }),
]);
export type FromWorker = z.infer<typeof FromWorkerSchema>;
