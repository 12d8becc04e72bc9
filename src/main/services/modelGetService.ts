/**
 * @module main/services/modelGetService
 * The released checkpoints' Get flow behind the Model & device cards: each card's size to download (the hub's
 * model info when it answers, else the documented figure), the precision picked for this machine and why, the
 * licence, the installed bundle, and how far a Get got; Get (download + convert + install through the model
 * hub client, then made the default of its variant), pause (partial files kept), resume (Get again: the hub
 * client resumes from the partial files), cancel (partial files removed). The state of every Get is written
 * to the data folder as it changes (`getStateFile`), so a new service over the same folder — the app started
 * again — shows "paused at N %" with Resume.
 */
import { CHECKPOINTS, findCheckpoint } from '../../inference/models/firstRun.js';
import type { ModelStore } from '../../inference/models/ModelStore.js';
import type { ModelProgress } from '../../shared/api/modelDto.js';
import type { ConversionPrecision, GetState, ModelRelease, ModelReleases } from '../../shared/api/modelReleaseDto.js';
import { SegEarthError } from '../../shared/errors.js';
import { openGetStateFile, type GetStateFile } from './getStateFile.js';
import type { ModelSources } from './modelSources.js';
import type { ModelTasks, TaskEnd } from './modelTasks.js';

/** How long the cards wait for the hub's model info before showing the documented sizes. */
const HUB_INFO_TIMEOUT_MS = 8000;

export interface ModelGetService {
  releases(): Promise<ModelReleases>;
  start(repo: string, precision: ConversionPrecision | undefined): Promise<{ taskId: string }>;
  pause(repo: string): Promise<boolean>;
  cancel(repo: string): Promise<boolean>;
}

export function createModelGetService(deps: { store: ModelStore; tasks: ModelTasks; sources: ModelSources }): ModelGetService {
  const { store, tasks, sources } = deps;
  let stateFile: Promise<GetStateFile> | null = null;
  const states = (): Promise<GetStateFile> => (stateFile ??= openGetStateFile(store.locations.dataDir));
  /** Hub sizes already asked for in this process (they do not change under a revision). */
  const hubSizes = new Map<string, number>();

  const release = (name: string) => {
    const c = findCheckpoint(name);
    if (!c) {
      throw new SegEarthError('BAD_ARGUMENT', `${name} is not a released SegEarth-R1 checkpoint.`, {
        hint: `Choose one of ${CHECKPOINTS.map((x) => x.repo).join(', ')}, or convert a checkpoint folder.`,
      });
    }
    return c;
  };

  const askHubSizes = async (): Promise<string | null> => {
    const missing = CHECKPOINTS.filter((c) => !hubSizes.has(c.repo));
    if (missing.length === 0) return null;
    const signal = AbortSignal.timeout(HUB_INFO_TIMEOUT_MS);
    const answers = await Promise.allSettled(missing.map((c) => sources.hub.downloadBytes(c.repo, signal)));
    let problem: string | null = null;
    answers.forEach((a, i) => {
      if (a.status === 'fulfilled') hubSizes.set(missing[i]!.repo, a.value);
      else problem ??= a.reason instanceof Error ? a.reason.message : String(a.reason);
    });
    return problem;
  };

  return {
    async releases() {
      const [file, listing, precision, hubProblem] = await Promise.all([states(), store.list(), sources.hub.recommendedPrecision(), askHubSizes()]);
      const releases: ModelRelease[] = CHECKPOINTS.map((c) => {
        const hubBytes = hubSizes.get(c.repo);
        const installed = listing.models.find((m) => m.sourceCheckpoint.toLowerCase() === c.repo.toLowerCase() && !m.testFixture) ?? null;
        return {
          repo: c.repo,
          variant: c.variant,
          label: c.label,
          use: c.use,
          url: c.url,
          licence: c.licence,
          download: hubBytes !== undefined ? { bytes: hubBytes, source: 'hub' } : { bytes: c.approxDownloadBytes, source: 'approximate' },
          precision,
          installedId: installed?.id ?? null,
          get: file.get(c.repo) ?? null,
        };
      });
      return { releases, hubProblem: hubProblem === null ? null : `Sizes marked “about” are approximate: ${hubProblem}` };
    },

    async start(name, requested) {
      const c = release(name);
      const file = await states();
      const previous = file.get(c.repo);
      if (previous?.status === 'running') {
        throw new SegEarthError('BAD_ARGUMENT', `${c.label} is already being downloaded.`, { hint: 'Wait for it, or pause it first.' });
      }
      // A resumed Get keeps the precision it started with (its download is the same; the conversion restarts).
      const precision = requested ?? previous?.precision ?? (await sources.hub.recommendedPrecision()).precision;
      let state: GetState = {
        status: 'running',
        taskId: null,
        precision,
        phase: 'download',
        downloadedBytes: previous?.downloadedBytes ?? 0,
        totalBytes: previous?.totalBytes ?? null,
        updatedAt: new Date().toISOString(),
        error: null,
      };
      const record = (patch: Partial<GetState>): Promise<void> => {
        state = { ...state, ...patch, updatedAt: new Date().toISOString() };
        return file.set(c.repo, state);
      };
      const onProgress = (p: ModelProgress): void => {
        let patch: Partial<GetState> | null = null;
        if (p.phase === 'download' && p.total !== null) patch = { phase: 'download', downloadedBytes: p.done, totalBytes: p.total };
        else if (p.phase === 'convert' && state.phase !== 'convert') patch = { phase: 'convert', downloadedBytes: state.totalBytes ?? state.downloadedBytes };
        if (patch) void record(patch).catch(() => undefined); // progress only: the next write catches up
      };
      const onEnd = async (end: TaskEnd): Promise<void> => {
        if (end.type === 'done') {
          await file.delete(c.repo);
        } else if (end.type === 'paused') {
          await record({ status: 'paused', taskId: null });
        } else if (end.error.code === 'CANCELLED') {
          await sources.hub.discard(c.repo);
          await file.delete(c.repo);
        } else {
          await record({ status: 'failed', taskId: null, error: end.error });
        }
      };
      const { taskId } = tasks.start(
        'get',
        async ({ signal, onProgress: report }) => {
          const id = await sources.hub.get(c.repo, precision, { store, signal, onProgress: report });
          return store.setDefault(id).then(() => store.get(id));
        },
        { onProgress, onEnd },
      );
      await record({ taskId });
      return { taskId };
    },

    async pause(name) {
      const c = release(name);
      const state = (await states()).get(c.repo);
      return state?.status === 'running' && state.taskId !== null ? tasks.stop(state.taskId, 'pause') : false;
    },

    async cancel(name) {
      const c = release(name);
      const file = await states();
      const state = file.get(c.repo);
      if (!state) return false;
      if (state.status === 'running' && state.taskId !== null) return tasks.stop(state.taskId, 'cancel'); // onEnd removes the files
      await sources.hub.discard(c.repo);
      await file.delete(c.repo);
      return true;
    },
  };
}
