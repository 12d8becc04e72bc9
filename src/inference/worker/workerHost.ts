/**
 * @module inference/worker/workerHost
 * Where the inference worker (`inference.worker.ts`) runs, both ends behind one face: `startWorkerHost` for
 * `client.InferenceWorker`, `hostPort` for the worker itself. Two hosts, one zod-validated protocol
 * (`protocol.ts`):
 * - `thread`, a worker thread (the app and batches): the model stays loaded between questions and pixel
 *   arrays are transferred, not copied.
 * - `process`, a child process (`segearth ask`, a one-shot question): when it ends, *all* the memory the
 *   model's runtime took goes back to the system — onnxruntime's arenas and what the C allocator keeps on its
 *   free lists after they are freed (~0.3–0.7 GB that a thread's end leaves in this process). The polygon
 *   stage that follows then starts from a process that never held the model (issue 15.6: memory flat in the
 *   scene size). Messages are structured clones (copies); the child's stdout goes to stderr; it ignores
 *   SIGINT (Ctrl-C in a terminal reaches the whole process group: this process cancels the request, as with
 *   a thread) and exits when this process goes away.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, parentPort } from 'node:worker_threads';
import { forkModule } from './forkModule.js';
// onnxruntime's telemetry off in the real environment, from the thread that starts the worker: a worker
// thread's `process.env` is its own copy, which the library does not see.
import '../providers/noTelemetry.js';

export type WorkerKind = 'thread' | 'process';

/** The client's end: one worker, in a thread or a process. */
export interface WorkerHost {
  /** The child process's id (`process`); null for a thread. */
  readonly pid: number | null;
  post(message: unknown, transfer?: ArrayBuffer[]): void;
  onMessage(listener: (raw: unknown) => void): void;
  onError(listener: (error: Error) => void): void;
  onExit(listener: (how: string) => void): void;
  removeAllListeners(): void;
  /** Stops it now (the graph run in progress is not waited for). */
  terminate(): Promise<void>;
}

/**
 * A worker thread running the compiled `.js` next to this file, or — running from source — the `.ts` file
 * loaded through tsx's `tsImport` in a small bootstrap (worker threads do not inherit the tsx loader).
 */
function spawnThread(): Worker {
  const js = new URL('./inference.worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return new Worker(js);
  const ts = new URL('./inference.worker.ts', import.meta.url).href;
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const boot =
    `import(${JSON.stringify(tsxApi)}).then(({ tsImport }) => tsImport(${JSON.stringify(ts)}, ${JSON.stringify(import.meta.url)}))` +
    `.catch((e) => { console.error(e); process.exit(70); });`;
  return new Worker(boot, { eval: true });
}

/**
 * The events `removeAllListeners` clears, and only these: a Worker's own listeners (which keep its port
 * referenced while 'message' has listeners) must stay.
 */
const HOST_EVENTS = ['message', 'error', 'exit'] as const;

function threadHost(worker: Worker): WorkerHost {
  return {
    pid: null,
    post: (message, transfer = []) => worker.postMessage(message, transfer),
    onMessage: (listener) => void worker.on('message', listener),
    onError: (listener) => void worker.on('error', listener),
    onExit: (listener) => void worker.on('exit', (code) => listener(`code ${code}`)),
    removeAllListeners: () => {
      for (const event of HOST_EVENTS) worker.removeAllListeners(event);
    },
    terminate: async () => void (await worker.terminate()),
  };
}

function processHost(child: ChildProcess): WorkerHost {
  return {
    pid: child.pid ?? null,
    // Transfer lists are a thread's: a process gets copies.
    post: (message) => {
      if (child.connected) child.send(message as object);
    },
    onMessage: (listener) => void child.on('message', listener),
    onError: (listener) => void child.on('error', listener),
    onExit: (listener) => void child.on('exit', (code, signal) => listener(signal ? `signal ${signal}` : `code ${code}`)),
    removeAllListeners: () => {
      for (const event of HOST_EVENTS) child.removeAllListeners(event);
    },
    terminate: async () => {
      // Node sets these as the process ends, before 'exit' is emitted.
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await gone;
    },
  };
}

export function startWorkerHost(kind: WorkerKind): WorkerHost {
  return kind === 'process' ? processHost(forkModule(import.meta.url, 'inference.worker')) : threadHost(spawnThread());
}

/** The worker's end: messages to and from its client, whichever host it runs in. */
export interface HostPort {
  postMessage(message: unknown, transfer?: ArrayBuffer[]): void;
  on(event: 'message', listener: (raw: unknown) => void): void;
  /** After the model is released: the thread ends, or the process exits. */
  close(): void;
}

export function hostPort(): HostPort {
  if (parentPort) {
    const port = parentPort;
    return { postMessage: (m, transfer = []) => port.postMessage(m, transfer), on: (e, l) => void port.on(e, l), close: () => port.close() };
  }
  const send = process.send?.bind(process);
  if (!send) throw new Error('inference.worker must run in a worker thread or a child process with an IPC channel');
  process.on('SIGINT', () => undefined);
  process.on('disconnect', () => process.exit(0));
  return {
    postMessage: (m) => void send(m as object),
    on: (e, l) => void process.on(e, l),
    // Nothing is sent after the model is released: closing the channel ends the process ('disconnect').
    close: () => process.disconnect(),
  };
}
