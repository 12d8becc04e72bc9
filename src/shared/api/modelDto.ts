/**
 * @module shared/api/modelDto
 * The Model & device dialog's part of the contract: the installed bundles (the model manager's own zod
 * shapes from `inference/models/types`, which are zod-only and safe for the renderer), long-running model
 * tasks (import, download, verify) reported as `models.task` events, and the execution providers of this
 * machine.
 */
import { z } from 'zod';
import { ErrorPayloadSchema } from '../errors.js';
import {
  BrokenModelSchema,
  BundleIdSchema,
  FirstRunGuideSchema,
  InstalledModelSchema,
  ModelDefaultsSchema,
  ModelLocationsSchema,
  ModelProgressSchema,
  VariantSchema,
} from '../../inference/models/types.js';

export { FirstRunGuideSchema, InstalledModelSchema, VariantSchema };
export type { InstalledModel, ModelProgress, Variant } from '../../inference/models/types.js';
export { VARIANT_LABELS } from '../../inference/models/types.js';

/** Everything the dialog lists: bundles, unusable folders, the default per variant, and the folders searched. */
export const ModelCatalogSchema = z.object({
  models: z.array(InstalledModelSchema),
  broken: z.array(BrokenModelSchema),
  defaults: ModelDefaultsSchema,
  locations: ModelLocationsSchema.pick({ installDir: true, searchDirs: true }),
});
export type ModelCatalog = z.infer<typeof ModelCatalogSchema>;
export type FirstRunGuide = z.infer<typeof FirstRunGuideSchema>;

export const ModelTaskIdSchema = z.string().regex(/^task-[0-9]+$/, 'expected a model task id');
export const ModelTaskKindSchema = z.enum(['import', 'download', 'verify']);
export type ModelTaskKind = z.infer<typeof ModelTaskKindSchema>;

export const ImportModelRequestSchema = z.object({
  /** Bundle folder (with manifest.json) or a .tar.gz / .tar / .zip archive of it. */
  source: z.string().min(1, 'give the bundle folder or archive').max(4096),
  replace: z.boolean().default(false),
});

export const DownloadModelRequestSchema = z.object({
  url: z
    .string()
    .url('give the http(s) address of the bundle archive')
    .refine((u) => /^https?:\/\//i.test(u), 'only http and https addresses can be downloaded'),
  sha256: z
    .string()
    .trim()
    .regex(/^[0-9a-fA-F]{64}$/, 'the sha256 published with the archive is 64 hexadecimal characters')
    .transform((s) => s.toLowerCase()),
  replace: z.boolean().default(false),
});

export const ModelIdRequestSchema = z.object({ id: BundleIdSchema });

/** Progress, completion or failure of an import / download / verify; cancellation is an error with code CANCELLED. */
export const ModelTaskEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('progress'), taskId: ModelTaskIdSchema, kind: ModelTaskKindSchema, progress: ModelProgressSchema }),
  z.object({ type: z.literal('done'), taskId: ModelTaskIdSchema, kind: ModelTaskKindSchema, model: InstalledModelSchema }),
  z.object({ type: z.literal('error'), taskId: ModelTaskIdSchema, kind: ModelTaskKindSchema, error: ErrorPayloadSchema }),
]);
export type ModelTaskEvent = z.infer<typeof ModelTaskEventSchema>;

/** One onnxruntime execution provider on this machine: does a probe session work, and if not, why. */
export const DeviceSchema = z.object({
  provider: z.enum(['cuda', 'webgpu', 'dml', 'coreml', 'cpu']),
  label: z.string(),
  works: z.boolean(),
  /** Why it does not work here (null when it works). */
  reason: z.string().nullable(),
});

export const DeviceReportSchema = z.object({
  /** The provider "Automatic" picks (null when none works, not even the CPU). */
  auto: z.string().nullable(),
  /** e.g. "best available provider" or "fell back: CUDA, WebGPU unavailable". */
  autoReason: z.string(),
  providers: z.array(DeviceSchema),
});
export type DeviceReport = z.infer<typeof DeviceReportSchema>;
