/**
 * @module inference/models/types
 * The model manager's data shapes, as zod schemas: what `segearth models list --json` prints and what the
 * app's Model & device dialog receives. JSON-safe and free of Node imports (zod only), so the renderer can
 * import them.
 */
import { z } from 'zod';
import { FileEntrySchema, VariantSchema } from '../bundle/manifest.js';

/** Bundle variants, as manifest.json spells them (`inference/bundle/manifest`). */
export const VARIANTS = VariantSchema.options;
export { VariantSchema };
export type Variant = z.infer<typeof VariantSchema>;

/** How each variant is named to people (the Hugging Face checkpoint names). */
export const VARIANT_LABELS: Readonly<Record<Variant, string>> = {
  earthreason: 'EarthReason',
  'rrsis-d': 'RRSIS-D',
  refsegrs: 'RefSegRS',
  'tiny-test': 'tiny test fixture',
};

/** A bundle id doubles as its folder name (same rule as the manifest's `id`). */
export const BundleIdSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,127}$/, 'a bundle id is lower-case letters, digits, ".", "_" or "-"');

/** One file the manifest vouches for (path relative to the bundle folder, POSIX separators). */
export const BundleFileSchema = FileEntrySchema;
export type BundleFile = z.infer<typeof BundleFileSchema>;

/** What the model manager needs to know about a bundle; read from its manifest by `bundleFacts`. */
export const BundleFactsSchema = z.object({
  id: BundleIdSchema,
  name: z.string(),
  formatVersion: z.number().int().positive(),
  variant: VariantSchema,
  /** Generated test fixture (random weights): never present it as a model. */
  testFixture: z.boolean(),
  /** `fp32`, `fp16`, `int8-weight-only` when all graphs agree, else e.g. `image fp32, llm int8-weight-only, head fp32`. */
  precision: z.string(),
  /** e.g. earth-insights/SegEarth-R1-EarthReason; `synthetic` for generated fixtures. */
  sourceCheckpoint: z.string(),
  /** sha256 of the checkpoint's weight files, by name. */
  sourceFiles: z.array(z.object({ name: z.string(), sha256: z.string() })),
  /** Every file the manifest lists, manifest.json itself excluded. */
  files: z.array(BundleFileSchema),
});
export type BundleFacts = z.infer<typeof BundleFactsSchema>;

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

export const InstalledModelSchema = z.object({
  id: BundleIdSchema,
  name: z.string(),
  dir: z.string(),
  location: z.enum(['env', 'user', 'shipped']),
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
  location: z.enum(['env', 'user', 'shipped']),
  reason: z.string(),
});
export type BrokenModel = z.infer<typeof BrokenModelSchema>;

export const ModelProgressSchema = z.object({
  phase: z.enum(['download', 'hash', 'extract', 'copy', 'verify', 'install']),
  /** Bytes (or files, for verify) done / total in this phase; total is null when unknown. */
  done: z.number().nonnegative(),
  total: z.number().nonnegative().nullable(),
  message: z.string().optional(),
});
export type ModelProgress = z.infer<typeof ModelProgressSchema>;
export type ProgressListener = (event: ModelProgress) => void;

export const ModelSettingsSchema = z.object({
  version: z.literal(1),
  defaults: z.partialRecord(VariantSchema, BundleIdSchema),
});
export type ModelSettings = z.infer<typeof ModelSettingsSchema>;

/** `ModelStore.list()`: visible bundles in precedence order, and folders that are not usable bundles. */
export const ModelListingSchema = z.object({
  models: z.array(InstalledModelSchema),
  broken: z.array(BrokenModelSchema),
});

/** `ModelStore.defaults()`: the default bundle id per variant (null when none of that variant is installed). */
export const ModelDefaultsSchema = z.record(VariantSchema, BundleIdSchema.nullable());

/** `ModelStore.locations` (see `locations.ts`). */
export const ModelLocationsSchema = z.object({
  dataDir: z.string(),
  installDir: z.string(),
  searchDirs: z.array(z.object({ dir: z.string(), kind: z.enum(['env', 'user', 'shipped']), writable: z.boolean() })),
  settingsFile: z.string(),
  verifyCacheFile: z.string(),
  stagingDir: z.string(),
});

/** `firstRunGuide()`: what the question panel shows when no model is installed. */
export const FirstRunGuideSchema = z.object({
  title: z.string(),
  summary: z.string(),
  checkpoints: z.array(
    z.object({ variant: VariantSchema, label: z.string(), repo: z.string(), url: z.string(), use: z.string() }),
  ),
  /** Alternatives, easiest first; `commands` are shell commands in order. */
  options: z.array(z.object({ title: z.string(), detail: z.string(), commands: z.array(z.string()) })),
  installDir: z.string(),
  searchDirs: z.array(z.string()),
  docs: z.array(z.string()),
});
