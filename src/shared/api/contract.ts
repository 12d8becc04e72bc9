/**
 * @module shared/api/contract
 * The one typed API between the workspace (renderer) and the backend (Electron main process or server mode).
 * Every method has a zod schema for its argument and its result, every event a schema for its payload; both
 * transports validate against these. The types the renderer and the backend program against are derived
 * from this object, so a change here is a change of the API (see the surface snapshot in
 * test/shared/apiSurface.test.ts).
 */
import { z } from 'zod';
import {
  AppCommandSchema,
  AskRequestSchema,
  ExportReportSchema,
  ExportRequestSchema,
  ResultFeaturesSchema,
  FileListingSchema,
  IdSchema,
  JobEventSchema,
  PathSchema,
  RasterLayerSchema,
  ResultSummarySchema,
  ResultWithFeaturesSchema,
  RevectorizeRequestSchema,
  SettingsPatchSchema,
  SettingsSchema,
  SystemInfoSchema,
  ViewPrefetchRequestSchema,
  ViewPrefetchResultSchema,
} from './dto.js';
import {
  DeviceReportSchema,
  DownloadModelRequestSchema,
  FirstRunGuideSchema,
  ImportModelRequestSchema,
  ModelCatalogSchema,
  ModelIdRequestSchema,
  ModelTaskEventSchema,
  ModelTaskIdSchema,
  VariantSchema,
} from './modelDto.js';
import { ConvertModelRequestSchema, GetModelRequestSchema, ModelReleasesSchema, RepoRequestSchema } from './modelReleaseDto.js';
import { BatchFinishedSchema, BatchFolderInfoSchema, BatchRecordSchema, BatchStartRequestSchema, BatchStatusSchema } from './batchDto.js';

export interface MethodSpec<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  readonly input: I;
  readonly output: O;
  /** One line for the API surface listing. */
  readonly summary: string;
}

function method<I extends z.ZodType, O extends z.ZodType>(input: I, output: O, summary: string): MethodSpec<I, O> {
  return { input, output, summary };
}

const Empty = z.object({}).strict();
const Ok = z.object({ ok: z.literal(true) });

export const api = {
  workspace: {
    openRaster: method(z.object({ path: PathSchema }), RasterLayerSchema, 'Open a raster file as a map layer'),
    listLayers: method(Empty, z.array(RasterLayerSchema), 'Raster layers open in this workspace'),
    removeLayer: method(z.object({ layerId: IdSchema }), Ok, 'Close a raster layer and forget its results'),
  },
  files: {
    list: method(
      z.object({ dir: PathSchema.optional() }),
      FileListingSchema,
      'List a folder (the allowed roots when none is given) for the file picker',
    ),
    pickPath: method(
      z.object({ purpose: z.enum(['open-raster', 'export', 'folder']), defaultName: z.string().optional() }),
      z.object({ path: z.string().nullable() }),
      'Native file dialog (desktop); null when cancelled or when there is no native dialog (browser)',
    ),
  },
  inference: {
    ask: method(AskRequestSchema, z.object({ jobId: IdSchema }), 'Ask a question about a raster; progress and result arrive as inference.job events'),
    cancel: method(z.object({ jobId: IdSchema }), z.object({ cancelled: z.boolean() }), 'Cancel a running question'),
    prefetchView: method(
      ViewPrefetchRequestSchema,
      ViewPrefetchResultSchema,
      'Read the view of a question ahead of it (while the analyst types): resolves when the view is in the model\'s cache, or why not',
    ),
    revectorize: method(RevectorizeRequestSchema, ResultWithFeaturesSchema, 'Redraw polygons from the cached probability raster with another threshold / minimum area'),
    listResults: method(z.object({ layerId: IdSchema }), z.array(ResultSummarySchema), 'Question history of a scene, newest first'),
    getFeatures: method(z.object({ resultId: IdSchema }), ResultFeaturesSchema, 'Polygons of a result, in the raster CRS'),
    deleteResult: method(z.object({ resultId: IdSchema }), Ok, 'Delete a result and its cached probability raster'),
  },
  export: {
    results: method(ExportRequestSchema, ExportReportSchema, 'Write results as GeoJSON, Shapefile, GeoPackage or a mask GeoTIFF'),
  },
  batch: {
    start: method(BatchStartRequestSchema, z.object({ batchId: IdSchema }), 'Run question(s) over every scene of a folder; progress arrives as batch.progress, the end as batch.finished'),
    pause: method(z.object({ batchId: IdSchema }), BatchStatusSchema, 'Pause a batch after the item that is running'),
    resume: method(z.object({ batchId: IdSchema }), BatchStatusSchema, 'Continue a paused batch'),
    cancel: method(z.object({ batchId: IdSchema }), BatchStatusSchema, 'Stop a batch (continue it later with resume: true on the same output folder)'),
    status: method(z.object({ batchId: IdSchema }), BatchRecordSchema, 'Status of a batch, and its summary once it has ended'),
    list: method(Empty, z.array(BatchRecordSchema), 'Batches of this session, newest first'),
    inspect: method(z.object({ outputFolder: PathSchema }), BatchFolderInfoSchema, 'What an output folder holds: the plan of an earlier batch (to resume it with its settings) and how far it got'),
  },
  settings: {
    get: method(Empty, SettingsSchema, 'Current settings'),
    update: method(SettingsPatchSchema, SettingsSchema, 'Change settings (model folder, execution provider, basemap, defaults)'),
  },
  system: {
    info: method(Empty, SystemInfoSchema, 'Versions, model status, execution provider (and why it fell back)'),
  },
  models: {
    list: method(Empty, ModelCatalogSchema, 'Installed model bundles (variant, precision, size, source checkpoint, verified state), the default per variant and the model folders'),
    guide: method(Empty, FirstRunGuideSchema, 'How to get a model when none is installed: released checkpoints, export command, import or download'),
    import: method(ImportModelRequestSchema, z.object({ taskId: ModelTaskIdSchema }), 'Install a bundle from a folder or archive; progress and result arrive as models.task events'),
    download: method(DownloadModelRequestSchema, z.object({ taskId: ModelTaskIdSchema }), 'Download a bundle archive (resumable, sha256 checked) and install it; models.task events'),
    verify: method(ModelIdRequestSchema, z.object({ taskId: ModelTaskIdSchema }), 'Hash every file of a bundle against its manifest; models.task events'),
    cancel: method(z.object({ taskId: ModelTaskIdSchema }), z.object({ cancelled: z.boolean() }), 'Cancel an import, download, verification, Get or conversion'),
    releases: method(Empty, ModelReleasesSchema, 'The released checkpoints: size to download, precision for this device and why, licence, installed bundle, how far a Get got'),
    get: method(GetModelRequestSchema, z.object({ taskId: ModelTaskIdSchema }), 'Get a released checkpoint: download from the model hub, convert, install, make it the default; resumes a paused Get; models.task events'),
    pauseGet: method(RepoRequestSchema, z.object({ paused: z.boolean() }), 'Pause a Get (partial files kept, also across restarts); models.get resumes it'),
    cancelGet: method(RepoRequestSchema, z.object({ cancelled: z.boolean() }), 'Stop a running or paused Get and remove its partial files'),
    convert: method(ConvertModelRequestSchema, z.object({ taskId: ModelTaskIdSchema }), 'Convert a checkpoint folder into a bundle and install it (offline machines); models.task events'),
    remove: method(ModelIdRequestSchema, Ok, 'Delete an installed bundle (not one shipped with the app)'),
    setDefault: method(ModelIdRequestSchema, z.object({ variant: VariantSchema }), 'Make a bundle the default of its variant'),
    devices: method(Empty, DeviceReportSchema, 'Execution providers on this machine: which work, which one Automatic uses, why the others do not'),
  },
} as const;

/** Events pushed from the backend, named `<service>.<event>`. */
export const apiEvents = {
  'inference.job': JobEventSchema,
  'workspace.command': AppCommandSchema,
  'settings.changed': SettingsSchema,
  'models.task': ModelTaskEventSchema,
  'batch.progress': BatchStatusSchema,
  'batch.finished': BatchFinishedSchema,
} as const;

export type Api = typeof api;
export type ServiceName = keyof Api;
export type MethodName<S extends ServiceName> = keyof Api[S] & string;
type Spec<S extends ServiceName, M extends MethodName<S>> = Api[S][M] extends MethodSpec<infer I, infer O> ? { i: I; o: O } : never;
/** What a caller passes (defaults may be left out). */
export type MethodInput<S extends ServiceName, M extends MethodName<S>> = z.input<Spec<S, M>['i']>;
/** What the implementation receives (after validation and defaults). */
export type MethodArgs<S extends ServiceName, M extends MethodName<S>> = z.output<Spec<S, M>['i']>;
export type MethodResult<S extends ServiceName, M extends MethodName<S>> = z.output<Spec<S, M>['o']>;

export type EventName = keyof typeof apiEvents;
export type EventPayload<E extends EventName> = z.output<(typeof apiEvents)[E]>;

/** Per-call facts the transports know about the caller. */
export interface CallContext {
  readonly transport: 'ipc' | 'http' | 'direct';
}

/** What the backend implements: one async function per method. */
export type ApiImplementation = {
  [S in ServiceName]: {
    [M in MethodName<S>]: (args: MethodArgs<S, M>, ctx: CallContext) => Promise<MethodResult<S, M>>;
  };
};

/** What the renderer calls. */
export type ApiClient = {
  [S in ServiceName]: {
    [M in MethodName<S>]: (args: MethodInput<S, M>) => Promise<MethodResult<S, M>>;
  };
} & {
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
};

export function isServiceName(value: string): value is ServiceName {
  return Object.prototype.hasOwnProperty.call(api, value);
}

export function getMethodSpec(service: string, methodName: string): MethodSpec | undefined {
  if (!isServiceName(service)) return undefined;
  const methods = api[service] as Record<string, MethodSpec>;
  return Object.prototype.hasOwnProperty.call(methods, methodName) ? methods[methodName] : undefined;
}

export function isEventName(value: string): value is EventName {
  return Object.prototype.hasOwnProperty.call(apiEvents, value);
}

/** `service.method` for every method, sorted: the API surface. */
export function listApiSurface(): { methods: string[]; events: string[] } {
  const methods: string[] = [];
  for (const [service, specs] of Object.entries(api)) {
    for (const name of Object.keys(specs)) methods.push(`${service}.${name}`);
  }
  return { methods: methods.sort(), events: Object.keys(apiEvents).sort() };
}
