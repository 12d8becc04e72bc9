/**
 * @module renderer/panels/useModelTask
 * The Model & device dialog's one running install task (import, download, verify, convert): starts it,
 * follows its `models.task` events (events that arrive before the call has returned its id are kept and
 * replayed), and ends with a notice or a problem. Gets of released checkpoints are `useModelReleases`.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ApiClient } from '../../shared/api/contract';
import { VARIANT_LABELS, type ModelProgress, type ModelTaskEvent, type ModelTaskKind } from '../../shared/api/modelDto';
import { formatBytes } from '../format';
import { problemText } from './modelText';

export interface RunningTask {
  taskId: string | null;
  kind: ModelTaskKind;
  label: string;
  progress: ModelProgress | null;
}

export interface ModelTaskState {
  task: RunningTask | null;
  notice: string | null;
  problem: string | null;
  /** Starts a task; `call` asks the backend and answers its id. */
  start(kind: ModelTaskKind, label: string, call: () => Promise<{ taskId: string }>): void;
  cancel(): void;
  /** Shows a problem from any other call of the dialog. */
  fail(err: unknown): void;
  say(notice: string | null): void;
}

function doneNotice(event: Extract<ModelTaskEvent, { type: 'done' }>): string {
  const m = event.model;
  if (event.kind === 'verify') {
    return `${m.name}: ${m.verify.state === 'verified' ? `all ${m.verify.checkedFiles} files match the manifest` : `${m.verify.problems.length} file(s) do not match the manifest`}.`;
  }
  return `Installed ${m.name} (${VARIANT_LABELS[m.variant]}, ${m.precision}, ${formatBytes(m.sizeBytes)}).`;
}

/** `onEnded` runs after every task's end (reload the catalog, refresh the status bar). */
export function useModelTask(client: ApiClient, onEnded: () => void): ModelTaskState {
  const [task, setTask] = useState<RunningTask | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const taskRef = useRef<RunningTask | null>(null);
  const early = useRef<ModelTaskEvent[]>([]);

  const update = (next: RunningTask | null) => {
    taskRef.current = next;
    setTask(next);
  };
  const fail = useCallback((err: unknown) => setProblem(problemText(err)), []);

  const apply = useCallback(
    (event: ModelTaskEvent) => {
      const current = taskRef.current;
      if (!current || event.kind === 'get') return;
      if (current.taskId === null) {
        early.current.push(event);
        return;
      }
      if (event.taskId !== current.taskId) return;
      if (event.type === 'progress') {
        update({ ...current, progress: event.progress });
        return;
      }
      update(null);
      if (event.type === 'done') {
        setProblem(null);
        setNotice(doneNotice(event));
      } else if (event.type === 'error') {
        setNotice(null);
        fail(event.error);
      }
      onEnded();
    },
    [fail, onEnded],
  );

  useEffect(() => client.on('models.task', apply), [client, apply]);

  const start = (kind: ModelTaskKind, label: string, call: () => Promise<{ taskId: string }>) => {
    setProblem(null);
    setNotice(null);
    early.current = [];
    const pending: RunningTask = { taskId: null, kind, label, progress: null };
    update(pending);
    call()
      .then(({ taskId }) => {
        update({ ...pending, taskId });
        const queued = early.current;
        early.current = [];
        for (const e of queued) apply(e);
      })
      .catch((err: unknown) => {
        update(null);
        fail(err);
      });
  };

  const cancel = () => {
    const id = taskRef.current?.taskId;
    if (id) client.models.cancel({ taskId: id }).catch(fail);
  };

  return { task, notice, problem, start, cancel, fail, say: setNotice };
}
