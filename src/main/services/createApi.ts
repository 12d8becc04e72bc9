/**
 * @module main/services/createApi
 * The composition root of the backend: builds every service from its dependencies (plain constructor
 * injection) and binds them to the contract's {@link ApiImplementation}. Used by both the Electron main
 * process and server mode; nothing here imports Electron.
 */
import { cpus, homedir } from 'node:os';
import { join } from 'node:path';
import type { ApiImplementation } from '../../shared/api/contract.js';
import type { SystemInfo } from '../../shared/api/dto.js';
import { createEventBus, type EventBus } from '../events.js';
import type { GeoBackend, InferenceBackend } from './backends.js';
import { exportResults } from './exportService.js';
import { listFolder } from './fileService.js';
import { createBatchService, type BatchService } from './batchService.js';
import { createInferenceService, type InferenceService } from './inferenceService.js';
import { createViewPrefetchService, type ViewPrefetchService } from './viewPrefetchService.js';
import { ModelStore } from '../../inference/models/ModelStore.js';
import type { DeviceReport } from '../../shared/api/modelDto.js';
import { createModelService, type ModelService } from './modelService.js';
import type { ModelSources } from './modelSources.js';
import { createPathGuard, type PathGuard } from './pathGuard.js';
import { createSettingsService, type SettingsService } from './settingsService.js';
import { createWorkspaceService, type WorkspaceService } from './workspaceService.js';

export interface BackendOptions {
  mode: 'electron' | 'server';
  appVersion: string;
  /** Allowed folders (server mode); empty = unrestricted. */
  roots: string[];
  /** Settings and caches live here. */
  dataDir: string;
  logsDir: string | null;
  geo: GeoBackend;
  runtime: InferenceBackend;
  testHooks: boolean;
  /** Native file dialog (desktop only). */
  pickPath?: (purpose: 'open-raster' | 'export' | 'folder', defaultName: string | undefined) => Promise<string | null>;
  /** The model manager (default: the folders of `resolveModelLocations()`, i.e. SEGEARTH_MODELS_DIR, user folder, shipped). */
  modelStore?: ModelStore;
  /** Execution-provider probe for the Model & device dialog (default: onnxruntime probe sessions). */
  probeDevices?: () => Promise<DeviceReport>;
  /** The model hub client and checkpoint converter behind Get and Convert (default: the real ones). */
  modelSources?: ModelSources;
}

export interface Backend {
  api: ApiImplementation;
  events: EventBus;
  guard: PathGuard;
  workspace: WorkspaceService;
  inference: InferenceService;
  viewPrefetch: ViewPrefetchService;
  batch: BatchService;
  settings: SettingsService;
  models: ModelService;
  /** What the status bar and About show: versions, model, execution provider, roots. */
  systemInfo(): Promise<SystemInfo>;
}

export async function createBackend(options: BackendOptions): Promise<Backend> {
  const events = createEventBus();
  const guard = await createPathGuard(options.roots, options.geo.filesReadBy ? { filesReadBy: (p) => options.geo.filesReadBy!(p) } : {});
  if (guard.roots.length > 0) options.geo.confineReads?.();
  const settings = createSettingsService(options.dataDir, events);
  const workspace = createWorkspaceService(options.geo, guard, (path) => {
    void settings.addRecent(path);
  });
  const inference = createInferenceService({
    workspace,
    geo: options.geo,
    runtime: options.runtime,
    events,
    settings,
    cacheDir: join(options.dataDir, 'cache', 'results'),
  });

  const viewPrefetch = createViewPrefetchService({ workspace, runtime: options.runtime, settings, asking: () => inference.asking() });

  const batch = createBatchService({ guard, events, settings, runtime: options.runtime });

  const models = createModelService({
    store: options.modelStore ?? new ModelStore(),
    events,
    guard,
    ...(options.probeDevices ? { probe: options.probeDevices } : {}),
    ...(options.modelSources ? { sources: options.modelSources } : {}),
  });

  const systemInfo = async (): Promise<SystemInfo> => {
    const current = await settings.get();
    const [status, ep, load] = await Promise.all([
      options.runtime.modelStatus(current.modelDir),
      options.runtime.executionProvider(current.executionProvider),
      options.runtime.loadState?.(current),
    ]);
    const model = load && status.state === 'ready' ? { ...status, load } : status;
    return {
      appVersion: options.appVersion,
      mode: options.mode,
      platform: process.platform,
      arch: process.arch,
      nodeVersion: process.versions.node,
      gdalVersion: options.geo.gdalVersion(),
      onnxruntimeVersion: options.runtime.version(),
      cpuCount: cpus().length,
      model,
      executionProvider: { requested: current.executionProvider, active: ep.active, fallbackReason: ep.fallbackReason, notes: ep.notes },
      roots: [...guard.roots],
      logsDir: options.logsDir,
      testHooks: options.testHooks,
    };
  };

  const ok = { ok: true as const };
  const api: ApiImplementation = {
    workspace: {
      openRaster: ({ path }) => workspace.openRaster(path),
      listLayers: async () => workspace.listLayers(),
      removeLayer: async ({ layerId }) => (workspace.removeLayer(layerId), ok),
    },
    files: {
      list: ({ dir }) => listFolder(guard, dir, homedir()),
      pickPath: async ({ purpose, defaultName }) => ({ path: options.pickPath ? await options.pickPath(purpose, defaultName) : null }),
    },
    inference: {
      ask: (args) => inference.ask(args),
      cancel: async ({ jobId }) => ({ cancelled: inference.cancel(jobId) }),
      prefetchView: (args) => viewPrefetch.prefetch(args),
      revectorize: ({ resultId, threshold, minAreaM2 }) => inference.revectorize(resultId, threshold, minAreaM2),
      listResults: async ({ layerId }) => inference.listResults(layerId),
      getFeatures: async ({ resultId }) => inference.getFeatures(resultId),
      deleteResult: async ({ resultId }) => (await inference.deleteResult(resultId), ok),
    },
    export: {
      results: (args) => exportResults(args, { geo: options.geo, inference, guard, workspace }),
    },
    batch: {
      start: (args) => batch.start(args),
      pause: async ({ batchId }) => batch.pause(batchId),
      resume: async ({ batchId }) => batch.resume(batchId),
      cancel: async ({ batchId }) => batch.cancel(batchId),
      status: async ({ batchId }) => batch.status(batchId),
      list: async () => batch.list(),
      inspect: ({ outputFolder }) => batch.inspect(outputFolder),
    },
    settings: {
      get: () => settings.get(),
      // In server mode the model folder must lie inside the roots (else the answer would say whether a
      // bundle exists anywhere on the machine); it is stored as its real path.
      update: async (patch) =>
        settings.update(guard.roots.length > 0 && patch.modelDir ? { ...patch, modelDir: await guard.resolveExisting(patch.modelDir) } : patch),
    },
    system: {
      info: () => systemInfo(),
    },
    models: {
      list: () => models.catalog(),
      guide: async () => models.guide(),
      import: ({ source, replace }) => models.startImport(source, replace),
      download: ({ url, sha256, replace }) => models.startDownload(url, sha256, replace),
      verify: ({ id }) => models.startVerify(id),
      cancel: async ({ taskId }) => ({ cancelled: models.cancel(taskId) }),
      releases: () => models.releases(),
      get: ({ repo, precision }) => models.startGet(repo, precision),
      pauseGet: async ({ repo }) => ({ paused: await models.pauseGet(repo) }),
      cancelGet: async ({ repo }) => ({ cancelled: await models.cancelGet(repo) }),
      convert: ({ checkpointDir, precision, replace }) => models.startConvert(checkpointDir, precision, replace),
      remove: async ({ id }) => (await models.remove(id), ok),
      setDefault: async ({ id }) => ({ variant: await models.setDefault(id) }),
      devices: () => models.devices(),
    },
  };

  // The model loads and warms up in the background from the start (and again when its settings change), so
  // the first question does not pay for it; the status bar shows the load state (system.info's model.load).
  const prepareModel = async (): Promise<void> => {
    if (options.runtime.prepare) await options.runtime.prepare(await settings.get());
  };
  void prepareModel();
  events.subscribe(({ event }) => {
    if (event === 'settings.changed') void prepareModel();
  });

  return { api, events, guard, workspace, inference, viewPrefetch, batch, settings, models, systemInfo };
}
