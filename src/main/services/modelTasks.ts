/**
 * @module main/services/modelTasks
 * The model service's long-running tasks (import, download, verify, get, convert): each gets an id, reports
 * thinned-out progress and its end as `models.task` events, and can be stopped — cancelled (an error with code
 * CANCELLED) or, for a Get, paused (a `paused` event; its partial files stay for the next call).
 */
import type { InstalledModel, ModelProgress, ModelTaskKind } from '../../shared/api/modelDto.js';
import { SegEarthError, toErrorPayload, type ErrorPayload } from '../../shared/errors.js';
import type { EventBus } from '../events.js';

export type StopReason = 'cancel' | 'pause';

/** How a task ended, as its `onEnd` hook sees it (before the event goes out). */
export type TaskEnd = { type: 'done'; model: InstalledModel } | { type: 'paused' } | { type: 'error'; error: ErrorPayload };

export interface TaskWork {
  readonly signal: AbortSignal;
  readonly onProgress: (p: ModelProgress) => void;
}

export interface TaskHooks {
  /** Every progress event that goes out (after thinning). */
  onProgress?(progress: ModelProgress): void;
  /** Runs when the work has ended, before the final event is emitted (e.g. to record the state on disk). */
  onEnd?(end: TaskEnd): Promise<void> | void;
}

export interface ModelTasks {
  start(kind: ModelTaskKind, work: (options: TaskWork) => Promise<InstalledModel>, hooks?: TaskHooks): { taskId: string };
  stop(taskId: string, reason: StopReason): boolean;
  /** Tasks running now. */
  size(): number;
  /** Stops every task (shutdown): Gets are paused, the others cancelled. */
  stopAll(): void;
  /** Resolves when no task is running. */
  idle(): Promise<void>;
}

/**
 * Thins out progress: a new phase or stage, every whole per cent, or (total unknown) every 8 MiB / 8 files,
 * and the last event of a phase.
 */
export function progressGate(): (p: ModelProgress) => boolean {
  let phase = '';
  let lastDone = -1;
  let lastPercent = -1;
  return (p) => {
    const key = `${p.phase}/${p.stage ?? ''}`;
    const percent = p.total ? Math.floor((p.done / p.total) * 100) : -1;
    const step = p.phase === 'verify' || p.phase === 'convert' ? 8 : 8 * 1024 * 1024;
    const pass = key !== phase || (p.total !== null && (percent !== lastPercent || p.done >= p.total)) || (p.total === null && p.done - lastDone >= step);
    if (pass) {
      phase = key;
      lastDone = p.done;
      lastPercent = percent;
    }
    return pass;
  };
}

const STOPPED_HINTS: Partial<Record<ModelTaskKind, string>> = {
  download: 'Start the same download again to resume it.',
};

export function createModelTasks(events: EventBus): ModelTasks {
  const tasks = new Map<string, { kind: ModelTaskKind; controller: AbortController; done: Promise<void> }>();
  let nextTask = 1;

  return {
    start(kind, work, hooks = {}) {
      const taskId = `task-${nextTask++}`;
      const controller = new AbortController();
      const gate = progressGate();
      const onProgress = (progress: ModelProgress): void => {
        if (controller.signal.aborted || !gate(progress)) return;
        hooks.onProgress?.(progress);
        events.emit('models.task', { type: 'progress', taskId, kind, progress });
      };
      const finish = async (end: TaskEnd): Promise<void> => {
        try {
          await hooks.onEnd?.(end);
        } finally {
          tasks.delete(taskId);
          events.emit('models.task', { taskId, kind, ...end });
        }
      };
      // Reported after this call has returned the task id, so the caller can match the events.
      const done = Promise.resolve()
        .then(() => work({ signal: controller.signal, onProgress }))
        .then(
          (model) => finish({ type: 'done', model }),
          (err: unknown) => {
            const reason = controller.signal.aborted ? (controller.signal.reason as StopReason) : null;
            if (reason === 'pause') return finish({ type: 'paused' });
            const hint = STOPPED_HINTS[kind];
            const error = reason === 'cancel' ? new SegEarthError('CANCELLED', `The ${kind} was cancelled.`, hint ? { hint } : {}) : err;
            return finish({ type: 'error', error: toErrorPayload(error) });
          },
        )
        .catch((err: unknown) => console.error(`[segearth] model task ${taskId} could not record its end:`, err));
      tasks.set(taskId, { kind, controller, done });
      return { taskId };
    },
    stop(taskId, reason) {
      const task = tasks.get(taskId);
      if (!task || task.controller.signal.aborted) return false;
      task.controller.abort(reason);
      return true;
    },
    size: () => tasks.size,
    stopAll() {
      // A Get is paused, not cancelled: the app closing must not throw away gigabytes already downloaded.
      for (const t of tasks.values()) if (!t.controller.signal.aborted) t.controller.abort(t.kind === 'get' ? 'pause' : 'cancel');
    },
    async idle() {
      await Promise.all([...tasks.values()].map((t) => t.done));
    },
  };
}
