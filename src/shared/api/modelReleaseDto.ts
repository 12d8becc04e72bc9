/**
 * @module shared/api/modelReleaseDto
 * The released SegEarth-R1 checkpoints as the Model & device dialog shows them — one card per checkpoint
 * with the size to download, the precision picked for this device and why, the licence, what is installed
 * and how far a Get got — and the requests of the Get flow (download from the model hub, convert, install,
 * set as default; pause / resume / cancel) and of "Convert a checkpoint folder…" for offline machines.
 * Progress and the end of each arrive as `models.task` events (kinds `get` and `convert`, `modelDto`).
 */
import { z } from 'zod';
import { ErrorPayloadSchema } from '../errorPayloadSchema.js';
import { BundleIdSchema, ModelTaskIdSchema, VariantSchema } from './modelDto.js';

/** The converter's precision profiles (docs/MODEL_BUNDLE.md "Precision"): `cpu` = int8 image + int8 LLM. */
export const ConversionPrecisionSchema = z.enum(['fp32', 'cpu', 'fp16']);
export type ConversionPrecision = z.infer<typeof ConversionPrecisionSchema>;

export const PRECISION_LABELS: Readonly<Record<ConversionPrecision, string>> = {
  fp32: 'fp32 (full precision)',
  cpu: 'CPU (int8 image + int8 language model)',
  fp16: 'fp16 (GPU)',
};

/** A model hub repository id, `owner/name`. */
export const HubRepoSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,95}\/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/, 'a model hub repository is written owner/name');

/** How far a Get of one checkpoint got; persisted in the data folder, so it survives a restart of the app. */
export const GetStateSchema = z.object({
  /** `running` in this process; `paused` by the user or by the app closing (partial files kept); `failed`. */
  status: z.enum(['running', 'paused', 'failed']),
  /** The running task (null when paused or failed). */
  taskId: ModelTaskIdSchema.nullable(),
  precision: ConversionPrecisionSchema,
  /** Downloading the checkpoint, or converting it into a bundle (a conversion restarts from its beginning). */
  phase: z.enum(['download', 'convert']),
  downloadedBytes: z.number().nonnegative(),
  /** Bytes of the whole checkpoint download (null until the hub answered). */
  totalBytes: z.number().nonnegative().nullable(),
  updatedAt: z.string(),
  /** Why it failed (status `failed`). */
  error: ErrorPayloadSchema.nullable(),
});
export type GetState = z.infer<typeof GetStateSchema>;

export const ModelReleaseSchema = z.object({
  repo: HubRepoSchema,
  variant: VariantSchema,
  label: z.string(),
  /** What it is good for, in one line. */
  use: z.string(),
  url: z.string(),
  licence: z.string(),
  download: z.object({
    /** Bytes to download (the checkpoint's files). */
    bytes: z.number().nonnegative(),
    /** `hub`: summed from the hub's file list now; `approximate`: the documented figure (hub not reachable). */
    source: z.enum(['hub', 'approximate']),
  }),
  /** The precision a Get converts to on this machine, and why. */
  precision: z.object({ precision: ConversionPrecisionSchema, reason: z.string() }),
  /** The installed bundle converted from this checkpoint (null when none). */
  installedId: BundleIdSchema.nullable(),
  get: GetStateSchema.nullable(),
});
export type ModelRelease = z.infer<typeof ModelReleaseSchema>;

export const ModelReleasesSchema = z.object({
  releases: z.array(ModelReleaseSchema),
  /** Why the hub could not tell a size (those sizes are then approximate); null when it answered for every card. */
  hubProblem: z.string().nullable(),
});
export type ModelReleases = z.infer<typeof ModelReleasesSchema>;

export const GetModelRequestSchema = z.object({
  repo: HubRepoSchema,
  /** Default: the precision picked for this machine's best execution provider. */
  precision: ConversionPrecisionSchema.optional(),
});

export const RepoRequestSchema = z.object({ repo: HubRepoSchema });

export const ConvertModelRequestSchema = z.object({
  /** A checkpoint folder: config.json, model.safetensors (or shards + index), tokenizer files. */
  checkpointDir: z.string().min(1, 'choose the checkpoint folder').max(4096),
  precision: ConversionPrecisionSchema.optional(),
  replace: z.boolean().default(false),
});
