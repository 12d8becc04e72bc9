/**
 * @module inference/models/types
 * The model manager's data shapes, as zod schemas: what `segearth models list --json` prints and what the
 * app's Model & device dialog receives. JSON-safe and free of Node imports, so the renderer can import them.
 */
import { z } from 'zod';

export const VARIANTS = ['EarthReason', 'RRSIS-D', 'RefSegRS'] as const;
export const VariantSchema = z.enum(VARIANTS);
export type Variant = z.infer<typeof VariantSchema>;

/** A bundle id doubles as its folder name: keep it portable and free of path tricks. */
export const BundleIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'a bundle id is 1-128 letters, digits, ".", "_" or "-"');

/** One file the manifest vouches for (path relative to the bundle folder, POSIX separators). */
export const BundleFileSchema = z.object({
  path: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative().optional(),
});
export type BundleFile = z.infer<typeof BundleFileSchema>;

/** What the model manager needs to know about a bundle; read from its manifest by `bundleFacts`. */
export const BundleFactsSchema = z.object({
  id: BundleIdSchema,
  formatVersion: z.number().int().positive(),
  variant: VariantSchema,
  /** e.g. fp32, fp16, int8, int4, or "mixed" when graphs differ. */
  precision: z.string(),
  /** e.g. earth-insights/SegEarth-R1-EarthReason; "tiny test fixture" for generated bundles. */
  sourceCheckpoint: z.string(),
  sourceSha256: z.string().optional(),
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
  dir: z.string(),
  location: z.enum(['env', 'user', 'shipped']),
  writable: z.boolean(),
  variant: VariantSchema,
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
