/**
 * @module inference/worker/inference.worker
 * Worker-thread entry: hosts one `SegEarthPipeline` so that onnxruntime's synchronous graph runs never block
 * the main thread (Electron main process, server, CLI progress bar). Predictions run one at a time in
 * arrival order; `cancel` aborts the prediction's AbortSignal, checked between graph runs. This file imports
 * no GDAL (see `protocol.ts`).
 */
import { parentPort } from 'node:worker_threads';
import { SegEarthError, toErrorPayload } from '../../shared/errors.js';
import { SegEarthPipeline, type RgbWindow } from '../pipeline/pipeline.js';
import { FromWorkerSchema, ToWorkerSchema, modelInfoOf, type FromWorker, type ToWorker } from './protocol.js';

if (!parentPort) throw new Error('inference.worker must run in a worker thread');
const port = parentPort;

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
/** Highest prediction id that has started (ids increase; a cancel for a lower, unknown id is for a finished one). */
let lastStarted = 0;

function loaded(): SegEarthPipeline {
  if (!pipeline) throw new SegEarthError('INTERNAL', 'The inference worker has no model loaded.', { hint: 'Initialise the worker first.' });
  return pipeline;
}

function cancelled(): SegEarthError {
  return new SegEarthError('CANCELLED', 'Cancelled.', { hint: 'The request was cancelled; nothing was written.' });
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
    case 'predict': {
      lastStarted = Math.max(lastStarted, message.id);
      const controller = controllers.get(message.id) ?? new AbortController();
      controllers.set(message.id, controller);
      try {
        if (controller.signal.aborted) throw cancelled();
        const read = (): Promise<RgbWindow> =>
          new Promise((resolve, reject) => {
            windowWaiters.set(message.id, { resolve, reject });
            controller.signal.addEventListener('abort', () => reject(cancelled()), { once: true });
            send({ type: 'need-window', id: message.id });
          });
        const p = await loaded().predict(message.key, read, message.question, controller.signal);
        const logits = p.logits.slice();
        const valid = p.valid?.slice();
        send(
          { type: 'result', id: message.id, logits, maskSize: p.maskSize, letterbox: p.letterbox, cached: p.cached, ...(valid ? { valid } : {}) },
          [logits.buffer, ...(valid ? [valid.buffer as ArrayBuffer] : [])],
        );
      } catch (err) {
        send({ type: 'error', id: message.id, error: toErrorPayload(err) });
      } finally {
        controllers.delete(message.id);
        windowWaiters.delete(message.id);
      }
      return;
    }
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
  // Windows, cancellation and disposal act at once; everything else runs in order.
  switch (message.type) {
    case 'window': {
      const waiter = windowWaiters.get(message.id);
      windowWaiters.delete(message.id);
      waiter?.resolve({ rgb: message.rgb, width: message.width, height: message.height, ...(message.valid ? { valid: message.valid } : {}) });
      return;
    }
    case 'cancel': {
      const running = controllers.get(message.id);
      if (running) running.abort();
      else if (message.id > lastStarted) {
        // Queued behind another prediction: it starts already cancelled.
        const controller = new AbortController();
        controller.abort();
        controllers.set(message.id, controller);
      }
      return;
    }
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
    case 'check': // a question starts with its check (askScene), then its predictions
    case 'predict':
      warming?.abort();
      queue = queue.then(() => handle(message));
      return;
    default:
      queue = queue.then(() => handle(message));
  }
});
