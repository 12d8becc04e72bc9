/**
 * @module main/services/modelService
 * The Model & device dialog's backend, over the model manager (`inference/models/ModelStore`, the same one
 * `segearth models …` uses): list bundles with their defaults and folders, import / download / verify /
 * convert as cancellable tasks that report `models.task` events, remove, choose the default per variant, the
 * first-run guide, and the execution providers of this machine (probed once per process). The released
 * checkpoints' Get flow (cards, pause / resume / cancel that survive a restart) is `modelGetService`.
 *
 * In server mode a bundle can only be imported or converted from inside the allowed folders (the path guard).
 */
import { firstRunGuide } from '../../inference/models/firstRun.js';
import type { ModelStore } from '../../inference/models/ModelStore.js';
import {
  FirstRunGuideSchema,
  type DeviceReport,
  type FirstRunGuide,
  type ModelCatalog,
  type Variant,
} from '../../shared/api/modelDto.js';
import type { ConversionPrecision, ModelReleases } from '../../shared/api/modelReleaseDto.js';
import { SegEarthError } from '../../shared/errors.js';
import type { EventBus } from '../events.js';
import { probeDevices } from './deviceProbe.js';
import { createModelGetService } from './modelGetService.js';
import { defaultModelSources, type ModelSources } from './modelSources.js';
import { createModelTasks } from './modelTasks.js';
import type { PathGuard } from './pathGuard.js';

export interface ModelServiceDeps {
  store: ModelStore;
  events: EventBus;
  guard: PathGuard;
  /** Probes the execution providers (tests inject a fake; default: onnxruntime probe sessions). */
  probe?: () => Promise<DeviceReport>;
  /** The model hub client and the checkpoint converter (default: `defaultModelSources()`). */
  sources?: ModelSources;
}

export interface ModelService {
  catalog(): Promise<ModelCatalog>;
  guide(): FirstRunGuide;
  startImport(source: string, replace: boolean): Promise<{ taskId: string }>;
  startDownload(url: string, sha256: string, replace: boolean): Promise<{ taskId: string }>;
  startVerify(id: string): Promise<{ taskId: string }>;
  /** Converts a checkpoint folder (inside the allowed folders) and installs the bundle. */
  startConvert(checkpointDir: string, precision: ConversionPrecision | undefined, replace: boolean): Promise<{ taskId: string }>;
  /** The released checkpoints' cards: size to download, precision for this device, what is installed, how far a Get got. */
  releases(): Promise<ModelReleases>;
  /** Gets a released checkpoint (download, convert, install, make it the default); resumes a paused Get. */
  startGet(repo: string, precision: ConversionPrecision | undefined): Promise<{ taskId: string }>;
  /** Pauses a running Get (its partial files are kept); false when it was not running. */
  pauseGet(repo: string): Promise<boolean>;
  /** Stops a running or paused Get and removes its partial files; false when there was none. */
  cancelGet(repo: string): Promise<boolean>;
  cancel(taskId: string): boolean;
  remove(id: string): Promise<void>;
  setDefault(id: string): Promise<Variant>;
  devices(): Promise<DeviceReport>;
  /** Stops every running task (shutdown): Gets are paused (resumed next time), the others cancelled. */
  cancelAll(): void;
  /** Resolves when no task is running. */
  idle(): Promise<void>;
}

export function createModelService(deps: ModelServiceDeps): ModelService {
  const { store, events, guard } = deps;
  const tasks = createModelTasks(events);
  let devices: Promise<DeviceReport> | null = null;
  const sources = deps.sources ?? defaultModelSources({ devices: () => service.devices() });
  const gets = createModelGetService({ store, tasks, sources });
  const start = tasks.start;

  const service: ModelService = {
    async catalog() {
      const [listing, defaults] = await Promise.all([store.list(), store.defaults().catch(() => null)]);
      const fallback = Object.fromEntries(
        (['earthreason', 'rrsis-d', 'refsegrs', 'tiny-test'] as const).map((v) => [v, listing.models.find((m) => m.variant === v && m.isDefault)?.id ?? null]),
      ) as Record<Variant, string | null>;
      return {
        models: listing.models,
        broken: listing.broken,
        defaults: defaults ?? fallback,
        locations: { installDir: store.locations.installDir, searchDirs: [...store.locations.searchDirs] },
      };
    },
    guide: () => FirstRunGuideSchema.parse(firstRunGuide(store.locations)),
    async startImport(source, replace) {
      const path = await guard.resolveExisting(source);
      return start('import', (o) => store.import(path, { replace, ...o }));
    },
    async startDownload(url, sha256, replace) {
      return start('download', (o) => store.download(url, { sha256, replace, ...o }));
    },
    async startVerify(id) {
      await store.get(id); // MODEL_NOT_FOUND now, not as a task event
      return start('verify', (o) => store.verify(id, { force: true, ...o }));
    },
    async startConvert(checkpointDir, requested, replace) {
      const dir = await guard.resolveExisting(checkpointDir);
      const precision = requested ?? (await sources.hub.recommendedPrecision()).precision;
      return start('convert', async (o) => {
        const id = await sources.convert(dir, precision, { store, replace, ...o });
        return store.get(id);
      });
    },
    releases: () => gets.releases(),
    startGet: (repo, precision) => gets.start(repo, precision),
    pauseGet: (repo) => gets.pause(repo),
    cancelGet: (repo) => gets.cancel(repo),
    cancel: (taskId) => tasks.stop(taskId, 'cancel'),
    async remove(id) {
      if (tasks.size() > 0) {
        throw new SegEarthError('BAD_ARGUMENT', 'A model is being installed or verified.', { hint: 'Wait for it to finish (or cancel it), then remove the bundle.' });
      }
      await store.remove(id);
    },
    setDefault: (id) => store.setDefault(id),
    devices() {
      devices ??= (deps.probe ?? (() => probeDevices()))();
      devices.catch(() => {
        devices = null;
      });
      return devices;
    },
    cancelAll: () => tasks.stopAll(),
    idle: () => tasks.idle(),
  };
  return service;
}
