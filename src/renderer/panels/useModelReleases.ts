/**
 * @module renderer/panels/useModelReleases
 * The released checkpoints' cards and their Gets: loads `models.releases` (sizes, precision for this device,
 * installed bundle, how far each Get got — also a Get paused before the app was restarted), follows the
 * `models.task` events of kind `get` for live progress, and offers Get / Pause / Resume / Cancel.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ApiClient } from '../../shared/api/contract';
import type { InstalledModel, ModelProgress, ModelTaskEvent } from '../../shared/api/modelDto';
import type { ModelReleases } from '../../shared/api/modelReleaseDto';

export interface ReleasesState {
  releases: ModelReleases | null;
  /** Live progress of running Gets, by repository. */
  progress: ReadonlyMap<string, ModelProgress>;
  /** Gets that just finished in this dialog, by repository. */
  installed: ReadonlyMap<string, InstalledModel>;
  /** A call that failed (the Get's own failures are in its release's `get.error`). */
  problem: unknown;
  get(repo: string): void;
  pause(repo: string): void;
  cancel(repo: string): void;
}

/** `onInstalled` runs when a Get has installed its bundle (it is the default now: refresh the status bar). */
export function useModelReleases(client: ApiClient, onInstalled: () => void): ReleasesState {
  const [releases, setReleases] = useState<ModelReleases | null>(null);
  const [progress, setProgress] = useState<Map<string, ModelProgress>>(new Map());
  const [installed, setInstalled] = useState<Map<string, InstalledModel>>(new Map());
  const [problem, setProblem] = useState<unknown>(null);
  /** Running Get task → repository (from the cards and from Get calls). */
  const tasks = useRef(new Map<string, string>());

  const reload = useCallback(() => {
    client.models
      .releases({})
      .then((r) => {
        for (const rel of r.releases) if (rel.get?.taskId) tasks.current.set(rel.get.taskId, rel.repo);
        setReleases(r);
      })
      .catch(setProblem);
  }, [client]);

  useEffect(reload, [reload]);

  useEffect(
    () =>
      client.on('models.task', (event: ModelTaskEvent) => {
        if (event.kind !== 'get') return;
        const repo = tasks.current.get(event.taskId);
        if (!repo) {
          // Started before this dialog knew its id (another window, or the event overtook the call's answer).
          if (event.type === 'done') onInstalled();
          reload();
          return;
        }
        if (event.type === 'progress') {
          setProgress((m) => new Map(m).set(repo, event.progress));
          return;
        }
        tasks.current.delete(event.taskId);
        setProgress((m) => {
          const next = new Map(m);
          next.delete(repo);
          return next;
        });
        if (event.type === 'done') {
          setInstalled((m) => new Map(m).set(repo, event.model));
          onInstalled();
        }
        reload();
      }),
    [client, reload, onInstalled],
  );

  const get = (repo: string) => {
    setProblem(null);
    client.models
      .get({ repo })
      .then(({ taskId }) => {
        tasks.current.set(taskId, repo);
        reload();
      })
      .catch(setProblem);
  };
  const pause = (repo: string) => {
    client.models.pauseGet({ repo }).catch(setProblem);
  };
  const cancel = (repo: string) => {
    const rel = releases?.releases.find((r) => r.repo === repo);
    const question = `Stop getting ${rel?.label ?? repo}? The file being downloaded is deleted; files already complete stay in the download cache for next time.`;
    if (!window.confirm(question)) return;
    client.models
      .cancelGet({ repo })
      .then(reload)
      .catch(setProblem);
  };

  return { releases, progress, installed, problem, get, pause, cancel };
}
