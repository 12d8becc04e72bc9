/**
 * @module inference/worker/client
 * `InferenceWorker`: the main-thread handle of the inference worker (the Signal `MainSQL` pattern), and a
 * `WindowPredictor`, so the scene strategies run unchanged on top of it: the main thread reads windows with
 * gdal-async (asynchronous, off the event loop) and hands them over; the worker runs the graphs. Messages are
 * validated with zod; worker errors come back as `SegEarthError`s with their codes; aborting a signal sends
 * `cancel`, and the worker stops between two graph runs.
 */
import { SegEarthError, fromErrorPayload } from '../../shared/errors.js';
import type { EpChoice, EpRequest, ThreadSettings } from '../providers/executionProvider.js';
import type { RunStats } from '../sessions/model.js';
import type { PredictorInfo, PrefetchedView, RgbWindow, WarmUpReport, WindowPrediction, WindowPredictor } from '../pipeline/pipeline.js';
import { FromWorkerSchema, type FromWorker, type ModelInfo, type ToWorker } from './protocol.js';
import { startWorkerHost, type WorkerHost, type WorkerKind } from './workerHost.js';

export interface StartOptions {
  modelDir: string;
  ep?: EpRequest;
  /** A provider already chosen with `selectExecutionProvider` (skips probing in the worker). */
  epChoice?: EpChoice;
  threads?: Partial<ThreadSettings>;
  viewCacheBytes?: number;
  /**
   * `thread` (default): a worker thread. `process`: a child process, whose memory all goes back to the system
   * when it ends (a one-shot question: `workerHost`).
   */
  host?: WorkerKind;
}

interface Pending {
  resolve(message: FromWorker): void;
  reject(error: Error): void;
  /** Called when the worker asks for the window of a prediction. */
  onNeedWindow?: () => void;
}

export class InferenceWorker implements WindowPredictor {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private exited = false;

  private constructor(
    private readonly worker: WorkerHost,
    readonly model: ModelInfo,
    readonly executionProvider: EpChoice,
  ) {
    worker.onMessage((raw: unknown) => this.onMessage(raw));
    worker.onError((err) => this.failAll(new SegEarthError('INFERENCE_FAILED', `The inference worker crashed: ${err.message}`)));
    worker.onExit((how) => {
      this.exited = true;
      this.failAll(new SegEarthError('INFERENCE_FAILED', `The inference worker exited (${how}).`));
    });
  }

  /** Starts a worker and loads the model in it; rejects with the loading error (MODEL_NOT_FOUND, ...). */
  static async start(options: StartOptions): Promise<InferenceWorker> {
    const worker = startWorkerHost(options.host ?? 'thread');
    const ready = await new Promise<Extract<FromWorker, { type: 'ready' }>>((resolve, reject) => {
      worker.onMessage((raw: unknown) => {
        const parsed = FromWorkerSchema.safeParse(raw);
        if (!parsed.success) return;
        const m = parsed.data;
        if (m.type === 'ready') resolve(m);
        else if (m.type === 'error' && m.id === null) reject(fromErrorPayload(m.error));
      });
      worker.onError((err) => reject(new SegEarthError('INFERENCE_FAILED', `The inference worker failed to start: ${err.message}`)));
      worker.onExit((how) => reject(new SegEarthError('INFERENCE_FAILED', `The inference worker exited during start (${how}).`)));
      const init: ToWorker = {
        type: 'init',
        modelDir: options.modelDir,
        ep: options.ep ?? 'auto',
        ...(options.epChoice ? { epChoice: options.epChoice } : {}),
        ...(options.threads ? { threads: options.threads } : {}),
        ...(options.viewCacheBytes ? { viewCacheBytes: options.viewCacheBytes } : {}),
      };
      worker.post(init);
    }).catch(async (err: unknown) => {
      await worker.terminate();
      throw err;
    });
    worker.removeAllListeners();
    return new InferenceWorker(worker, ready.model, ready.executionProvider);
  }

  /** The id of the child process the model runs in (`host: 'process'`); null in a thread. */
  get pid(): number | null {
    return this.worker.pid;
  }

  get info(): PredictorInfo {
    return { modelId: this.model.id, bundleSha256: this.model.bundleSha256, inputSize: this.model.inputSize };
  }

  async checkQuestion(question: string): Promise<void> {
    const id = this.nextId++;
    await this.request(id, { type: 'check', id, question });
  }

  async predict(key: string | null, read: () => Promise<RgbWindow>, question: string, signal?: AbortSignal): Promise<WindowPrediction> {
    const m = await this.windowRequest((id) => ({ type: 'predict', id, key, question }), read, signal);
    if (m.type !== 'result') throw new SegEarthError('INTERNAL', `Unexpected worker answer ${m.type}.`);
    return { logits: m.logits, maskSize: m.maskSize, letterbox: m.letterbox, cached: m.cached, valid: m.valid };
  }

  /**
   * Reads and encodes the view under `key` into the worker's cache ahead of its question
   * (`SegEarthPipeline.prefetch`). It runs in the worker's queue like a prediction: a question about the same
   * view asked meanwhile waits for it and finds the view cached; a question about another view (or a newer
   * prefetch) stops it between two graph runs — it then rejects with CANCELLED.
   */
  async prefetch(key: string, read: () => Promise<RgbWindow>, signal?: AbortSignal): Promise<PrefetchedView> {
    const m = await this.windowRequest((id) => ({ type: 'prefetch', id, key }), read, signal);
    if (m.type !== 'prefetched') throw new SegEarthError('INTERNAL', `Unexpected worker answer ${m.type}.`);
    return { cached: m.cached, ms: m.ms };
  }

  /** A request with the window conversation (`need-window` → `window`); aborting `signal` sends `cancel`. */
  private async windowRequest(message: (id: number) => ToWorker, read: () => Promise<RgbWindow>, signal?: AbortSignal): Promise<FromWorker> {
    if (signal?.aborted) throw new SegEarthError('CANCELLED', 'Cancelled.');
    const id = this.nextId++;
    const onAbort = (): void => this.post({ type: 'cancel', id });
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const onNeedWindow = (): void => {
        read().then(
          (w) => {
            const rgb = w.rgb.slice();
            const valid = w.valid?.slice();
            this.post({ type: 'window', id, rgb, width: w.width, height: w.height, ...(valid ? { valid } : {}) }, [
              rgb.buffer,
              ...(valid ? [valid.buffer as ArrayBuffer] : []),
            ]);
          },
          (err: unknown) => {
            // The read failed: stop the request in the worker and report the read error.
            this.post({ type: 'cancel', id });
            const pending = this.pending.get(id);
            this.pending.delete(id);
            pending?.reject(err instanceof Error ? err : new Error(String(err)));
          },
        );
      };
      return await this.request(id, message(id), onNeedWindow);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Graph run counters and cache occupancy in the worker, as they are now (answered at once, not after the queued work). */
  async stats(): Promise<{ stats: RunStats; cache: { views: number; bytes: number; evictions: number } }> {
    const id = this.nextId++;
    const m = await this.request(id, { type: 'stats', id });
    if (m.type !== 'stats') throw new SegEarthError('INTERNAL', `Unexpected worker answer ${m.type}.`);
    return { stats: m.stats, cache: m.cache };
  }

  /**
   * Warms the model up in the worker (`SegEarthPipeline.warmUp`) so that the first question is as fast as a
   * later one; a question asked meanwhile stops it and runs next. Resolves when it has finished or stopped.
   */
  async warmUp(): Promise<WarmUpReport> {
    const id = this.nextId++;
    const m = await this.request(id, { type: 'warm-up', id });
    if (m.type !== 'warmed') throw new SegEarthError('INTERNAL', `Unexpected worker answer ${m.type}.`);
    return { ms: m.ms, runs: m.runs, interrupted: m.interrupted };
  }

  /** Frees every cached view in the worker. */
  async clearCaches(): Promise<void> {
    const id = this.nextId++;
    await this.request(id, { type: 'clear-caches', id });
  }

  /** Stops the worker, releasing the sessions and all their memory. */
  async dispose(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.worker.onExit(() => resolve()));
    this.post({ type: 'dispose' });
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 10_000).unref());
    if ((await Promise.race([exited, timeout])) === 'timeout') await this.worker.terminate();
  }

  private request(id: number, message: ToWorker, onNeedWindow?: () => void): Promise<FromWorker> {
    return new Promise((resolve, reject) => {
      if (this.exited) {
        reject(new SegEarthError('INFERENCE_FAILED', 'The inference worker is not running.'));
        return;
      }
      this.pending.set(id, { resolve, reject, ...(onNeedWindow ? { onNeedWindow } : {}) });
      this.post(message);
    });
  }

  private post(message: ToWorker, transfer: ArrayBuffer[] = []): void {
    if (!this.exited) this.worker.post(message, transfer);
  }

  private onMessage(raw: unknown): void {
    const parsed = FromWorkerSchema.safeParse(raw);
    if (!parsed.success) {
      this.failAll(new SegEarthError('INTERNAL', `Bad message from the inference worker: ${parsed.error.message}`));
      return;
    }
    const m = parsed.data;
    if (m.type === 'ready') return;
    if (m.id === null) {
      if (m.type === 'error') this.failAll(fromErrorPayload(m.error));
      return;
    }
    const pending = this.pending.get(m.id);
    if (!pending) return;
    if (m.type === 'need-window') {
      pending.onNeedWindow?.();
      return;
    }
    this.pending.delete(m.id);
    if (m.type === 'error') pending.reject(fromErrorPayload(m.error));
    else pending.resolve(m);
  }

  private failAll(error: Error): void {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}
