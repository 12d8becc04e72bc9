/**
 * @module main/services/modelService
 * The Model & device dialog's backend, over the model manager (`inference/models/ModelStore`, the same one
 * `segearth models …` uses): list bundles with their defaults and folders, import / download / verify as
 * cancellable tasks that report `models.task` events, remove, choose the default per variant, the first-run
 * guide, and the execution providers of this machine (probed once per process).
 *
 * In server mode a bundle can only be imported from inside the allowed folders (the path guard).
 */
import { firstRunGuide } from '../../inference/models/firstRun.js';
import type { ModelStore } from '../../inference/models/ModelStore.js';
import type { InstalledModel, ModelProgress, Variant } from '../../inference/models/types.js';
import { FirstRunGuideSchema, type DeviceReport, type FirstRunGuide, type ModelCatalog, type ModelTaskKind } from '../../shared/api/modelDto.js';
import { SegEarthError, toErrorPayload } from '../../shared/errors.js';
import type { EventBus } from '../events.js';
import { probeDevices } from './deviceProbe.js';
import type { PathGuard } from './pathGuard.js';

export interface ModelServiceDeps {
  store: ModelStore;
  events: EventBus;
  guard: PathGuard;
  /** Probes the execution providers (tests inject a fake; default: onnxruntime probe sessions). */
  probe?: () => Promise<DeviceReport>;
}

export interface ModelService {
  catalog(): Promise<ModelCatalog>;
  guide(): FirstRunGuide;
  startImport(source: string, replace: boolean): Promise<{ taskId: string }>;
  startDownload(url: string, sha256: string, replace: boolean): Promise<{ taskId: string }>;
  startVerify(id: string): Promise<{ taskId: string }>;
  cancel(taskId: string): boolean;
  remove(id: string): Promise<void>;
  setDefault(id: string): Promise<Variant>;
  devices(): Promise<DeviceReport>;
  /** Cancels every running task (shutdown). */
  cancelAll(): void;
  /** Resolves when no task is running. */
  idle(): Promise<void>;
}

/**
 * Thins out progress: a new phase, every whole per cent, or (total unknown) every 8 MiB / 8 files, and the
 * last event of a phase.
 */
export function progressGate(): (p: ModelProgress) => boolean {
  let phase = '';
  let lastDone = -1;
  let lastPercent = -1;
  return (p) => {
    const percent = p.total ? Math.floor((p.done / p.total) * 100) : -1;
    const step = p.phase === 'verify' ? 8 : 8 * 1024 * 1024;
    const pass =
      p.phase !== phase || (p.total !== null && (percent !== lastPercent || p.done >= p.total)) || (p.total === null && p.done - lastDone >= step);
    if (pass) {
      phase = p.phase;
      lastDone = p.done;
      lastPercent = percent;
    }
    return pass;
  };
}

export function createModelService(deps: ModelServiceDeps): ModelService {
  const { store, events, guard } = deps;
  const tasks = new Map<string, { controller: AbortController; done: Promise<void> }>();
  let nextTask = 1;
  let devices: Promise<DeviceReport> | null = null;

  const start = (kind: ModelTaskKind, work: (options: { signal: AbortSignal; onProgress: (p: ModelProgress) => void }) => Promise<InstalledModel>): { taskId: string } => {
    const taskId = `task-${nextTask++}`;
    const controller = new AbortController();
    const gate = progressGate();
    const onProgress = (progress: ModelProgress): void => {
      if (!controller.signal.aborted && gate(progress)) events.emit('models.task', { type: 'progress', taskId, kind, progress });
    };
    // Reported after this call has returned the task id, so the caller can match the events.
    const done = Promise.resolve()
      .then(() => work({ signal: controller.signal, onProgress }))
      .then(
        (model) => {
          tasks.delete(taskId);
          events.emit('models.task', { type: 'done', taskId, kind, model });
        },
        (err: unknown) => {
          tasks.delete(taskId);
          const cancelled = controller.signal.aborted
            ? new SegEarthError('CANCELLED', `The ${kind} was cancelled.`, kind === 'download' ? { hint: 'Start the same download again to resume it.' } : {})
            : err;
          events.emit('models.task', { type: 'error', taskId, kind, error: toErrorPayload(cancelled) });
        },
      );
    tasks.set(taskId, { controller, done });
    return { taskId };
  };

  return {
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
    cancel(taskId) {
      const task = tasks.get(taskId);
      if (!task) return false;
      task.controller.abort();
      return true;
    },
    async remove(id) {
      if ([...tasks.values()].length > 0) {
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
    cancelAll() {
      for (const t of tasks.values()) t.controller.abort();
    },
    async idle() {
      await Promise.all([...tasks.values()].map((t) => t.done));
    },
  };
}
