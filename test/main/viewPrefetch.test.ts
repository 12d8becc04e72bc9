/**
 * `inference.prefetchView` on the production path: the backend services over the real geo adapter and runtime
 * adapter (tiny bundle, worker thread). A prefetched view makes the question a cache hit — asserted through the
 * loaded model's graph run counters (`graphStats`), not wall time —; it is read once per view; none is read
 * while a question runs nor before a model is loaded; a question asked while its view is being read does not
 * read it again; a prefetch is cancelled by a prefetch of another view and by closing its layer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/main/services/createApi.js';
import type { InferenceBackend } from '../../src/main/services/backends.js';
import type { RunStats } from '../../src/inference/sessions/model.js';
import type { Aoi, JobEvent, ViewPrefetchRequest } from '../../src/shared/api/dto.js';
import { isSegEarthError } from '../../src/shared/errors.js';
import { createAppBackend } from '../support/appBackend.js';
import { ensureTinyBundle } from '../support/tinyBundle.js';
import { writeScene } from '../inference/support/scenes.js';

const ctx = { transport: 'direct' } as const;
const settings = { modelDir: null, executionProvider: 'auto' };
let dir: string;
let backend: Backend;
let runtime: InferenceBackend;
let layerId: string;
let events: JobEvent[];

beforeAll(async () => {
  const bundle = await ensureTinyBundle();
  dir = mkdtempSync(join(tmpdir(), 'segearth-view-prefetch-'));
  writeScene(join(dir, 'scene.tif'), 700, 500);
  writeScene(join(dir, 'second.tif'), 400, 300);
  ({ backend, runtime, events } = await createAppBackend(dir, bundle));
  layerId = (await backend.api.workspace.openRaster({ path: join(dir, 'scene.tif') }, ctx)).id;
  // The backend loads and warms the model up from the start; the prefetch needs it loaded.
  while ((await runtime.loadState!(settings)) !== 'loaded') await new Promise((r) => setTimeout(r, 50));
}, 600_000);

afterAll(async () => {
  if (!backend) return;
  backend.inference.cancelAll();
  await backend.inference.idle();
  await runtime.dispose?.();
  rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
});

const stats = async (): Promise<RunStats> => (await runtime.graphStats!(settings))!;
const runs = (a: RunStats, b: RunStats) => ({ image: b.image.runs - a.image.runs, llm: b.llm.runs - a.llm.runs, head: b.head.runs - a.head.runs });
const prefetch = (request: Omit<ViewPrefetchRequest, 'layerId'> & { layerId?: string }) =>
  backend.api.inference.prefetchView({ layerId, strategy: 'auto', ...request }, ctx);

async function ask(aoi: Aoi, id = layerId): Promise<JobEvent> {
  const { jobId } = await backend.api.inference.ask({ layerId: id, question: 'where is the water?', aoi, threshold: 0.5, minAreaM2: 0, strategy: 'auto' }, ctx);
  await backend.inference.idle();
  return events.filter((e) => e.jobId === jobId).at(-1)!;
}

describe('reading the view while the analyst types', () => {
  it('a prefetched view makes the question a cache hit; once per view', async () => {
    const s0 = await stats();
    expect(await prefetch({ aoi: { kind: 'scene' } })).toMatchObject({ outcome: 'read', reason: null, strategy: 'view' });
    const s1 = await stats();
    expect(runs(s0, s1)).toEqual({ image: 1, llm: 1, head: 0 });
    expect(await prefetch({ aoi: { kind: 'scene' } })).toMatchObject({ outcome: 'cached' });
    expect(runs(s1, await stats()).image).toBe(0);
    const answer = await ask({ kind: 'scene' });
    expect(answer.type).toBe('result');
    // Only the question's tokens and the head ran.
    expect(runs(s1, await stats())).toEqual({ image: 0, llm: 1, head: 1 });
  }, 600_000);

  it('none while a question runs; a question asked while its view is read waits for it (one image pass)', async () => {
    const aoi: Aoi = { kind: 'rectangle', extent: [500100, 4000000 - 800, 501000, 4000000 - 100] };
    const { jobId } = await backend.api.inference.ask({ layerId, question: 'where is the water?', aoi, threshold: 0.5, minAreaM2: 0, strategy: 'auto' }, ctx);
    expect(await prefetch({ aoi: { kind: 'rectangle', extent: [500000, 4000000 - 600, 500800, 4000000] } })).toMatchObject({ outcome: 'skipped', reason: 'A question is running.' });
    await backend.inference.idle();
    expect(events.filter((e) => e.jobId === jobId).at(-1)!.type).toBe('result');

    const fresh: Aoi = { kind: 'rectangle', extent: [500200, 4000000 - 900, 501200, 4000000 - 200] };
    const s0 = await stats();
    // Ask only once the prefetch has reached the runtime: asked earlier, the question would run first and the
    // prefetch be skipped ("A question is running."), which is the case above, not this one.
    const original = runtime.prefetch!;
    let reached!: () => void;
    const reachedRuntime = new Promise<void>((resolve) => (reached = resolve));
    runtime.prefetch = (...args) => {
      reached();
      return original.apply(runtime, args);
    };
    try {
      const prefetching = prefetch({ aoi: fresh });
      await reachedRuntime;
      const answer = await ask(fresh);
      expect(answer.type).toBe('result');
      // 'cached' when the question's message reached the model's worker first: it read the view, the prefetch found it.
      expect(['read', 'cached']).toContain((await prefetching).outcome);
    } finally {
      runtime.prefetch = original;
    }
    expect(runs(s0, await stats()).image).toBe(1);
  }, 600_000);

  it('a prefetch of another view, or closing the layer, cancels the one under way', async () => {
    const first = prefetch({ aoi: { kind: 'rectangle', extent: [500000, 4000000 - 500, 500500, 4000000] } });
    const second = prefetch({ aoi: { kind: 'rectangle', extent: [500300, 4000000 - 700, 500900, 4000000 - 100] } });
    expect(await first).toMatchObject({ outcome: 'cancelled' });
    expect(await second).toMatchObject({ outcome: 'read' });

    const other = (await backend.api.workspace.openRaster({ path: join(dir, 'second.tif') }, ctx)).id;
    const s0 = await stats();
    const closing = prefetch({ layerId: other, aoi: { kind: 'scene' } }).catch((e: unknown) => e);
    await backend.api.workspace.removeLayer({ layerId: other }, ctx);
    // Cancelled under way, or refused when the layer was gone before it started.
    const outcome = await closing;
    if (isSegEarthError(outcome)) expect(outcome.code).toBe('NOT_FOUND');
    else expect(outcome).toMatchObject({ outcome: 'cancelled' });
    expect(runs(s0, await stats()).image).toBe(0);
  }, 600_000);

  it('a prefetch does not load a model: skipped until one is loaded', async () => {
    const unloaded = await createAppBackend(dir, await ensureTinyBundle(), { preload: false });
    try {
      const id = (await unloaded.backend.api.workspace.openRaster({ path: join(dir, 'scene.tif') }, ctx)).id;
      expect(await unloaded.backend.api.inference.prefetchView({ layerId: id, aoi: { kind: 'scene' }, strategy: 'auto' }, ctx)).toMatchObject({
        outcome: 'skipped',
        reason: 'The model is not loaded yet.',
      });
      expect(await unloaded.runtime.loadState!(settings)).toBe('not-loaded');
    } finally {
      await unloaded.runtime.dispose?.();
    }
  }, 600_000);
});
