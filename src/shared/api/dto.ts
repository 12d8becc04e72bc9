/**
 * @module shared/api/dto
 * JSON-safe data shapes (zod schema + inferred type) that cross the boundary between the backend (Electron
 * main process or server mode) and the renderer. Coordinates are in the raster's own CRS ("map units")
 * unless a name says otherwise (`...LonLat`).
 */
import { z } from 'zod';
import { ErrorPayloadSchema } from '../errorPayloadSchema.js';
import { FeatureSetSchema, type FeatureSet } from '../featureSet.js';
import { ExtentSchema, RasterInfoSchema } from '../rasterInfo.js';
import { TileGridSpecSchema, type TileGridSpec } from '../tileGrid.js';
import { StrategySchema } from '../strategies.js';
import { ExportFormatSchema } from '../formats.js';

/** Opaque identifiers handed out by the backend. Short, URL-safe (they appear in tile URLs). */
export const IdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected an id made of letters, digits, _ and -');

/** A filesystem path as the backend sees it (absolute, or relative to the first allowed root in server mode). */
export const PathSchema = z.string().min(1, 'a file path is required').max(4096);

/** Tile pyramid of a raster layer in its own CRS (see shared/tileGrid). */
export { TileGridSpecSchema, type TileGridSpec };

export const RasterLayerSchema = z.object({
  id: IdSchema,
  /** File name shown in the layers panel. */
  name: z.string(),
  path: z.string(),
  info: RasterInfoSchema,
  tileGrid: TileGridSpecSchema,
  openedAt: z.string(),
});
export type RasterLayer = z.infer<typeof RasterLayerSchema>;

export const FileEntrySchema = z.object({
  name: z.string(),
  path: z.string(),
  kind: z.enum(['directory', 'raster', 'other']),
  sizeBytes: z.number().int().nonnegative().nullable(),
});
export type FileEntry = z.infer<typeof FileEntrySchema>;

export const FileListingSchema = z.object({
  /** The folder listed; null when the allowed roots themselves are listed. */
  dir: z.string().nullable(),
  parent: z.string().nullable(),
  roots: z.array(z.string()),
  entries: z.array(FileEntrySchema),
});
export type FileListing = z.infer<typeof FileListingSchema>;

const PointSchema = z.tuple([z.number(), z.number()]);

/** Area of interest of a question, in the raster's CRS. */
export const AoiSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('scene') }),
  z.object({ kind: z.literal('view'), extent: ExtentSchema }),
  z.object({ kind: z.literal('rectangle'), extent: ExtentSchema }),
  z.object({ kind: z.literal('polygon'), ring: z.array(PointSchema).min(4, 'a polygon needs at least three corners') }),
]);
export type Aoi = z.infer<typeof AoiSchema>;

/** `threshold` is a probability in (0, 1), the same meaning everywhere in the app and CLI (0.5 ≙ logit > 0). */
export const ThresholdSchema = z.number().gt(0).lt(1);
export const MinAreaSchema = z.number().min(0);

/** How a scene is run (shared/strategies): one resampled pass, full-resolution tiles, or a coarse pass refined where needed. */
export { StrategySchema } from '../strategies.js';

export const AskRequestSchema = z.object({
  layerId: IdSchema,
  question: z.string().trim().min(1, 'type a question first').max(2000, 'questions are limited to 2000 characters'),
  aoi: AoiSchema,
  threshold: ThresholdSchema.default(0.5),
  minAreaM2: MinAreaSchema.default(0),
  strategy: StrategySchema.default('auto'),
});
export type AskRequest = z.input<typeof AskRequestSchema>;

/**
 * Read a question's view ahead of the question (the analyst is typing): the first model pass an ask with this
 * scene, AOI and strategy would run, into the model's view cache, so that Ask only runs the question.
 */
export const ViewPrefetchRequestSchema = AskRequestSchema.pick({ layerId: true, aoi: true, strategy: true });
export type ViewPrefetchRequest = z.input<typeof ViewPrefetchRequestSchema>;

/**
 * How a view prefetch ended: `read` (the view is in the cache now), `cached` (it already was), `cancelled`
 * (a question about another view, another prefetch, or the layer's removal stopped it), `skipped` (not now:
 * `reason` says why — a question is running, the model is not loaded).
 */
export const ViewPrefetchResultSchema = z.object({
  outcome: z.enum(['read', 'cached', 'cancelled', 'skipped']),
  reason: z.string().nullable(),
  /** The strategy the question will run (`auto` resolved); null when nothing was planned. */
  strategy: StrategySchema.exclude(['auto']).nullable(),
  durationMs: z.number().nonnegative(),
});
export type ViewPrefetchResult = z.infer<typeof ViewPrefetchResultSchema>;

/** Result polygons in the raster's CRS (the map shows them in the raster's projection). */
export const ResultFeaturesSchema = FeatureSetSchema;
export type ResultFeatures = FeatureSet;

export const ResultSummarySchema = z.object({
  id: IdSchema,
  layerId: IdSchema,
  question: z.string(),
  aoi: AoiSchema,
  strategy: StrategySchema,
  createdAt: z.string(),
  modelId: z.string(),
  executionProvider: z.string(),
  threshold: ThresholdSchema,
  minAreaM2: MinAreaSchema,
  featureCount: z.number().int().nonnegative(),
  totalAreaM2: z.number().nonnegative(),
  /** Highest pixel probability inside the AOI: tells "nothing there" from "just under the threshold". */
  maxProbability: z.number().min(0).max(1),
  /** Where the cached probability raster lies on the map (raster CRS); null when none was kept. */
  probability: z.object({ extent: ExtentSchema, width: z.number().int(), height: z.number().int() }).nullable(),
  durationMs: z.number().nonnegative(),
});
export type ResultSummary = z.infer<typeof ResultSummarySchema>;

export const RevectorizeRequestSchema = z.object({
  resultId: IdSchema,
  threshold: ThresholdSchema,
  minAreaM2: MinAreaSchema,
});

export const ResultWithFeaturesSchema = z.object({ result: ResultSummarySchema, features: ResultFeaturesSchema });
export type ResultWithFeatures = z.infer<typeof ResultWithFeaturesSchema>;

export const JOB_STAGES = ['queued', 'loading-model', 'reading', 'image', 'question', 'tiles', 'stitching', 'vectorizing', 'done'] as const;
export const JobStageSchema = z.enum(JOB_STAGES);

export const JobEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('progress'),
    jobId: IdSchema,
    stage: JobStageSchema,
    /** What the stage is doing, in an analyst's words. */
    message: z.string(),
    tileIndex: z.number().int().nonnegative(),
    tileCount: z.number().int().nonnegative(),
    /** 0..1 over the whole job. */
    fraction: z.number().min(0).max(1),
    etaSeconds: z.number().nonnegative().nullable(),
  }),
  z.object({ type: z.literal('result'), jobId: IdSchema, result: ResultSummarySchema }),
  /** Cancellation arrives as an error with code CANCELLED. */
  z.object({ type: z.literal('error'), jobId: IdSchema, error: ErrorPayloadSchema }),
]);
export type JobEvent = z.infer<typeof JobEventSchema>;

export { EXPORT_FORMATS, ExportFormatSchema, type ExportFormat } from '../formats.js';

export const ExportRequestSchema = z.object({
  resultIds: z.array(IdSchema).min(1, 'choose at least one result to export'),
  format: ExportFormatSchema,
  path: PathSchema,
  overwrite: z.boolean().default(false),
});
export const ExportReportSchema = z.object({
  format: ExportFormatSchema,
  path: z.string(),
  /** Every file written (a Shapefile is five). */
  files: z.array(z.string()),
  featureCount: z.number().int().nonnegative(),
});
export type ExportReport = z.infer<typeof ExportReportSchema>;

/** What settings may ask for (`auto` or one provider; shared/executionProviders). */
import { EpRequestSchema as ExecutionProviderSchema } from '../executionProviders.js';
export { EP_REQUESTS as EXECUTION_PROVIDERS, EpRequestSchema as ExecutionProviderSchema } from '../executionProviders.js';

export const SettingsSchema = z.object({
  /** Folder of the model bundle; null = the default `models/` folder next to the app. */
  modelDir: z.string().nullable(),
  executionProvider: ExecutionProviderSchema,
  /** Online OpenStreetMap basemap under the scene. Off by default: the app works offline. */
  basemap: z.boolean(),
  defaultThreshold: ThresholdSchema,
  defaultMinAreaM2: MinAreaSchema,
  recentFiles: z.array(z.string()).max(20),
});
export type Settings = z.infer<typeof SettingsSchema>;
export const SettingsPatchSchema = SettingsSchema.omit({ recentFiles: true }).partial();
export type SettingsPatch = z.infer<typeof SettingsPatchSchema>;

/**
 * Whether the model is in memory: `loading` (sessions being created), `warming-up` (the first question passes
 * run in the background on a blank view, so that the analyst's first question does not pay for the slow first passes; a
 * question asked meanwhile stops it), `loaded`, or `not-loaded` (it loads with the first question).
 */
export const ModelLoadSchema = z.enum(['not-loaded', 'loading', 'warming-up', 'loaded']);
export type ModelLoad = z.infer<typeof ModelLoadSchema>;

export const ModelStatusSchema = z.object({
  state: z.enum(['ready', 'missing', 'invalid', 'runtime-unavailable']),
  /** See `ModelLoadSchema`; absent when the runtime does not tell. */
  load: ModelLoadSchema.optional(),
  dir: z.string().nullable(),
  id: z.string().nullable(),
  name: z.string().nullable(),
  variant: z.string().nullable(),
  /** Questions to start from, per model variant. */
  examples: z.array(z.string()),
  /** What is wrong and what to do, when not ready. */
  problem: z.string().nullable(),
});
export type ModelStatus = z.infer<typeof ModelStatusSchema>;

export const SystemInfoSchema = z.object({
  appVersion: z.string(),
  mode: z.enum(['electron', 'server']),
  platform: z.string(),
  arch: z.string(),
  nodeVersion: z.string(),
  gdalVersion: z.string().nullable(),
  onnxruntimeVersion: z.string().nullable(),
  cpuCount: z.number().int(),
  model: ModelStatusSchema,
  executionProvider: z.object({
    requested: ExecutionProviderSchema,
    active: z.string().nullable(),
    /** Why the active provider is not the one asked for (e.g. "no Vulkan driver, using CPU"). */
    fallbackReason: z.string().nullable(),
    /** Advice about the loaded model on this provider, e.g. "its image graph is int8 for CPUs" (after a load). */
    notes: z.array(z.string()),
  }),
  /** Folders the backend may read and write (server mode); empty = unrestricted (desktop). */
  roots: z.array(z.string()),
  logsDir: z.string().nullable(),
  /** The renderer exposes `window.SegEarthTestHooks` (end-to-end tests only). */
  testHooks: z.boolean(),
});
export type SystemInfo = z.infer<typeof SystemInfoSchema>;

/** Commands the desktop menu sends to the workspace. */
export const AppCommandSchema = z.discriminatedUnion('command', [
  z.object({ command: z.literal('open-raster'), path: z.string() }),
  z.object({ command: z.literal('export-results') }),
  z.object({ command: z.literal('batch') }),
  z.object({ command: z.literal('zoom-to-layer') }),
  z.object({ command: z.literal('toggle-basemap') }),
  z.object({ command: z.literal('model-settings') }),
  z.object({ command: z.literal('about') }),
]);
export type AppCommand = z.infer<typeof AppCommandSchema>;
