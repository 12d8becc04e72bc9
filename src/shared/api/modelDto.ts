/**
 * @module shared/api/modelDto
 * The Model & device dialog's part of the contract, and the model manager's data shapes: the installed
 * bundles, long-running model tasks (import, download, verify, get, convert) reported as `models.task`
 * events, and the execution providers of this machine. The contract owns these schemas: the model manager
 * (`inference/models`) and `segearth models list --json` use them from here, and the renderer imports them
 * without pulling in any runtime code. The released checkpoints and the Get flow are in `modelReleaseDto`.
 */
import { z } from 'zod';
import { ErrorPayloadSchema } from '../errorPayloadSchema.js';

/** Bundle variants, as manifest.json spells them (the manifest schema takes them from here). */
export const VariantSchema = z.enum(['earthreason', 'rrsis-d', 'refsegrs', 'tiny-test']);
export type Variant = z.infer<typeof VariantSchema>;
export const VARIANTS = VariantSchema.options;

/** How each variant is named to people (the Hugging Face checkpoint names). */
export const VARIANT_LABELS: Readonly<Record<Variant, string>> = {
  earthreason: 'EarthReason',
  'rrsis-d': 'RRSIS-D',
  refsegrs: 'RefSegRS',
  'tiny-test': 'tiny test fixture',
};

/** A bundle id doubles as its folder name (same rule as the manifest's `id`). */
export const BundleIdSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,127}$/, 'a bundle id is lower-case letters, digits, ".", "_" or "-"');

export const VerifyStateSchema = z.enum(['verified', 'unverified', 'failed']);
export type VerifyState = z.infer<typeof VerifyStateSchema>;

export const FileProblemSchema = z.object({
  path: z.string(),
  problem: z.enum(['missing', 'size', 'sha256']),
  detail: z.string(),
});
export type FileProblem = z.infer<typeof FileProblemSchema>;

export const VerifyReportSchema = z.object({
  state: VerifyStateSchema,
  /** Files whose sha256 was computed now (the rest came from the cache). */
  hashedFiles: z.number().int().nonnegative(),
  checkedFiles: z.number().int().nonnegative(),
  problems: z.array(FileProblemSchema),
});
export type VerifyReport = z.infer<typeof VerifyReportSchema>;

export const ModelLocationKindSchema = z.enum(['env', 'user', 'shipped']);

export const InstalledModelSchema = z.object({
  id: BundleIdSchema,
  name: z.string(),
  dir: z.string(),
  location: ModelLocationKindSchema,
  writable: z.boolean(),
  variant: VariantSchema,
  testFixture: z.boolean(),
  precision: z.string(),
  sourceCheckpoint: z.string(),
  formatVersion: z.number().int(),
  /** Bytes on disk of the bundle folder (every file, manifest included). */
  sizeBytes: z.number().int().nonnegative(),
  verify: VerifyReportSchema,
  /** True when it is the default for its variant (explicit setting, or the first installed one). */
  isDefault: z.boolean(),
  /** Folders later in the search order that hold a bundle with the same id (ignored). */
  shadows: z.array(z.string()),
});
export type InstalledModel = z.infer<typeof InstalledModelSchema>;

/** A bundle folder that exists but could not be read as a bundle; listed so the user can see why. */
export const BrokenModelSchema = z.object({
  dir: z.string(),
  location: ModelLocationKindSchema,
  reason: z.string(),
});
export type BrokenModel = z.infer<typeof BrokenModelSchema>;

/** The steps of converting a checkpoint into a bundle (`inference/conversion`). */
export const ConversionStageSchema = z.enum(['checking', 'weights', 'tokenizer', 'prefix-cache', 'hashing', 'installing']);
export type ConversionStage = z.infer<typeof ConversionStageSchema>;

export const ModelProgressSchema = z.object({
  phase: z.enum(['download', 'hash', 'extract', 'copy', 'verify', 'install', 'convert']),
  /** Bytes (or files for verify, items for convert) done / total in this phase; total is null when unknown. */
  done: z.number().nonnegative(),
  total: z.number().nonnegative().nullable(),
  message: z.string().optional(),
  /** `convert`: which step of the conversion. */
  stage: ConversionStageSchema.optional(),
  /** `download` from the model hub: the recent transfer rate and the time left at that rate (null: not known yet). */
  bytesPerSecond: z.number().nonnegative().nullable().optional(),
  etaSeconds: z.number().nonnegative().nullable().optional(),
});
export type ModelProgress = z.infer<typeof ModelProgressSchema>;
export type ProgressListener = (event: ModelProgress) => void;

/** The default bundle id per variant (null when none of that variant is installed). */
export const ModelDefaultsSchema = z.record(VariantSchema, BundleIdSchema.nullable());

/** Where bundles are searched and installed (`inference/models/locations`). */
export const ModelLocationsSchema = z.object({
  dataDir: z.string(),
  installDir: z.string(),
  searchDirs: z.array(z.object({ dir: z.string(), kind: ModelLocationKindSchema, writable: z.boolean() })),
  settingsFile: z.string(),
  verifyCacheFile: z.string(),
  stagingDir: z.string(),
});

/** `firstRunGuide()`: what the question panel shows when no model is installed. */
export const FirstRunGuideSchema = z.object({
  title: z.string(),
  summary: z.string(),
  checkpoints: z.array(
    z.object({
      variant: VariantSchema,
      label: z.string(),
      /** Model hub repository id. */
      repo: z.string(),
      url: z.string(),
      use: z.string(),
      licence: z.string(),
      /** The documented size of its download, for when the hub cannot be asked (`inference/models/firstRun`). */
      approxDownloadBytes: z.number().nonnegative(),
    }),
  ),
  /** Alternatives, easiest first; `commands` are shell commands in order. */
  options: z.array(z.object({ title: z.string(), detail: z.string(), commands: z.array(z.string()) })),
  installDir: z.string(),
  searchDirs: z.array(z.string()),
  docs: z.array(z.string()),
});
export type FirstRunGuide = z.infer<typeof FirstRunGuideSchema>;

/** Everything the dialog lists: bundles, unusable folders, the default per variant, and the folders searched. */
export const ModelCatalogSchema = z.object({
  models: z.array(InstalledModelSchema),
  broken: z.array(BrokenModelSchema),
  defaults: ModelDefaultsSchema,
  locations: ModelLocationsSchema.pick({ installDir: true, searchDirs: true }),
});
export type ModelCatalog = z.infer<typeof ModelCatalogSchema>;

export const ModelTaskIdSchema = z.string().regex(/^task-[0-9]+$/, 'expected a model task id');
export const ModelTaskKindSchema = z.enum(['import', 'download', 'verify', 'get', 'convert']);
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

/**
 * Progress, completion or failure of a model task; cancellation is an error with code CANCELLED. A `get`
 * that was paused ends with `paused` (its partial files are kept; `models.get` again resumes it).
 */
export const ModelTaskEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('progress'), taskId: ModelTaskIdSchema, kind: ModelTaskKindSchema, progress: ModelProgressSchema }),
  z.object({ type: z.literal('done'), taskId: ModelTaskIdSchema, kind: ModelTaskKindSchema, model: InstalledModelSchema }),
  z.object({ type: z.literal('paused'), taskId: ModelTaskIdSchema, kind: ModelTaskKindSchema }),
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
