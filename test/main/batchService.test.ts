/**
 * The app's batch service through the backend API (the same calls the batch panel makes), with a model-free
 * scene processor (band 1 > 0 → polygons, so areas are known): per-scene results and a recorded error for a
 * corrupt scene, merged.gpkg read back with OGR, pause → no new item until resume, cancel → resume later,
 * and the errors an analyst can run into (no model, output folder not empty / already a batch, outside the
 * server's folders).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchFinished, BatchStatus } from '../../src/shared/api/batchDto.js';
import type { MethodInput } from '../../src/shared/api/contract.js';
import { api } from '../../src/shared/api/contract.js';
import type { SceneProcessor } from '../../src/inference/batch/sceneProcessor.js';
import type { InferenceBackend } from '../../src/main/services/backends.js';
import { createBackend, type Backend } from '../../src/main/services/createApi.js';
import { SegEarthError, isSegEarthError } from '../../src/shared/errors.js';
import { createRaster, makeTempDir, removeDir } from '../support/syntheticRaster.js';
import { maskSceneProcessor } from '../support/maskSceneProcessor.js';
import { ogrReadLayers } from '../support/ogrRead.js';
import { fakeGeo, noRuntime } from './fakes.js';

const PIXEL = 10; // metres, UTM 33N

let root: string;
let input: string;
const outside = makeTempDir('segearth-batch-outside-');

/** Scene i: one rectangle of (4 + i) × 3 pixels → (4 + i) * 3 * 100 m². */
const area = (i: number): number => (4 + i) * 3 * PIXEL * PIXEL;

beforeAll(() => {
  root = makeTempDir('segearth-batchsvc-');
  input = join(root, 'scenes');
  mkdirSync(input, { recursive: true });
  for (const i of [0, 1]) {
    createRaster(join(input, `scene_${i}.tif`), {
      width: 20,
      height: 10,
      srs: 32633,
      geoTransform: [500000 + i * 1000, PIXEL, 0, 4500000, 0, -PIXEL],
      value: (_b, x, y) => (x >= 2 && x < 6 + i && y >= 3 && y < 6 ? 255 : 0),
    });
  }
  writeFileSync(join(input, 'broken.tif'), 'not a GeoTIFF\n');
});

afterAll(() => {
  removeDir(root);
  removeDir(outside);
});

/** A ready model whose processor is `processor` (the batch panel's model, without ONNX). */
function readyRuntime(processor: () => SceneProcessor): InferenceBackend {
  return {
    ...noRuntime(),
    async modelStatus() {
      return { state: 'ready', dir: '/models/mask', id: 'mask', name: 'Mask processor', variant: 'tiny-test', examples: [], problem: null };
    },
    async batchModel() {
      return { key: 'mask@0000000000000000', executionProvider: 'CPU', processor: () => processor() };
    },
  };
}

interface Harness {
  backend: Backend;
  progress: BatchStatus[];
  finished: BatchFinished[];
  start(args: Partial<MethodInput<'batch', 'start'>> & { outputFolder: string }): Promise<string>;
  waitFinished(batchId: string): Promise<BatchFinished>;
  waitStatus(pred: (s: BatchStatus) => boolean): Promise<BatchStatus>;
}

async function harness(runtime: InferenceBackend): Promise<Harness> {
  const backend = await createBackend({
    mode: 'server', appVersion: 'test', roots: [root], dataDir: join(root, `data-${Math.random().toString(36).slice(2)}`), logsDir: null,
    geo: fakeGeo(), runtime, testHooks: false,
  });
  const progress: BatchStatus[] = [];
  const finished: BatchFinished[] = [];
  const waiters: Array<() => void> = [];
  backend.events.subscribe((e) => {
    if (e.event === 'batch.progress') progress.push(e.payload as BatchStatus);
    if (e.event === 'batch.finished') finished.push(e.payload as BatchFinished);
    for (const w of [...waiters]) w();
  });
  const until = <T>(get: () => T | undefined): Promise<T> =>
    new Promise((resolve) => {
      const check = (): void => {
        const v = get();
        if (v !== undefined) {
          waiters.splice(waiters.indexOf(check), 1);
          resolve(v);
        }
      };
      waiters.push(check);
      check();
    });
  return {
    backend,
    progress,
    finished,
    async start(args) {
      const parsed = api.batch.start.input.parse({ inputFolder: input, questions: ['where are the fields?'], formats: ['gpkg'], ...args });
      return (await backend.api.batch.start(parsed, { transport: 'direct' })).batchId;
    },
    waitFinished: (batchId) => until(() => finished.find((f) => f.batchId === batchId)),
    waitStatus: (pred) => until(() => progress.find(pred)),
  };
}

/** A processor that holds every item until the test lets it go (and gives up when cancelled). */
function heldProcessor(): { processor: SceneProcessor; calls: string[]; releaseNext(): void; called(n: number): Promise<void> } {
  const calls: string[] = [];
  const gates: Array<() => void> = [];
  const callWaiters: Array<() => void> = [];
  let released = 0;
  const inner = maskSceneProcessor();
  return {
    calls,
    releaseNext() {
      released += 1;
      gates.shift()?.();
    },
    called: (n) =>
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (calls.length >= n) resolve();
          else callWaiters.push(check);
        };
        check();
      }),
    processor: async (task) => {
      calls.push(task.scenePath);
      for (const w of callWaiters.splice(0)) w();
      if (calls.length > released) {
        await new Promise<void>((resolve, reject) => {
          gates.push(resolve);
          task.signal.addEventListener('abort', () => reject(new SegEarthError('CANCELLED', 'Cancelled.')), { once: true });
        });
      }
      return inner(task);
    },
  };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return isSegEarthError(err) ? err.code : String(err);
  }
}

describe('batch service', () => {
  it('runs every scene, records the corrupt one, writes merged.gpkg with the summary’s polygons', async () => {
    const h = await harness(readyRuntime(() => maskSceneProcessor()));
    const out = join(root, 'out-full');
    const batchId = await h.start({ outputFolder: out, formats: ['gpkg', 'geojson'], merged: true });
    const end = await h.waitFinished(batchId);

    expect(end.outcome).toBe('finished');
    expect(end.outputFolder).toBe(out);
    expect(end.summary!.totals).toEqual({ items: 3, done: 2, failed: 1, pending: 0, polygons: 2, totalAreaM2: area(0) + area(1) });
    const rows = Object.fromEntries(end.summary!.rows.map((r) => [r.scene, r]));
    expect(rows['scene_0.tif']).toMatchObject({ status: 'done', polygons: 1, totalAreaM2: area(0), error: null });
    expect(rows['scene_1.tif']).toMatchObject({ status: 'done', polygons: 1, totalAreaM2: area(1) });
    expect(rows['broken.tif']!.status).toBe('failed');
    expect(rows['broken.tif']!.error).toMatch(/broken\.tif/);

    expect(end.mergedPath).toBe(join(out, 'merged.gpkg'));
    const layers = ogrReadLayers(end.mergedPath!);
    expect(layers).toHaveLength(1);
    expect(layers[0]!.features).toHaveLength(end.summary!.totals.polygons);
    expect(layers[0]!.features.map((f) => f.properties['source']).sort()).toEqual(['scene_0.tif', 'scene_1.tif']);
    expect(existsSync(join(out, 'scenes', 'scene_0_tif', 'q1.geojson'))).toBe(true);
    expect(end.summaryPaths.map((p) => existsSync(p))).toEqual([true, true]);
    expect(readFileSync(join(out, 'summary.csv'), 'utf8').split('\n')[0]).toBe('scene,question,status,seconds,polygons,total_area_m2,error,note');

    // Progress: the plan, each item, the end; counts only grow.
    const last = h.progress.at(-1)!;
    expect(last).toMatchObject({ state: 'finished', total: 3, completed: 3, done: 2, failed: 1, scenes: 3, current: null, model: 'mask@0000000000000000' });
    expect(h.progress.some((p) => p.current?.scene === 'scene_1.tif' && p.current.question === 'where are the fields?')).toBe(true);
    const completed = h.progress.map((p) => p.completed);
    expect(completed).toEqual([...completed].sort((a, b) => a - b));
    const listed = await h.backend.api.batch.list({}, { transport: 'direct' });
    expect(listed[0]!.finished!.summary!.totals.done).toBe(2);
  });

  it('pauses after the running item: no new item starts until resume', async () => {
    const held = heldProcessor();
    const h = await harness(readyRuntime(() => held.processor));
    const batchId = await h.start({ outputFolder: join(root, 'out-pause') });
    await held.called(1);
    expect(held.calls).toHaveLength(1);

    const asked = await h.backend.api.batch.pause({ batchId }, { transport: 'direct' });
    expect(asked).toMatchObject({ pauseRequested: true, paused: false, state: 'running' });
    held.releaseNext(); // the running item finishes…
    const paused = await h.waitStatus((s) => s.paused);
    expect(paused).toMatchObject({ state: 'paused', completed: 1, current: null });
    // …and the gate holds: let every pending callback run, still one item.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(held.calls).toHaveLength(1);
    expect((await h.backend.api.batch.status({ batchId }, { transport: 'direct' })).status.state).toBe('paused');

    held.releaseNext();
    held.releaseNext();
    await h.backend.api.batch.resume({ batchId }, { transport: 'direct' });
    const end = await h.waitFinished(batchId);
    expect(held.calls).toHaveLength(3);
    expect(end.summary!.totals).toMatchObject({ done: 2, failed: 1, pending: 0 });
  });

  it('cancels a paused batch: the gate lets go and nothing more runs', async () => {
    const held = heldProcessor();
    const h = await harness(readyRuntime(() => held.processor));
    const batchId = await h.start({ outputFolder: join(root, 'out-pause-cancel') });
    await held.called(1);
    await h.backend.api.batch.pause({ batchId }, { transport: 'direct' });
    held.releaseNext();
    await h.waitStatus((s) => s.paused);
    const cancelling = await h.backend.api.batch.cancel({ batchId }, { transport: 'direct' });
    expect(cancelling.state).toBe('cancelling');
    const end = await h.waitFinished(batchId);
    expect(end.outcome).toBe('cancelled');
    expect(end.summary!.totals).toMatchObject({ items: 3, pending: 2 });
    expect(held.calls).toHaveLength(1);
    expect((await h.backend.api.batch.status({ batchId }, { transport: 'direct' })).status).toMatchObject({ state: 'cancelled', paused: false });
    // Controls on an ended batch change nothing; unknown ids are NOT_FOUND.
    expect((await h.backend.api.batch.resume({ batchId }, { transport: 'direct' })).state).toBe('cancelled');
    expect(await code(h.backend.api.batch.pause({ batchId: 'nope' }, { transport: 'direct' }))).toBe('NOT_FOUND');
  });

  it('cancels the running item; a later start with resume redoes only the unfinished items', async () => {
    const held = heldProcessor();
    let processor = held.processor;
    const h = await harness(readyRuntime(() => processor));
    const out = join(root, 'out-cancel');
    const first = await h.start({ outputFolder: out });
    held.releaseNext(); // item 1 (broken.tif, sorted first) may finish
    await held.called(2);
    await h.backend.api.batch.cancel({ batchId: first }, { transport: 'direct' });
    const cancelled = await h.waitFinished(first);
    expect(cancelled.outcome).toBe('cancelled');
    expect(cancelled.summary!.totals).toMatchObject({ items: 3, failed: 1, done: 0, pending: 2 });

    // What the folder holds, for the panel's “Resume that batch with its settings”.
    const info = await h.backend.api.batch.inspect({ outputFolder: out }, { transport: 'direct' });
    expect(info).toMatchObject({ outputFolder: out, done: 0, failed: 1, interrupted: 1, empty: false }); // scene_0 was cancelled mid-run
    expect(info.plan).toMatchObject({ inputFolder: input, questions: ['where are the fields?'], formats: ['gpkg'], merged: true, threshold: 0.5, shard: null, model: 'mask@0000000000000000' });
    expect(await h.backend.api.batch.inspect({ outputFolder: join(root, 'nothing-here') }, { transport: 'direct' })).toMatchObject({ plan: null, empty: true });
    expect(await code(h.backend.api.batch.inspect({ outputFolder: join(outside, 'x') }, { transport: 'direct' }))).toBe('FORBIDDEN_PATH');

    // Same folder without resume: refused with what to do.
    const again = h.start({ outputFolder: out });
    await expect(again).rejects.toMatchObject({ code: 'BATCH_EXISTS' });
    await again.catch((err: SegEarthError) => expect(err.hint).toMatch(/Resume/));

    const resumed: string[] = [];
    const mask = maskSceneProcessor();
    processor = (task) => (resumed.push(task.scenePath.split('/').pop()!), mask(task));
    const second = await h.start({ outputFolder: out, resume: true });
    const end = await h.waitFinished(second);
    expect(end.outcome).toBe('finished');
    expect(end.summary!.totals).toMatchObject({ items: 3, done: 2, failed: 1, pending: 0 });
    // broken.tif (failed) is retried, the two scenes run: three items, nothing done twice.
    expect(resumed).toEqual(['broken.tif', 'scene_0.tif', 'scene_1.tif']);

    // Resuming with other options is refused by the engine and reported as a failed batch.
    const other = await h.start({ outputFolder: out, resume: true, threshold: 0.7 });
    const refused = await h.waitFinished(other);
    expect(refused.outcome).toBe('failed');
    expect(refused.error!.message).toMatch(/different threshold/);
  });

  it('says clearly what is wrong before anything runs', async () => {
    const h = await harness(readyRuntime(() => maskSceneProcessor()));
    const notEmpty = join(root, 'not-empty');
    mkdirSync(notEmpty);
    writeFileSync(join(notEmpty, 'notes.txt'), 'x');
    expect(await code(h.start({ outputFolder: notEmpty }))).toBe('OUTPUT_EXISTS');
    expect(await code(h.start({ outputFolder: join(root, 'fresh'), resume: true }))).toBe('BAD_ARGUMENT');
    expect(await code(h.start({ outputFolder: join(input, 'results') }))).toBe('BAD_ARGUMENT');
    expect(await code(h.start({ outputFolder: join(outside, 'out') }))).toBe('FORBIDDEN_PATH');
    expect(await code(h.start({ outputFolder: join(root, 'x'), inputFolder: outside }))).toBe('FORBIDDEN_PATH');
    expect(await code(h.start({ outputFolder: join(root, 'missing-parent', 'deeper', 'out') }))).toBe('NOT_FOUND');
    expect(await code(h.start({ outputFolder: join(root, 'y'), inputFolder: join(input, 'scene_0.tif') }))).toBe('BAD_ARGUMENT');
    expect(api.batch.start.input.safeParse({ inputFolder: input, outputFolder: join(root, 'o'), questions: ['q'], formats: [], merged: false }).success).toBe(false);
    expect(api.batch.start.input.safeParse({ inputFolder: input, outputFolder: join(root, 'o'), questions: [] }).success).toBe(false);
    expect(existsSync(join(root, 'fresh'))).toBe(false);

    const none = await harness(noRuntime());
    const err = await none.start({ outputFolder: join(root, 'no-model') }).catch((e: SegEarthError) => e);
    expect(err).toMatchObject({ code: 'MODEL_NOT_FOUND' });
    expect((err as SegEarthError).hint).toMatch(/Model & device/);
  });
});
