import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WARM_UP_RUNS } from '../../src/inference/pipeline/pipeline.js';
import { createRuntimeAdapter } from '../../src/main/services/runtimeAdapter.js';
import type { InferenceBackend } from '../../src/main/services/backends.js';
import { ModelStore } from '../../src/inference/models/ModelStore.js';
import type { ModelLoad } from '../../src/shared/api/dto.js';
import { ensureTinyBundle } from '../support/tinyBundle.js';

let runtime: InferenceBackend;
const settings = { modelDir: null, executionProvider: 'cpu' };

beforeAll(async () => {
  runtime = createRuntimeAdapter({ store: new ModelStore(), defaultModelDir: await ensureTinyBundle() });
}, 600_000);
afterAll(async () => {
  await runtime?.dispose?.();
});

describe('the app loads and warms the model up before the first question', () => {
  it('prepare: loading → warming-up → loaded, with the warm-up passes run once', async () => {
    expect(await runtime.loadState!(settings)).toBe('not-loaded');
    expect(await runtime.graphStats!(settings)).toBeNull();
    const seen = new Set<ModelLoad>();
    const preparing = runtime.prepare!(settings);
    let state: ModelLoad = 'not-loaded';
    while (state !== 'loaded') {
      state = await runtime.loadState!(settings);
      seen.add(state);
      await new Promise((r) => setTimeout(r, 10));
    }
    await preparing;
    expect([...seen].filter((s) => s !== 'not-loaded')).toEqual(['loading', 'warming-up', 'loaded']);
    const stats = await runtime.graphStats!(settings);
    expect(stats?.image.runs).toBe(WARM_UP_RUNS);
    // Preparing again (e.g. a settings change that keeps the model) neither reloads nor warms up again.
    await runtime.prepare!(settings);
    expect((await runtime.graphStats!(settings))?.image.runs).toBe(WARM_UP_RUNS);
    expect(await runtime.loadState!(settings)).toBe('loaded');
  }, 600_000);
});
