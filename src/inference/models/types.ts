/**
 * @module inference/models/types
 * The model manager's own data shapes, as zod schemas. What crosses to the app and what
 * `segearth models list --json` prints (installed models, verify reports, progress, locations, the first-run
 * guide) is the contract's (`shared/api/modelDto`) and re-exported here for the manager's modules.
 */
import { z } from 'zod';
import { FileEntrySchema } from '../bundle/manifest.js';
import {
  BrokenModelSchema,
  BundleIdSchema,
  InstalledModelSchema,
  VariantSchema,
} from '../../shared/api/modelDto.js';

export {
  BrokenModelSchema,
  BundleIdSchema,
  FileProblemSchema,
  FirstRunGuideSchema,
  InstalledModelSchema,
  ModelDefaultsSchema,
  ModelLocationsSchema,
  ModelProgressSchema,
  VARIANT_LABELS,
  VARIANTS,
  VariantSchema,
  VerifyReportSchema,
  VerifyStateSchema,
} from '../../shared/api/modelDto.js';
export type {
  BrokenModel,
  FileProblem,
  InstalledModel,
  ModelProgress,
  ProgressListener,
  Variant,
  VerifyReport,
  VerifyState,
} from '../../shared/api/modelDto.js';

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
