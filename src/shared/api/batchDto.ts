/**
 * @module shared/api/batchDto
 * Data shapes of the app's batch service (one folder of scenes, the same question(s) on every scene): what
 * the batch panel sends to start a batch, the status it shows while the batch runs (`batch.progress`) and the
 * per-scene table it shows at the end (`batch.finished`). The engine behind it is `inference/batch/runBatch`,
 * the same one `segearth batch` runs, so the output folder is the same (and resumable from either).
 */
import { z } from 'zod';
import { ErrorPayloadSchema } from '../errorPayloadSchema.js';
import { IdSchema, MinAreaSchema, PathSchema, ThresholdSchema } from './dto.js';
import { BatchStrategySchema } from '../strategies.js';
import { BatchFormatSchema } from '../formats.js';

/** Per-scene output formats (mask = the float32 probability GeoTIFF on the scene grid). */
export { BATCH_FORMATS, BatchFormatSchema, type BatchFormat } from '../formats.js';

/**
 * Tiled: full resolution everywhere; coarse-to-fine: full resolution only where a coarse pass finds something;
 * view: one resampled pass per scene (coarse, fastest).
 */
export { BatchStrategySchema, type BatchStrategy } from '../strategies.js';

const GlobSchema = z.string().trim().min(1, 'an empty glob matches nothing').max(500);

export const BatchStartRequestSchema = z
  .object({
    inputFolder: PathSchema,
    outputFolder: PathSchema,
    questions: z
      .array(z.string().trim().min(1, 'a question is empty').max(2000, 'questions are limited to 2000 characters'))
      .min(1, 'add at least one question')
      .max(20, 'at most 20 questions per batch'),
    strategy: BatchStrategySchema.default('tiled'),
    /** Per-scene files; `merged` adds one GeoPackage with a layer per question. */
    formats: z.array(BatchFormatSchema).default(['gpkg']),
    merged: z.boolean().default(true),
    threshold: ThresholdSchema.default(0.5),
    minAreaM2: MinAreaSchema.default(0),
    /** Globs on the path relative to the input folder, e.g. `2026-*\/**\/*.tif`. Empty = every raster. */
    include: z.array(GlobSchema).default([]),
    exclude: z.array(GlobSchema).default([]),
    /** Continue the batch already in the output folder (same questions, model and options). */
    resume: z.boolean().default(false),
  })
  .refine((r) => r.formats.length > 0 || r.merged, { message: 'choose at least one output: a per-scene format or the merged GeoPackage', path: ['formats'] });
export type BatchStartRequest = z.input<typeof BatchStartRequestSchema>;

export const BatchStateSchema = z.enum(['running', 'paused', 'cancelling', 'finished', 'cancelled', 'failed']);
export type BatchState = z.infer<typeof BatchStateSchema>;

/** The (scene, question) item being worked on. */
export const BatchCurrentItemSchema = z.object({
  /** Scene path relative to the input folder. */
  scene: z.string(),
  /** 0-based index into the questions. */
  questionIndex: z.number().int().nonnegative(),
  question: z.string(),
  /** What the model is doing for this item (reading, image, tiles, stitching, …). */
  stage: z.string(),
  /** 0..1 of this item. */
  fraction: z.number().min(0).max(1),
});
export type BatchCurrentItem = z.infer<typeof BatchCurrentItemSchema>;

export const BatchStatusSchema = z.object({
  batchId: IdSchema,
  state: BatchStateSchema,
  /** Pause asked for while an item runs: the batch pauses when that item has finished. */
  pauseRequested: z.boolean(),
  paused: z.boolean(),
  inputFolder: z.string(),
  outputFolder: z.string(),
  questions: z.array(z.string()),
  /** Model id and bundle hash recorded in batch.json. */
  model: z.string(),
  scenes: z.number().int().nonnegative(),
  /** Items = scenes × questions. */
  total: z.number().int().nonnegative(),
  /** Finished items (done or failed), including those done before a resume. */
  completed: z.number().int().nonnegative(),
  done: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  /** Items already done in the output folder when this run started (resume). */
  alreadyDone: z.number().int().nonnegative(),
  current: BatchCurrentItemSchema.nullable(),
  etaSeconds: z.number().nonnegative().nullable(),
  startedAt: z.string(),
  /** Errors that stopped the whole batch (e.g. output folder not writable); per-scene errors are in the summary. */
  error: ErrorPayloadSchema.nullable(),
});
export type BatchStatus = z.infer<typeof BatchStatusSchema>;

/** One row of summary.csv: a (scene, question) item. */
export const BatchSummaryRowSchema = z.object({
  scene: z.string(),
  question: z.string(),
  status: z.enum(['done', 'failed', 'pending']),
  seconds: z.number().nonnegative().nullable(),
  polygons: z.number().int().nonnegative().nullable(),
  totalAreaM2: z.number().nonnegative().nullable(),
  error: z.string().nullable(),
  /** A finished item the analyst should look at (e.g. its scene has no CRS); absent in older summaries. */
  note: z.string().nullable().optional(),
});

export const BatchSummarySchema = z.object({
  inputFolder: z.string(),
  questions: z.array(z.string()),
  shard: z.string().nullable(),
  totals: z.object({
    items: z.number().int().nonnegative(),
    done: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
    pending: z.number().int().nonnegative(),
    polygons: z.number().int().nonnegative(),
    totalAreaM2: z.number().nonnegative(),
  }),
  rows: z.array(BatchSummaryRowSchema),
});
export type BatchSummaryDto = z.infer<typeof BatchSummarySchema>;

export const BatchFinishedSchema = z.object({
  batchId: IdSchema,
  /** finished: every item was tried; cancelled: stopped (resume later); failed: the batch itself could not run. */
  outcome: z.enum(['finished', 'cancelled', 'failed']),
  outputFolder: z.string(),
  /** merged.gpkg (a layer per question, `source` attribute), when asked for and written. */
  mergedPath: z.string().nullable(),
  /** summary.json and summary.csv. */
  summaryPaths: z.array(z.string()),
  summary: BatchSummarySchema.nullable(),
  error: ErrorPayloadSchema.nullable(),
});
export type BatchFinished = z.infer<typeof BatchFinishedSchema>;

/** What an output folder holds (`batch.inspect`): the saved plan of an earlier batch and how far it got. */
export const BatchFolderInfoSchema = z.object({
  outputFolder: z.string(),
  /** null: no batch there (empty, new, or other files). */
  plan: z
    .object({
      inputFolder: z.string(),
      questions: z.array(z.string()),
      model: z.string(),
      strategy: BatchStrategySchema,
      formats: z.array(BatchFormatSchema),
      merged: z.boolean(),
      threshold: ThresholdSchema,
      minAreaM2: MinAreaSchema,
      include: z.array(z.string()),
      exclude: z.array(z.string()),
      /** `i/n` when it is one shard of a cluster batch (resume it with `segearth batch --shard`). */
      shard: z.string().nullable(),
      createdAt: z.string(),
    })
    .nullable(),
  /** Items by their last journaled state. */
  done: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  /** Started but not finished (the batch stopped or crashed during them). */
  interrupted: z.number().int().nonnegative(),
  empty: z.boolean(),
});
export type BatchFolderInfo = z.infer<typeof BatchFolderInfoSchema>;

/** What `batch.list` / `batch.status` answer: the live status, and the end report once there is one. */
export const BatchRecordSchema = z.object({ status: BatchStatusSchema, finished: BatchFinishedSchema.nullable() });
export type BatchRecord = z.infer<typeof BatchRecordSchema>;
