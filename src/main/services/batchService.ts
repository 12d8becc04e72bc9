/**
 * @module main/services/batchService
 * Batches in the app: the same question(s) over every scene of a folder, run by the batch engine of
 * `segearth batch` (`inference/batch/runBatch`), so the output folder (plan, journal, per-scene files,
 * merged.gpkg, summary.json/.csv) is the same and a batch started here can be resumed by the CLI and back.
 *
 * - One batch at a time. `start` checks everything an analyst can get wrong before it returns (folders,
 *   model, an output folder that already holds a batch → resume or pick another) and then runs in the
 *   background; `batch.progress` events carry the status, `batch.finished` the per-scene table.
 * - Pause holds the engine's `gate` before the next item (the item running finishes first); cancel aborts
 *   the running item through its AbortSignal; the unfinished items are redone by a later start with
 *   `resume: true`.
 * - The model is the app's loaded model (see {@link BatchModel}): questions asked in the question panel
 *   during a batch share its worker queue window by window, so they are slowed down, never blocked.
 * - Server mode: the input and output folders must lie inside the allowed roots, and every scene is checked
 *   again before it is read (a symbolic link to outside a root is recorded as a failed scene).
 */
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import type { z } from 'zod';
import type { BatchFinished, BatchFolderInfo, BatchRecord, BatchStartRequestSchema, BatchStatus } from '../../shared/api/batchDto.js';
import { SegEarthError, toErrorPayload } from '../../shared/errors.js';
import { readPlan, type BatchOptions } from '../../inference/batch/batchPlan.js';
import { readJournal } from '../../inference/batch/journal.js';
import { runBatch, type BatchEvent } from '../../inference/batch/runBatch.js';
import type { SceneProcessor } from '../../inference/batch/sceneProcessor.js';
import type { EventBus } from '../events.js';
import type { BatchModel, InferenceBackend } from './backends.js';
import type { PathGuard } from './pathGuard.js';
import type { SettingsService } from './settingsService.js';
import { newId } from './newId.js';

type StartArgs = z.output<typeof BatchStartRequestSchema>;

export interface BatchService {
  start(args: StartArgs): Promise<{ batchId: string }>;
  pause(batchId: string): BatchStatus;
  resume(batchId: string): BatchStatus;
  cancel(batchId: string): BatchStatus;
  status(batchId: string): BatchRecord;
  list(): BatchRecord[];
  /** The plan and progress of the batch in an output folder (to resume it with its own settings). */
  inspect(outputFolder: string): Promise<BatchFolderInfo>;
  /** Resolves when no batch is running (tests, shutdown). */
  idle(): Promise<void>;
  /** Cancels the running batch (shutdown); it can be resumed at the next start. */
  cancelAll(): void;
}

export interface BatchServiceDeps {
  guard: PathGuard;
  events: EventBus;
  settings: Pick<SettingsService, 'get'>;
  runtime: Pick<InferenceBackend, 'modelStatus' | 'batchModel'>;
}

interface Running {
  status: BatchStatus;
  finished: BatchFinished | null;
  controller: AbortController;
  /** Set while paused: resolving it lets the next item start. */
  release: (() => void) | null;
  done: Promise<void>;
}

function notFound(batchId: string): SegEarthError {
  return new SegEarthError('NOT_FOUND', `There is no batch ${batchId} in this session.`, {
    hint: 'Batches are listed until the app is closed; start it again with “Resume” on the same output folder.',
  });
}

async function isEmptyOrMissing(folder: string): Promise<boolean> {
  try {
    return (await readdir(folder)).length === 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
}

export function createBatchService(deps: BatchServiceDeps): BatchService {
  const { guard, events, settings, runtime } = deps;
  const batches = new Map<string, Running>();
  /** True while a start is checking folders and loading the model (one batch at a time). */
  let starting = false;

  const get = (batchId: string): Running => {
    const b = batches.get(batchId);
    if (!b) throw notFound(batchId);
    return b;
  };
  const active = (): Running | undefined => [...batches.values()].find((b) => b.finished === null);
  const record = (b: Running): BatchRecord => ({ status: { ...b.status }, finished: b.finished });
  const emit = (b: Running): void => events.emit('batch.progress', { ...b.status });

  /** Resolves folders inside the allowed roots and refuses what cannot work, before anything runs. */
  async function checkFolders(args: StartArgs): Promise<{ input: string; output: string }> {
    const input = await guard.resolveExisting(args.inputFolder);
    if (!(await stat(input)).isDirectory()) {
      throw new SegEarthError('BAD_ARGUMENT', `${args.inputFolder} is a file, not a folder.`, {
        hint: 'Choose the folder that holds the scenes (it is searched recursively); to run one scene, open it and ask in the question panel.',
        path: input,
      });
    }
    const output = await guard.resolveForWrite(args.outputFolder).catch((err: unknown) => {
      if (err instanceof SegEarthError && err.code === 'NOT_FOUND') {
        throw new SegEarthError('NOT_FOUND', `The folder that should hold ${args.outputFolder} does not exist.`, {
          hint: 'Choose an existing folder, or a new folder inside an existing one.',
          path: args.outputFolder,
        });
      }
      throw err;
    });
    const rel = relative(input, output);
    if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) {
      throw new SegEarthError('BAD_ARGUMENT', 'The output folder is inside the input folder.', {
        hint: 'Choose an output folder outside the scenes folder, so results are never taken for scenes.',
        path: output,
      });
    }
    const plan = await readPlan(output);
    if (plan && !args.resume) {
      throw new SegEarthError('BATCH_EXISTS', `${output} already holds a batch (started ${plan.createdAt.slice(0, 16).replace('T', ' ')}).`, {
        hint: 'Tick “Resume the batch in this folder” to continue it where it stopped, or choose an empty output folder.',
        path: output,
      });
    }
    if (!plan && args.resume) {
      throw new SegEarthError('BAD_ARGUMENT', `${output} holds no batch to resume.`, {
        hint: 'Untick “Resume” to start a new batch there, or choose the output folder of the batch to continue.',
        path: output,
      });
    }
    if (!plan && !(await isEmptyOrMissing(output))) {
      throw new SegEarthError('OUTPUT_EXISTS', `The output folder ${output} is not empty.`, {
        hint: 'Choose an empty (or new) folder, so batch results are never mixed with other files.',
        path: output,
      });
    }
    return { input, output };
  }

  async function loadModel(): Promise<BatchModel> {
    const current = await settings.get();
    const st = await runtime.modelStatus(current.modelDir);
    if (st.state !== 'ready') {
      throw new SegEarthError(st.state === 'invalid' ? 'MODEL_INVALID' : 'MODEL_NOT_FOUND', st.problem ?? 'No model is installed.', {
        hint: 'Open Model & device… to install or choose a model; a batch needs one.',
      });
    }
    if (!runtime.batchModel) {
      throw new SegEarthError('INTERNAL', 'This backend cannot run batches.', { hint: 'Use `segearth batch` from the command line.' });
    }
    return runtime.batchModel({ modelDir: current.modelDir, executionProvider: current.executionProvider });
  }

  /** The model's processor, with every scene checked against the allowed roots before it is read. */
  const confined = (processor: SceneProcessor): SceneProcessor => async (task) => {
    await guard.resolveRaster(task.scenePath);
    return processor(task);
  };

  function onEvent(b: Running, event: BatchEvent): void {
    const s = b.status;
    switch (event.type) {
      case 'plan':
        s.scenes = event.scenes;
        s.total = event.items;
        s.alreadyDone = event.alreadyDone;
        s.completed = event.alreadyDone;
        s.done = event.alreadyDone;
        break;
      case 'item-start':
        s.current = { scene: event.scene, questionIndex: event.question, question: s.questions[event.question] ?? '', stage: 'starting', fraction: 0 };
        break;
      case 'item-progress':
        s.current = { scene: event.scene, questionIndex: event.question, question: s.questions[event.question] ?? '', stage: event.stage, fraction: Math.min(1, Math.max(0, event.fraction)) };
        s.etaSeconds = event.etaSeconds === null ? null : Math.max(0, event.etaSeconds);
        break;
      case 'item-end':
        s.completed += 1;
        if (event.record.state === 'done') s.done += 1;
        else if (event.record.state === 'failed') s.failed += 1;
        s.current = null;
        s.etaSeconds = event.etaSeconds === null ? null : Math.max(0, event.etaSeconds);
        break;
      default:
        return;
    }
    emit(b);
  }

  async function run(b: Running, input: string, output: string, options: BatchOptions, processor: SceneProcessor, resume: boolean): Promise<void> {
    let finished: BatchFinished;
    try {
      const summary = await runBatch({
        inputFolder: input,
        outputFolder: output,
        options,
        resume,
        processor,
        signal: b.controller.signal,
        onEvent: (event) => onEvent(b, event),
        gate: async () => {
          if (!b.status.pauseRequested) return;
          b.status.paused = true;
          b.status.state = 'paused';
          b.status.current = null;
          emit(b);
          await new Promise<void>((resolve) => (b.release = resolve));
          b.release = null;
          b.status.paused = false;
          if (!b.controller.signal.aborted) b.status.state = 'running';
          emit(b);
        },
      });
      const cancelled = b.controller.signal.aborted;
      const merged = join(output, 'merged.gpkg');
      finished = {
        batchId: b.status.batchId,
        outcome: cancelled ? 'cancelled' : 'finished',
        outputFolder: output,
        mergedPath: options.merged && existsSync(merged) ? merged : null,
        summaryPaths: [join(output, 'summary.json'), join(output, 'summary.csv')],
        summary,
        error: null,
      };
    } catch (err) {
      const payload = toErrorPayload(err);
      if (payload.code === 'INTERNAL') console.error(`batch ${b.status.batchId} failed`, err);
      b.status.error = payload;
      finished = { batchId: b.status.batchId, outcome: 'failed', outputFolder: output, mergedPath: null, summaryPaths: [], summary: null, error: payload };
    }
    b.status.state = finished.outcome;
    b.status.paused = false;
    b.status.pauseRequested = false;
    b.status.current = null;
    b.status.etaSeconds = null;
    b.finished = finished;
    emit(b);
    events.emit('batch.finished', finished);
  }

  return {
    async start(args) {
      const running = active();
      if (running || starting) {
        throw new SegEarthError('BAD_ARGUMENT', 'A batch is already running.', {
          hint: `Wait for it, or cancel it (it can be resumed later)${running ? `: ${running.status.outputFolder}` : '.'}`,
        });
      }
      starting = true;
      let input: string, output: string, model: BatchModel;
      try {
        ({ input, output } = await checkFolders(args));
        model = await loadModel();
      } finally {
        starting = false;
      }
      const options: BatchOptions = {
        questions: args.questions,
        model: model.key,
        strategy: args.strategy,
        formats: [...new Set(args.formats)],
        merged: args.merged,
        threshold: args.threshold,
        minAreaM2: args.minAreaM2,
        include: args.include,
        exclude: args.exclude,
      };
      const batchId = newId();
      const b: Running = {
        status: {
          batchId,
          state: 'running',
          pauseRequested: false,
          paused: false,
          inputFolder: input,
          outputFolder: output,
          questions: [...args.questions],
          model: model.key,
          scenes: 0,
          total: 0,
          completed: 0,
          done: 0,
          failed: 0,
          alreadyDone: 0,
          current: null,
          etaSeconds: null,
          startedAt: new Date().toISOString(),
          error: null,
        },
        finished: null,
        controller: new AbortController(),
        release: null,
        done: Promise.resolve(),
      };
      batches.set(batchId, b);
      b.done = run(b, input, output, options, confined(model.processor(args.strategy)), args.resume);
      return { batchId };
    },
    pause(batchId) {
      const b = get(batchId);
      if (b.finished) return { ...b.status };
      if (b.status.state === 'running') {
        b.status.pauseRequested = true;
        emit(b);
      }
      return { ...b.status };
    },
    resume(batchId) {
      const b = get(batchId);
      if (b.finished) return { ...b.status };
      b.status.pauseRequested = false;
      if (b.release) b.release();
      else emit(b);
      return { ...b.status };
    },
    cancel(batchId) {
      const b = get(batchId);
      if (b.finished) return { ...b.status };
      b.status.state = 'cancelling';
      b.status.pauseRequested = false;
      b.controller.abort(new SegEarthError('CANCELLED', 'The batch was cancelled.'));
      b.release?.();
      emit(b);
      return { ...b.status };
    },
    status: (batchId) => record(get(batchId)),
    async inspect(outputFolder) {
      const folder = await guard.resolveForWrite(outputFolder);
      const plan = await readPlan(folder);
      const empty = await isEmptyOrMissing(folder);
      const counts = { done: 0, failed: 0, interrupted: 0 };
      if (plan) {
        for (const r of (await readJournal(folder)).values()) {
          if (r.state === 'done') counts.done += 1;
          else if (r.state === 'failed') counts.failed += 1;
          else counts.interrupted += 1;
        }
      }
      return {
        outputFolder: folder,
        plan: plan
          ? {
              inputFolder: plan.inputFolder,
              ...plan.options,
              shard: plan.shard ? `${plan.shard.index}/${plan.shard.count}` : null,
              createdAt: plan.createdAt,
            }
          : null,
        ...counts,
        empty,
      };
    },
    list: () => [...batches.values()].reverse().map(record),
    async idle() {
      await Promise.all([...batches.values()].map((b) => b.done));
    },
    cancelAll() {
      for (const b of batches.values()) {
        if (b.finished) continue;
        b.controller.abort(new SegEarthError('CANCELLED', 'The app is closing.'));
        b.release?.();
      }
    },
  };
}
