/**
 * @module inference/worker/inference.worker
 * Worker-thread entry: hosts one `InferenceRuntime` so that onnxruntime's synchronous graph runs never block
 * the main thread (Electron main process, server, CLI progress bar). Requests run one at a time in arrival
 * order; `cancel` aborts the request's AbortSignal, which the runtime checks between graph runs.
 */
import { parentPort } from 'node:worker_threads';
import { SegEarthError, toErrorPayload } from '../../shared/errors.js';
import { InferenceRuntime } from '../runtime.js';
import { FromWorkerSchema, ToWorkerSchema, type FromWorker, type ToWorker } from './protocol.js';

if (!parentPort) throw new Error('inference.worker must run in a worker thread');
const port = parentPort;

function send(message: FromWorker): void {
  port.postMessage(FromWorkerSchema.parse(message));
}

let runtime: InferenceRuntime | null = null;
const controllers = new Map<number, AbortController>();
let queue: Promise<void> = Promise.resolve();

function notReady(): SegEarthError {
  return new SegEarthError('INTERNAL', 'The inference worker has no model loaded.', { hint: 'Initialise the worker first.' });
}

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case 'init': {
      try {
        runtime = await InferenceRuntime.open(message.modelDir, {
          ep: message.ep,
          ...(message.threads ? { threads: message.threads } : {}),
          ...(message.viewCacheBytes ? { viewCacheBytes: message.viewCacheBytes } : {}),
        });
        send({ type: 'ready', model: runtime.model, executionProvider: runtime.executionProvider });
      } catch (err) {
        send({ type: 'error', id: null, error: toErrorPayload(err) });
      }
      return;
    }
    case 'ask': {
      const controller = controllers.get(message.id) ?? new AbortController();
      controllers.set(message.id, controller);
      try {
        if (!runtime) throw notReady();
        if (controller.signal.aborted) throw new SegEarthError('CANCELLED', 'Cancelled before it started.');
        const result = await runtime.ask({
          ...message.request,
          signal: controller.signal,
          onProgress: (progress) => send({ type: 'progress', id: message.id, progress }),
        });
        send({ type: 'result', id: message.id, result });
      } catch (err) {
        send({ type: 'error', id: message.id, error: toErrorPayload(err) });
      } finally {
        controllers.delete(message.id);
      }
      return;
    }
    case 'stats': {
      if (!runtime) return send({ type: 'error', id: message.id, error: toErrorPayload(notReady()) });
      send({ type: 'stats', id: message.id, stats: runtime.stats, cache: runtime.pipeline.cacheInfo });
      return;
    }
    case 'clear-caches': {
      runtime?.clearCaches();
      send({ type: 'done', id: message.id });
      return;
    }
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
  // Cancellation and disposal act at once; everything else runs in order.
  if (message.type === 'cancel') {
    const controller = controllers.get(message.id) ?? new AbortController();
    controller.abort();
    controllers.set(message.id, controller);
    return;
  }
  if (message.type === 'dispose') {
    for (const c of controllers.values()) c.abort();
    void queue.then(async () => {
      await runtime?.dispose();
      runtime = null;
      port.close();
    });
    return;
  }
  queue = queue.then(() => handle(message));
});
