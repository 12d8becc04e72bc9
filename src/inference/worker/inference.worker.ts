/**
 * @module inference/worker/inference.worker
 * Worker entry (a worker thread, or a child process: `workerHost`): hosts one `SegEarthPipeline` so that onnxruntime's synchronous graph runs never block
 * the main thread (Electron main process, server, CLI progress bar). Predictions and prefetches run one at a
 * time in arrival order; `cancel` aborts the request's AbortSignal, checked between graph runs. A prefetch
 * (a view read ahead of its question) is stopped by a predict for another view or a newer prefetch; a predict
 * for its own view waits for it in the queue and finds the view cached. This file imports
 * no GDAL (see `protocol.ts`).
 */
import { SegEarthError, toErrorPayload } from '../../shared/errors.js';
import { SegEarthPipeline, type RgbWindow } from '../pipeline/pipeline.js';
import { FromWorkerSchema, ToWorkerSchema, modelInfoOf, type FromWorker, type ToWorker } from './protocol.js';
import { hostPort } from './workerHost.js';

const port = hostPort();

function send(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(FromWorkerSchema.parse(message), transfer);
}

let pipeline: SegEarthPipeline | null = null;
const controllers = new Map<number, AbortController>();
/** Predictions waiting for their window from the main thread. */
const windowWaiters = new Map<number, { resolve(w: RgbWindow): void; reject(e: Error): void }>();
let queue: Promise<void> = Promise.resolve();
/** The warm-up in progress: a question arriving stops it between two graph runs. */
let warming: AbortController | null = null;
/** Prefetches queued or running: request id → view key. */
const prefetches = new Map<number, string>();
/** Highest prediction id that has started (ids increase; a cancel for a lower, unknown id is for a finished one). */
let lastStarted = 0;

function loaded(): SegEarthPipeline {
  if (!pipeline) throw new SegEarthError('INTERNAL', 'The inference worker has no model loaded.', { hint: 'Initialise the worker first.' });
  return pipeline;
}

function cancelled(): SegEarthError {
  return new SegEarthError('CANCELLED', 'Cancelled.', { hint: 'The request was cancelled; nothing was written.' });
}

/**
 * Runs a request that may need its window from the main thread (`predict`, `prefetch`): `read` asks for it
 * (`need-window` → `window`); `signal` aborts on `cancel`. Errors are sent back as the request's answer.
 */
async function withWindow(id: number, run: (read: () => Promise<RgbWindow>, signal: AbortSignal) => Promise<void>): Promise<void> {
  lastStarted = Math.max(lastStarted, id);
  const controller = controllers.get(id) ?? new AbortController();
  controllers.set(id, controller);
  try {
    if (controller.signal.aborted) throw cancelled();
    const read = (): Promise<RgbWindow> =>
      new Promise((resolve, reject) => {
        windowWaiters.set(id, { resolve, reject });
        controller.signal.addEventListener('abort', () => reject(cancelled()), { once: true });
        send({ type: 'need-window', id });
      });
    await run(read, controller.signal);
  } catch (err) {
    send({ type: 'error', id, error: toErrorPayload(err) });
  } finally {
    controllers.delete(id);
    windowWaiters.delete(id);
  }
}

/** Cancels a request: the running one between two graph runs, a queued one before it starts. */
function cancel(id: number): void {
  const running = controllers.get(id);
  if (running) running.abort();
  else if (id > lastStarted) {
    // Queued behind another request: it starts already cancelled.
    const controller = new AbortController();
    controller.abort();
    controllers.set(id, controller);
  }
}

/** Stops the prefetches (queued or running) of views other than `key`: nobody waits for them any more. */
function stopPrefetchesOtherThan(key: string | null): void {
  for (const [id, k] of prefetches) if (k !== key) cancel(id);
}

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case 'init':
      try {
        pipeline = await SegEarthPipeline.create(message.modelDir, {
          ep: message.ep,
          ...(message.epChoice ? { epChoice: message.epChoice } : {}),
          ...(message.threads ? { threads: message.threads } : {}),
          ...(message.viewCacheBytes ? { viewCacheBytes: message.viewCacheBytes } : {}),
        });
        const m = pipeline.model;
        send({
          type: 'ready',
          model: modelInfoOf(pipeline),
          executionProvider: m.ep,
        });
      } catch (err) {
        send({ type: 'error', id: null, error: toErrorPayload(err) });
      }
      return;
    case 'check':
      try {
        await loaded().checkQuestion(message.question);
        send({ type: 'done', id: message.id });
      } catch (err) {
        send({ type: 'error', id: message.id, error: toErrorPayload(err) });
      }
      return;
    case 'predict':
      await withWindow(message.id, async (read, signal) => {
        const p = await loaded().predict(message.key, read, message.question, signal);
        const logits = p.logits.slice();
        const valid = p.valid?.slice();
        send(
          { type: 'result', id: message.id, logits, maskSize: p.maskSize, letterbox: p.letterbox, cached: p.cached, ...(valid ? { valid } : {}) },
          [logits.buffer, ...(valid ? [valid.buffer as ArrayBuffer] : [])],
        );
      });
      return;
    case 'prefetch':
      try {
        await withWindow(message.id, async (read, signal) => {
          send({ type: 'prefetched', id: message.id, ...(await loaded().prefetch(message.key, read, signal)) });
        });
      } finally {
        prefetches.delete(message.id);
      }
      return;
    case 'stats':
      try {
        const p = loaded();
        send({ type: 'stats', id: message.id, stats: p.model.stats, cache: p.cacheInfo });
      } catch (err) {
        send({ type: 'error', id: message.id, error: toErrorPayload(err) });
      }
      return;
    case 'clear-caches':
      pipeline?.clearViews();
      send({ type: 'done', id: message.id });
      return;
    case 'warm-up': {
      const signal = warming?.signal;
      try {
        send({ type: 'warmed', id: message.id, ...(await loaded().warmUp(signal)) });
      } catch (err) {
        send({ type: 'error', id: message.id, error: toErrorPayload(err) });
      }
      return;
    }
    case 'window':
    case 'cancel':
    case 'dispose':
      return;
  }
}

port.on('message', (raw: unknown) => {
  const parsed = ToWorkerSchema.safeParse(raw);
  if (!parsed.success) {
    send({ type: 'error', id: null, error: toErrorPayload(new SegEarthError('INTERNAL', `Bad message to the inference worker: ${parsed.error.message}`)) });
    return;
  }
  const message = parsed.data;
  // Windows, cancellation, disposal, question checks and counters act at once; everything else runs in order.
  switch (message.type) {
    case 'window': {
      const waiter = windowWaiters.get(message.id);
      windowWaiters.delete(message.id);
      waiter?.resolve({ rgb: message.rgb, width: message.width, height: message.height, ...(message.valid ? { valid: message.valid } : {}) });
      return;
    }
    case 'cancel':
      cancel(message.id);
      return;
    case 'dispose':
      for (const c of controllers.values()) c.abort();
      void queue.then(async () => {
        await pipeline?.dispose();
        pipeline = null;
        port.close();
      });
      return;
    case 'warm-up':
      // Abortable from now on, also while it waits in the queue.
      warming = new AbortController();
      queue = queue.then(() => handle(message));
      return;
    case 'check':
      // A question starts with its check (askScene), then its predictions. The check only tokenizes: it is
      // answered at once, not behind a prefetch or warm-up in progress, so that the question's first predict
      // follows without waiting (and stops a prefetch of another view, below).
      warming?.abort();
      void handle(message);
      return;
    case 'predict':
      warming?.abort();
      // A prefetch of the view this predict reads is let finish (the predict, queued behind it, then finds
      // the view cached: one image pass, not two); a prefetch of any other view is stale and stops.
      stopPrefetchesOtherThan(message.key);
      queue = queue.then(() => handle(message));
      return;
    case 'prefetch':
      // Only the newest view matters (the analyst moved on): older prefetches of other views stop.
      stopPrefetchesOtherThan(message.key);
      prefetches.set(message.id, message.key);
      queue = queue.then(() => handle(message));
      return;
    case 'stats':
      // Counters as they are now (the graph runs finished so far), not after the work queued before them: a
      // benchmark or a status read does not wait for a prefetch or a tiled run.
      void handle(message);
      return;
    default:
      queue = queue.then(() => handle(message));
  }
});
