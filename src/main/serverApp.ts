/**
 * @module main/serverApp
 * Server mode assembled: the backend services with the real geo engine and inference runtime (or injected
 * ones, for tests), the dispatcher, and the HTTP/WebSocket server in front of them.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createDispatcher } from './dispatch.js';
import { loadResource } from './resources.js';
import { ModelStore } from '../inference/models/ModelStore.js';
import type { GeoBackend, InferenceBackend } from './services/backends.js';
import { createBackend, type Backend } from './services/createApi.js';
import { startServer, type RunningServer } from './transport/server.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function appVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

export function defaultDataDir(): string {
  const base = process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config');
  return join(base, 'segearth-desktop');
}

export interface ServerAppOptions {
  roots: string[];
  port?: number;
  dataDir?: string;
  staticDir?: string | null;
  testHooks?: boolean;
  geo?: GeoBackend;
  /** The inference backend (default: the runtime adapter over `modelStore`). */
  runtime?: InferenceBackend;
  /** The model manager, shared by the runtime adapter and the Model & device dialog (default: a new one). */
  modelStore?: ModelStore;
  /** A bundle folder used when the settings name none (default: `SEGEARTH_MODEL_DIR`). */
  defaultModelDir?: string;
  token?: string;
}

export interface ServerApp {
  server: RunningServer;
  backend: Backend;
  close(): Promise<void>;
}

export async function startServerApp(options: ServerAppOptions): Promise<ServerApp> {
  const geo =
    options.geo ??
    (await (async () => {
      const { createGeoAdapter } = await import('./services/geoAdapter.js');
      return createGeoAdapter();
    })());
  const modelStore = options.modelStore ?? new ModelStore();
  const runtime =
    options.runtime ??
    (await (async () => {
      const { createRuntimeAdapter } = await import('./services/runtimeAdapter.js');
      return createRuntimeAdapter({ store: modelStore, defaultModelDir: options.defaultModelDir ?? process.env.SEGEARTH_MODEL_DIR ?? null });
    })());
  const backend = await createBackend({
    mode: 'server',
    appVersion: appVersion(),
    roots: options.roots,
    dataDir: options.dataDir ?? defaultDataDir(),
    logsDir: null,
    geo,
    runtime,
    modelStore,
    testHooks: options.testHooks ?? false,
  });
  const server = await startServer({
    dispatcher: createDispatcher(backend.api, { onInternalError: (err, where) => console.error(`[segearth] ${where} failed:`, err) }),
    events: backend.events,
    resource: (path) => loadResource(path, backend),
    staticDir: options.staticDir === undefined ? join(REPO_ROOT, 'dist-renderer') : options.staticDir,
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.token !== undefined ? { token: options.token } : {}),
  });
  return {
    server,
    backend,
    async close() {
      await server.close();
      backend.inference.cancelAll();
      backend.viewPrefetch.cancel();
      backend.batch.cancelAll();
      backend.models.cancelAll();
      await Promise.all([backend.inference.idle(), backend.batch.idle(), backend.models.idle()]);
      await runtime.dispose?.();
    },
  };
}
