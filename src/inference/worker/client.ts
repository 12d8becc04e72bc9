/**
 * @module inference/worker/client
 * `InferenceWorker`: the main-thread handle of the inference worker (the Signal `MainSQL` pattern). It starts
 * the worker, loads the model there once, and exposes `ask(request, {signal, onProgress})` returning the same
 * `AskResult` as the in-process runtime. Every message is validated with zod; worker errors come back as
 * `SegEarthError`s with their codes; aborting the signal sends `cancel` and rejects with `CANCELLED` once the
 * worker has stopped between two graph runs.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { z } from 'zod';
import { SegEarthError, fromErrorPayload } from '../../shared/errors.js';
import type { EpChoice, EpRequest, ThreadSettings } from '../executionProvider.js';
import type { RunStats } from '../model.js';
import type { SceneProgress } from '../scene.js';
import {
  FromWorkerSchema,
  SceneRequestSchema,
  type AskResultSchema,
  type FromWorker,
  type ModelInfoSchema,
  type SceneRequestMessage,
  type ToWorker,
} from './protocol.js';

export type WorkerAskResult = z.infer<typeof AskResultSchema>;
export type WorkerModelInfo = z.infer<typeof ModelInfoSchema>;

export interface StartOptions {
  modelDir: string;
  ep?: EpRequest;
  threads?: Partial<ThreadSettings>;
  viewCacheBytes?: number;
}

interface Pending {
  resolve(message: FromWorker): void;
  reject(error: Error): void;
  onProgress?: ((p: SceneProgress) => void) | undefined;
}

/** The worker script: compiled `.js` next to this file, or the `.ts` source run through tsx. */
function workerEntry(): { url: URL; execArgv: string[] } {
  const js = new URL('./inference.worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return { url: js, execArgv: [] };
  return { url: new URL('./inference.worker.ts', import.meta.url), execArgv: ['--import', 'tsx'] };
}

export class InferenceWorker {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private exited = false;

  private constructor(
    private readonly worker: Worker,
    readonly model: WorkerModelInfo,
    readonly executionProvider: EpChoice,
  ) {
    worker.on('message', (raw: unknown) => this.onMessage(raw));
    worker.on('error', (err) => this.failAll(new SegEarthError('INFERENCE_FAILED', `The inference worker crashed: ${err.message}`)));
    worker.on('exit', (code) => {
      this.exited = true;
      this.failAll(new SegEarthError('INFERENCE_FAILED', `The inference worker exited (code ${code}).`));
    });
  }

  /** Starts a worker and loads the model in it; rejects with the loading error (MODEL_NOT_FOUND, ...). */
  static async start(options: StartOptions): Promise<InferenceWorker> {
    const { url, execArgv } = workerEntry();
    const worker = new Worker(url, { execArgv });
    const ready = await new Promise<Extract<FromWorker, { type: 'ready' }>>((resolve, reject) => {
      const onMessage = (raw: unknown): void => {
        const parsed = FromWorkerSchema.safeParse(raw);
        if (!parsed.success) return;
        const m = parsed.data;
        if (m.type === 'ready') resolve(m);
        else if (m.type === 'error' && m.id === null) reject(fromErrorPayload(m.error));
      };
      worker.on('message', onMessage);
      worker.once('error', (err) => reject(new SegEarthError('INFERENCE_FAILED', `The inference worker failed to start: ${err.message}`)));
      worker.once('exit', (code) => reject(new SegEarthError('INFERENCE_FAILED', `The inference worker exited during start (code ${code}).`)));
      const init: ToWorker = {
        type: 'init',
        modelDir: options.modelDir,
        ep: options.ep ?? 'auto',
        ...(options.threads ? { threads: options.threads } : {}),
        ...(options.viewCacheBytes ? { viewCacheBytes: options.viewCacheBytes } : {}),
      };
      worker.postMessage(init);
    }).catch(async (err: unknown) => {
      await worker.terminate();
      throw err;
    });
    worker.removeAllListeners('message');
    worker.removeAllListeners('error');
    worker.removeAllListeners('exit');
    return new InferenceWorker(worker, ready.model, ready.executionProvider);
  }

  /** Answers a question about a scene in the worker. */
  async ask(
    request: SceneRequestMessage,
    options: { signal?: AbortSignal; onProgress?: (p: SceneProgress) => void } = {},
  ): Promise<WorkerAskResult> {
    const body = SceneRequestSchema.parse(request);
    const { signal } = options;
    if (signal?.aborted) throw new SegEarthError('CANCELLED', 'Cancelled.');
    const id = this.nextId++;
    const onAbort = (): void => this.post({ type: 'cancel', id });
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const message = await this.request(id, { type: 'ask', id, request: body }, options.onProgress);
      if (message.type !== 'result') throw new SegEarthError('INTERNAL', `Unexpected worker answer ${message.type}.`);
      return message.result;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Graph run counters and cache occupancy in the worker. */
  async stats(): Promise<{ stats: RunStats; cache: { views: number; bytes: number; evictions: number } }> {
    const id = this.nextId++;
    const m = await this.request(id, { type: 'stats', id });
    if (m.type !== 'stats') throw new SegEarthError('INTERNAL', `Unexpected worker answer ${m.type}.`);
    return { stats: m.stats, cache: m.cache };
  }

  /** Frees every cached view in the worker. */
  async clearCaches(): Promise<void> {
    const id = this.nextId++;
    await this.request(id, { type: 'clear-caches', id });
  }

  /** Stops the worker (releases the sessions and all memory). */
  async dispose(): Promise<void> {
    if (this.exited) return;
    this.post({ type: 'dispose' });
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 10_000).unref());
    if ((await Promise.race([exited, timeout])) === 'timeout') await this.worker.terminate();
  }

  private request(id: number, message: ToWorker, onProgress?: (p: SceneProgress) => void): Promise<FromWorker> {
    return new Promise((resolve, reject) => {
      if (this.exited) {
        reject(new SegEarthError('INFERENCE_FAILED', 'The inference worker is not running.'));
        return;
      }
      this.pending.set(id, { resolve, reject, onProgress });
      this.post(message);
    });
  }

  private post(message: ToWorker): void {
    if (!this.exited) this.worker.postMessage(message);
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
    if (m.type === 'progress') {
      pending.onProgress?.(m.progress);
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
