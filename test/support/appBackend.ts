/**
 * @module test/support/appBackend
 * The app's backend on the production path, for tests: the backend services over the real geo adapter and the
 * real runtime adapter (model in a worker thread) with `bundle` as the default model, confined to `root`, and
 * the `inference.job` events it emits collected in order.
 */
import { join } from 'node:path';
import { createBackend, type Backend } from '../../src/main/services/createApi.js';
import { createGeoAdapter } from '../../src/main/services/geoAdapter.js';
import { createRuntimeAdapter } from '../../src/main/services/runtimeAdapter.js';
import type { InferenceBackend } from '../../src/main/services/backends.js';
import { ModelStore } from '../../src/inference/models/ModelStore.js';
import type { JobEvent } from '../../src/shared/api/dto.js';

export interface AppBackend {
  backend: Backend;
  runtime: InferenceBackend;
  /** Every `inference.job` event so far. */
  events: JobEvent[];
}

/** `preload: false`: the model is not loaded at start (it loads with the first question). */
export async function createAppBackend(root: string, bundle: string, options: { preload?: boolean } = {}): Promise<AppBackend> {
  const modelStore = new ModelStore();
  const adapter = createRuntimeAdapter({ store: modelStore, defaultModelDir: bundle });
  const runtime: InferenceBackend = options.preload === false ? { ...adapter, prepare: undefined } : adapter;
  const backend = await createBackend({
    mode: 'server', appVersion: 'test', roots: [root], dataDir: join(root, 'data'), logsDir: null, testHooks: false,
    geo: createGeoAdapter(),
    runtime,
    modelStore,
  });
  const events: JobEvent[] = [];
  backend.events.subscribe((e) => {
    if (e.event === 'inference.job') events.push(e.payload as JobEvent);
  });
  return { backend, runtime, events };
}
