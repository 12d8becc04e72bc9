/**
 * @module inference/worker/geoClient
 * `GeoWorker`: the app's handle of the geo process (`geo.process.ts`), a long-lived child process that runs
 * the polygon step of an answer (`scene/result.answerPolygons`) off the thread that answers requests. It is
 * started on first use and reused; when it dies (killed, out of memory) the requests in flight fail with
 * INFERENCE_FAILED and the next one starts a new process; `dispose` stops it. Messages are validated with zod
 * both ways; errors come back as `SegEarthError`s with their codes; aborting a request's signal sends
 * `cancel` and rejects at once (the process stops the request between two stages).
 *
 * A child process rather than a worker thread, because gdal-async cannot be loaded in a second thread
 * (`forkModule`: the compiled `geo.process.js` or the `.ts` source through tsx; Node inside Electron).
 */
import type { ChildProcess } from 'node:child_process';
import { SegEarthError, fromErrorPayload, isSegEarthError } from '../../shared/errors.js';
import type { FeatureSet } from '../../shared/featureSet.js';
import type { PolygonSettings, Provenance } from '../scene/result.js';
import { FeatureAssembler } from './geoFeatureStream.js';
import { forkModule } from './forkModule.js';
import { FromGeoSchema, type FromGeo, type ToGeo } from './geoProtocol.js';

interface Pending {
  features: FeatureAssembler;
  resolve(answer: FeatureSet): void;
  reject(error: Error): void;
}

function cancelled(signal: AbortSignal): SegEarthError {
  return isSegEarthError(signal.reason) ? signal.reason : new SegEarthError('CANCELLED', 'Vectorizing was cancelled.', { hint: 'Run it again when needed.' });
}

/** The geo process sent what it could not have sent: it is stopped (the next request starts a new one). */
function badMessage(err: unknown): SegEarthError {
  return new SegEarthError('INTERNAL', `Bad message from the geo process: ${err instanceof Error ? err.message : String(err)}`);
}

export class GeoWorker {
  private child: ChildProcess | null = null;
  private started: Promise<void> | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  /** The process id of the running geo process, if any (tests). */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Starts the geo process unless it runs; resolves once it is ready to take requests. */
  start(): Promise<void> {
    if (this.started) return this.started;
    const child = forkModule(import.meta.url, 'geo.process');
    this.child = child;
    // Once started, an idle geo process never keeps the app's process alive (a request in flight does: see
    // `holdWhileBusy`).
    child.unref();
    this.started = new Promise<void>((resolve, reject) => {
      child.on('message', (raw: unknown) => {
        const parsed = FromGeoSchema.safeParse(raw);
        if (!parsed.success) {
          this.stop(child, badMessage(parsed.error));
          return;
        }
        if (parsed.data.type === 'ready') {
          this.holdWhileBusy();
          resolve();
        } else this.onMessage(parsed.data);
      });
      child.on('error', (err) => {
        reject(new SegEarthError('INFERENCE_FAILED', `The geo process could not be started: ${err.message}`));
        this.stop(child, new SegEarthError('INFERENCE_FAILED', `The geo process failed: ${err.message}`));
      });
      child.on('exit', (code, signal) => {
        const how = signal ? `was stopped (${signal})` : `exited (code ${code})`;
        const error = new SegEarthError('INFERENCE_FAILED', `The process that turns probabilities into polygons ${how}.`, {
          hint: 'Try again: it is restarted. If it keeps happening, the answer may need more memory than this machine has — try a smaller area of interest.',
        });
        reject(error);
        this.stop(child, error);
      });
    });
    // A failed start is reported by the request that waited for it; the next request starts a new process.
    this.started.catch(() => undefined);
    return this.started;
  }

  /** `scene/result.answerPolygons` (the same function), run in the geo process. */
  async answerPolygons(probabilityPath: string, settings: PolygonSettings, provenance: Omit<Provenance, 'threshold'>): Promise<FeatureSet> {
    const { signal } = settings;
    if (signal?.aborted) throw cancelled(signal);
    await this.start();
    if (signal?.aborted) throw cancelled(signal);
    if (!this.child?.connected) throw new SegEarthError('INFERENCE_FAILED', 'The process that turns probabilities into polygons is not running.', { hint: 'Try again: it is restarted.' });
    const id = this.nextId++;
    return new Promise<FeatureSet>((resolve, reject) => {
      const onAbort = (): void => {
        this.pending.delete(id);
        this.post({ type: 'cancel', id });
        reject(cancelled(signal!));
        this.holdWhileBusy();
      };
      const settle = <T>(fn: (value: T) => void) => (value: T): void => {
        signal?.removeEventListener('abort', onAbort);
        fn(value);
        this.holdWhileBusy();
      };
      this.pending.set(id, { features: new FeatureAssembler(), resolve: settle(resolve), reject: settle(reject) });
      this.holdWhileBusy();
      signal?.addEventListener('abort', onAbort, { once: true });
      const { question, modelId, bundleSha256, source, createdAt } = provenance;
      this.post({ type: 'polygons', id, probabilityPath, threshold: settings.threshold, minAreaM2: settings.minAreaM2, provenance: { question, modelId, bundleSha256, source, createdAt } });
    });
  }

  /** Stops the geo process; requests in flight fail with CANCELLED. */
  async dispose(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // Held until it has exited: an unreferenced handle would let this process end first, the wait unsettled.
    child.ref();
    this.stop(child, new SegEarthError('CANCELLED', 'The app is closing.'));
    await exited;
  }

  /** Sends a raw message (tests: a message the geo process must refuse). */
  post(message: ToGeo | Record<string, unknown>): void {
    if (this.child?.connected) this.child.send(message);
  }

  private onMessage(m: Exclude<FromGeo, { type: 'ready' }>): void {
    if (m.id === null) {
      if (m.type === 'error') this.failAll(fromErrorPayload(m.error));
      return;
    }
    // Messages for a request that is no longer waiting (cancelled) are dropped.
    const pending = this.pending.get(m.id);
    if (!pending) return;
    switch (m.type) {
      case 'features':
        try {
          pending.features.add(m);
        } catch (err) {
          this.stop(this.child!, badMessage(err));
          return;
        }
        // The next chunk after other work had a turn (see `geoProtocol`).
        setImmediate(() => {
          if (this.pending.has(m.id!)) this.post({ type: 'next', id: m.id! });
        });
        return;
      case 'done': {
        this.pending.delete(m.id);
        let features;
        try {
          features = pending.features.finish();
        } catch (err) {
          this.stop(this.child!, badMessage(err));
          return;
        }
        pending.resolve({ crsWkt: m.crsWkt, crsCode: m.crsCode, features });
        return;
      }
        return;
      case 'error':
        this.pending.delete(m.id);
        pending.reject(fromErrorPayload(m.error));
    }
  }

  /** Forgets `child` (the next request starts a new process), kills it if it runs, and fails what waited on it. */
  private stop(child: ChildProcess, error: Error): void {
    if (this.child === child) {
      this.child = null;
      this.started = null;
      this.failAll(error);
    }
    if (child.exitCode === null && child.signalCode === null) child.kill();
  }

  /** The IPC channel keeps this process alive while requests wait for answers, and only then. */
  private holdWhileBusy(): void {
    if (this.pending.size > 0) this.child?.channel?.ref();
    else this.child?.channel?.unref();
  }

  private failAll(error: Error): void {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    this.holdWhileBusy();
  }
}
