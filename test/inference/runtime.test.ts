import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gdal from 'gdal-async';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRegion } from '../../src/geo/readRegion.js';
import { InferenceRuntime } from '../../src/inference/runtime/runtime.js';
import { InferenceWorker } from '../../src/inference/worker/client.js';
import { SEGEARTH_NORMALIZE } from '../../src/inference/preprocessing/preprocess.js';
import { isSegEarthError } from '../../src/shared/errors.js';
import { ensureTinyBundle } from '../support/tinyBundle.js';
import { refreshFileEntries, standInBundle, variantBundle } from './support/bundles.js';
import { writeScene } from './support/scenes.js';

const dir = mkdtempSync(join(tmpdir(), 'segearth-runtime-'));
let tiny: string;
let runtime: InferenceRuntime;

function readProbability(path: string): { data: Float32Array; width: number; height: number; gt: number[] } {
  const ds = gdal.open(path);
  const { x: width, y: height } = ds.rasterSize;
  const data = ds.bands.get(1).pixels.read(0, 0, width, height) as Float32Array;
  const gt = ds.geoTransform as number[];
  ds.close();
  return { data, width, height, gt };
}

const small = join(dir, 'small.tif');
const large = join(dir, 'large.tif');

beforeAll(async () => {
  tiny = await ensureTinyBundle();
  writeScene(small, 600, 400);
  writeScene(large, 2300, 1500);
  runtime = await InferenceRuntime.open(tiny, { ep: 'cpu' });
});

afterAll(async () => {
  await runtime?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('InferenceRuntime on the tiny bundle', () => {
  it('view strategy: a georeferenced probability raster on the AOI grid, deterministic; follow-ups skip the image graph', async () => {
    const aoi: [number, number, number, number] = [500100, 4000000 - 600, 500900, 4000000 - 100]; // px 50..450 x 50..300
    const before = await runtime.stats();
    const first = await runtime.ask({ rasterPath: small, question: 'where are the roads?', aoi, probabilityPath: join(dir, 'q1.tif'), strategy: 'view' });
    expect(first.strategy).toBe('view');
    expect(first.window).toEqual({ x: 50, y: 50, width: 400, height: 250 });
    const p1 = readProbability(first.probabilityPath);
    expect([p1.width, p1.height]).toEqual([400, 250]);
    expect(p1.gt).toEqual([500100, 2, 0, 4000000 - 100, 0, -2]);
    let min = 1;
    let max = 0;
    for (const v of p1.data) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThanOrEqual(1);
    expect(max).toBeCloseTo(first.maxProbability, 5);
    const afterFirst = await runtime.stats();
    expect(afterFirst.image.runs - before.image.runs).toBe(1);
    expect(afterFirst.llm.runs - before.llm.runs).toBe(2); // view tokens + question tokens

    // The same question again (cached view): bit-identical probabilities.
    const again = await runtime.ask({ rasterPath: small, question: 'where are the roads?', aoi, probabilityPath: join(dir, 'q1b.tif'), strategy: 'view' });
    expect(again.viewCached).toBe(true);
    expect(readProbability(again.probabilityPath).data).toEqual(p1.data);

    // A follow-up question with a threshold just under the maximum: polygons with provenance.
    const threshold = Math.max(0.01, Math.min(0.99, first.maxProbability - 0.02));
    const follow = await runtime.ask({ rasterPath: small, question: 'where could a helicopter land?', aoi, probabilityPath: join(dir, 'q2.tif'), strategy: 'view', threshold });
    const s = await runtime.stats();
    expect(s.image.runs - before.image.runs).toBe(1);
    expect(s.llm.runs - before.llm.runs).toBe(4);
    expect(s.head.runs - before.head.runs).toBe(3);
    expect(follow.features.features.length).toBeGreaterThan(0);
    for (const f of follow.features.features) {
      expect(f.properties).toMatchObject({
        question: 'where could a helicopter land?',
        model_id: 'tiny-test',
        bundle_sha: runtime.model.bundleSha256,
        source: small,
        threshold,
        created_at: follow.createdAt,
      });
      expect(f.properties.area_m2 as number).toBeGreaterThan(0);
      expect(f.properties.mean_prob as number).toBeGreaterThanOrEqual(threshold - 1e-3);
    }
    expect(runtime.model.testFixture).toBe(true);
  }, 600_000);

  it('cacheViews: false neither stores nor reuses the view (a one-question batch leaves the cache alone)', async () => {
    const aoi: [number, number, number, number] = [500200, 4000000 - 500, 500700, 4000000 - 200];
    const ask = (name: string, cacheViews?: boolean) =>
      runtime.ask({ rasterPath: small, question: 'where are the roads?', aoi, probabilityPath: join(dir, name), strategy: 'view', skipPolygons: true, ...(cacheViews === undefined ? {} : { cacheViews }) });
    const runs = async () => (await runtime.stats()).image.runs;
    const r0 = await runs();
    await ask('nc1.tif', false);
    await ask('nc2.tif', false);
    expect((await runs()) - r0).toBe(2);
    await ask('c1.tif');
    const cached = await ask('c2.tif');
    expect(cached.viewCached).toBe(true);
    expect((await runs()) - r0).toBe(3);
    expect(readProbability(join(dir, 'nc1.tif')).data).toEqual(readProbability(join(dir, 'c2.tif')).data);
  }, 600_000);

  it('releaseModelBeforePolygons: the answer is complete, then the runtime refuses further questions; dispose is idempotent', async () => {
    const oneShot = await InferenceRuntime.open(tiny, { ep: 'cpu' });
    const aoi: [number, number, number, number] = [500200, 4000000 - 500, 500700, 4000000 - 200];
    const request = { rasterPath: small, question: 'where are the roads?', aoi, strategy: 'view' as const, threshold: 0.3 };
    // Released as soon as the last graph has run: before the probability raster's last pass is written.
    const order: string[] = [];
    const dispose = oneShot.dispose.bind(oneShot);
    oneShot.dispose = () => (order.push('dispose'), dispose());
    const onProgress = (p: { stage: string }): void => void (order.at(-1) !== p.stage && order.push(p.stage));
    const released = await oneShot.ask({ ...request, probabilityPath: join(dir, 'released.tif') }, { releaseModelBeforePolygons: true, onProgress });
    expect(order.indexOf('dispose')).toBeGreaterThan(order.indexOf('image'));
    expect(order.indexOf('dispose')).toBeLessThan(order.indexOf('stitching'));
    // The same answer as a runtime that keeps its model (the polygons are made from the raster alone).
    const kept = await runtime.ask({ ...request, probabilityPath: join(dir, 'kept.tif'), cacheViews: false });
    expect(released.features.features.length).toBeGreaterThan(0);
    expect(released.features.features.map((f) => f.properties.area_m2)).toEqual(kept.features.features.map((f) => f.properties.area_m2));
    const again = await oneShot.ask({ ...request, probabilityPath: join(dir, 'again.tif') }).catch((e: unknown) => e);
    expect(isSegEarthError(again, 'INTERNAL')).toBe(true);
    expect(String((again as Error).message)).toMatch(/released its model/);
    expect(existsSync(join(dir, 'again.tif'))).toBe(false);
    await oneShot.dispose();
  }, 600_000);

  it('through the worker: cancelling mid-run stops between graph runs, writes nothing, and the worker goes on', async () => {
    const controller = new AbortController();
    const target = join(dir, 'worker-cancelled.tif');
    const before = await runtime.stats();
    const err = await runtime
      .ask({
        rasterPath: large,
        question: 'where are the roads?',
        strategy: 'tiled',
        probabilityPath: target,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.stage === 'tiles' && p.tileIndex === 1) controller.abort();
        },
      })
      .catch((e: unknown) => e);
    expect(isSegEarthError(err, 'CANCELLED')).toBe(true);
    expect(existsSync(target)).toBe(false);
    expect(readdirSync(dir).filter((n) => n.startsWith('.segearth-tmp'))).toEqual([]);
    const after = await runtime.stats();
    expect(after.image.runs - before.image.runs).toBeLessThanOrEqual(2);
    // The worker is still usable.
    const ok = await runtime.ask({ rasterPath: small, question: 'roads', strategy: 'view', probabilityPath: join(dir, 'after-cancel.tif'), skipPolygons: true });
    expect(existsSync(ok.probabilityPath)).toBe(true);
  }, 600_000);

  it('in a child process (one-shot asks): the same probabilities as the thread, cancellable, gone once released; a killed one fails the question', async () => {
    const worker = await InferenceWorker.start({ modelDir: tiny, ep: 'cpu', host: 'process' });
    const inProcess = InferenceRuntime.fromWorker(worker);
    const pid = worker.pid!;
    expect(pid).toBeGreaterThan(0);
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toMatch(/inference\.worker/);
    const request = { rasterPath: small, question: 'where are the roads?', strategy: 'view' as const, skipPolygons: true };
    const there = await inProcess.ask({ ...request, probabilityPath: join(dir, 'process.tif') });
    const here = await runtime.ask({ ...request, probabilityPath: join(dir, 'thread.tif'), cacheViews: false });
    expect(there.maxProbability).toBe(here.maxProbability);
    expect(readProbability(there.probabilityPath).data).toEqual(readProbability(here.probabilityPath).data);
    // Cancelled between graph runs, nothing written, and the process goes on.
    const controller = new AbortController();
    const cancelled = await inProcess
      .ask({ ...request, strategy: 'tiled', rasterPath: large, probabilityPath: join(dir, 'process-cancelled.tif'), signal: controller.signal, onProgress: (p) => p.stage === 'tiles' && p.tileIndex === 1 && controller.abort() })
      .catch((e: unknown) => e);
    expect(isSegEarthError(cancelled, 'CANCELLED')).toBe(true);
    expect(existsSync(join(dir, 'process-cancelled.tif'))).toBe(false);
    expect((await inProcess.stats()).image.runs).toBeGreaterThan(0);
    await inProcess.dispose();
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);

    // Killed (out of memory, kill -9) while a question runs: the question fails with INFERENCE_FAILED.
    const doomed = await InferenceWorker.start({ modelDir: tiny, ep: 'cpu', host: 'process' });
    const doomedRuntime = InferenceRuntime.fromWorker(doomed);
    const killed = await doomedRuntime
      .ask({ ...request, strategy: 'tiled', rasterPath: large, probabilityPath: join(dir, 'process-killed.tif'), onProgress: (p) => p.stage === 'tiles' && p.tileIndex === 1 && process.kill(doomed.pid!, 'SIGKILL') })
      .catch((e: unknown) => e);
    expect(isSegEarthError(killed, 'INFERENCE_FAILED')).toBe(true);
    expect(String((killed as Error).message)).toMatch(/SIGKILL/);
    expect(existsSync(join(dir, 'process-killed.tif'))).toBe(false);
    await doomedRuntime.dispose();
  }, 600_000);

  it('rejects empty and 10,000-character questions before running anything', async () => {
    const runs = (await runtime.stats()).image.runs;
    for (const question of ['', '   ', 'x'.repeat(10_000)]) {
      const err = await runtime.ask({ rasterPath: small, question, probabilityPath: join(dir, 'never.tif') }).catch((e: unknown) => e);
      expect(isSegEarthError(err, 'BAD_ARGUMENT')).toBe(true);
      expect((err as Error).message).toMatch(question.length > 100 ? /too long \(10000 characters/ : /question is empty/);
    }
    expect((await runtime.stats()).image.runs).toBe(runs);
    expect(existsSync(join(dir, 'never.tif'))).toBe(false);
  });

  it('rejects an AOI outside the raster and a threshold outside (0, 1)', async () => {
    const outside = await runtime
      .ask({ rasterPath: small, question: 'roads', aoi: [0, 0, 10, 10], probabilityPath: join(dir, 'x.tif') })
      .catch((e: unknown) => e);
    expect(isSegEarthError(outside, 'BAD_ARGUMENT')).toBe(true);
    expect((outside as Error).message).toMatch(/does not overlap/);
    const bad = await runtime.ask({ rasterPath: small, question: 'roads', threshold: 1.5, probabilityPath: join(dir, 'x.tif') }).catch((e: unknown) => e);
    expect((bad as Error).message).toMatch(/not a probability/);
  });
});

describe('bad model bundles', () => {
  it('no model folder → MODEL_NOT_FOUND', async () => {
    const err = await InferenceRuntime.open(join(dir, 'nothing-here')).catch((e: unknown) => e);
    expect(isSegEarthError(err, 'MODEL_NOT_FOUND')).toBe(true);
  });

  it('a wrong manifest format version → MODEL_VERSION', async () => {
    const b = variantBundle(tiny, join(dir, 'v2'), (m) => {
      m.formatVersion = 2;
    });
    const err = await InferenceRuntime.open(b, { ep: 'cpu' }).catch((e: unknown) => e);
    expect(isSegEarthError(err, 'MODEL_VERSION')).toBe(true);
    expect((err as Error).message).toMatch(/format version 2; this SegEarth understands version 1/);
  });

  it('a corrupt ONNX graph → MODEL_INVALID naming the graph', async () => {
    const garbage = new Uint8Array(readFileSync(join(tiny, 'head.onnx')).length).map((_, i) => (i * 131 + 7) % 256);
    const b = variantBundle(tiny, join(dir, 'corrupt'), () => {}, { 'head.onnx': garbage });
    refreshFileEntries(b, ['head.onnx']);
    const err = await InferenceRuntime.open(b, { ep: 'cpu' }).catch((e: unknown) => e);
    expect(isSegEarthError(err, 'MODEL_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(/Cannot load the head graph \(head\.onnx\)/);
  });

  it('a truncated file → MODEL_INVALID with sizes', async () => {
    const b = variantBundle(tiny, join(dir, 'truncated'), () => {}, { 'llm.onnx': new Uint8Array(10) });
    const err = await InferenceRuntime.open(b, { ep: 'cpu' }).catch((e: unknown) => e);
    expect(isSegEarthError(err, 'MODEL_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(/llm\.onnx has 10 bytes/);
  });

  it('a graph whose inputs do not match the manifest → MODEL_INVALID', async () => {
    const b = variantBundle(tiny, join(dir, 'renamed'), (m) => {
      const graphs = m.graphs as Record<string, { inputs: Array<{ name: string }> }>;
      graphs.head!.inputs[0]!.name = 'description_hidden';
    });
    const err = await InferenceRuntime.open(b, { ep: 'cpu' }).catch((e: unknown) => e);
    expect(isSegEarthError(err, 'MODEL_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(/refer_hidden/);
  });
});

describe('tiling with a position-independent stand-in model', () => {
  let standIn: InferenceRuntime;
  beforeAll(async () => {
    standIn = await InferenceRuntime.open(standInBundle(tiny, join(dir, 'stand-in')), { ep: 'cpu', viewCacheBytes: 256 * 2 ** 20, worker: false });
  });
  afterAll(async () => standIn?.dispose());

  /** The stand-in's per-pixel function, applied to the whole scene at once (the "single pass"). */
  async function wholeSceneProbability(path: string, width: number, height: number): Promise<Float32Array> {
    const region = await readRegion(path, { window: { kind: 'full' }, outWidth: width, outHeight: height });
    const w1 = [[0.9, -0.4, 0.3], [-0.2, 0.7, -0.6], [0.5, 0.5, 0.5], [0.1, -0.8, 0.4]];
    const b1 = [0.1, -0.2, 0.05, 0.3];
    const w2 = [1.5, -1.2, 2.0, 0.8];
    const out = new Float32Array(width * height);
    for (let i = 0; i < out.length; i++) {
      const x = [0, 1, 2].map((c) => (region.rgb[i * 3 + c]! - SEGEARTH_NORMALIZE.mean[c]!) / SEGEARTH_NORMALIZE.std[c]!);
      let l = -0.25;
      for (let k = 0; k < 4; k++) l += w2[k]! * Math.tanh(b1[k]! + w1[k]![0]! * x[0]! + w1[k]![1]! * x[1]! + w1[k]![2]! * x[2]!);
      out[i] = 1 / (1 + Math.exp(-l));
    }
    return out;
  }

  it('a tiled run equals the single pass everywhere, with no seams at tile borders', async () => {
    const result = await standIn.ask({ rasterPath: large, question: 'roads', strategy: 'tiled', probabilityPath: join(dir, 'tiled.tif'), skipPolygons: true });
    expect(result.tiles.total).toBe(6); // 3 x 2 tiles of 1024 with >= 128 px overlap
    const got = readProbability(result.probabilityPath);
    expect([got.width, got.height]).toEqual([2300, 1500]);
    const want = await wholeSceneProbability(large, 2300, 1500);
    let maxErr = 0;
    for (let i = 0; i < want.length; i++) maxErr = Math.max(maxErr, Math.abs(got.data[i]! - want[i]!));
    expect(maxErr).toBeLessThan(1e-5);
    // Seams: differences between neighbouring columns across every tile border equal those of the single pass.
    for (const x of [638, 1276, 1024, 1914]) {
      for (let y = 0; y < 1500; y += 37) {
        const d = got.data[y * 2300 + x]! - got.data[y * 2300 + x - 1]!;
        const e = want[y * 2300 + x]! - want[y * 2300 + x - 1]!;
        expect(Math.abs(d - e)).toBeLessThan(2e-5);
      }
    }
  }, 600_000);

  it('the view strategy on a 1024-px AOI equals the tiled run on the same pixels', async () => {
    const aoi: [number, number, number, number] = [500000 + 2 * 300, 4000000 - 2 * 900, 500000 + 2 * 1324, 4000000 - 2 * 200];
    const view = await standIn.ask({ rasterPath: large, question: 'roads', aoi, strategy: 'view', probabilityPath: join(dir, 'view.tif'), skipPolygons: true });
    expect(view.window).toEqual({ x: 300, y: 200, width: 1024, height: 700 });
    const v = readProbability(view.probabilityPath);
    const t = readProbability(join(dir, 'tiled.tif'));
    let maxErr = 0;
    for (let y = 0; y < 700; y++) for (let x = 0; x < 1024; x++) maxErr = Math.max(maxErr, Math.abs(v.data[y * 1024 + x]! - t.data[(y + 200) * 2300 + x + 300]!));
    expect(maxErr).toBeLessThan(1e-5);
  });

  it('coarse-to-fine refines only the tiles the coarse pass selects', async () => {
    const all = await standIn.ask({ rasterPath: large, question: 'roads', strategy: 'coarse-to-fine', refineAbove: 0.0001, probabilityPath: join(dir, 'c2f-all.tif'), skipPolygons: true });
    expect(all.tiles).toEqual({ total: 6, refined: 6 });
    const none = await standIn.ask({ rasterPath: large, question: 'roads', strategy: 'coarse-to-fine', refineAbove: 0.9999, probabilityPath: join(dir, 'c2f-none.tif'), skipPolygons: true });
    expect(none.tiles).toEqual({ total: 6, refined: 0 });
    const full = readProbability(join(dir, 'tiled.tif')).data;
    expect(readProbability(all.probabilityPath).data).toEqual(full);
    // Coarse only: close to the full-resolution answer on this smooth scene, but not identical.
    const coarse = readProbability(none.probabilityPath).data;
    let mean = 0;
    for (let i = 0; i < full.length; i++) mean += Math.abs(coarse[i]! - full[i]!);
    mean /= full.length;
    expect(mean).toBeGreaterThan(1e-4);
    expect(mean).toBeLessThan(0.1);
  }, 600_000);

  it('cancellation mid-run stops between tiles and leaves nothing half-written', async () => {
    const controller = new AbortController();
    const target = join(dir, 'cancelled.tif');
    const stages: string[] = [];
    const runsBefore = (await standIn.stats()).head.runs;
    const err = await standIn
      .ask({
        rasterPath: large,
        question: 'a new question',
        strategy: 'tiled',
        probabilityPath: target,
        signal: controller.signal,
        onProgress: (p) => {
          stages.push(`${p.stage}:${p.tileIndex}/${p.tileCount}`);
          if (p.stage === 'tiles' && p.tileIndex === 2) controller.abort();
        },
      })
      .catch((e: unknown) => e);
    expect(isSegEarthError(err, 'CANCELLED')).toBe(true);
    expect(stages).toContain('tiles:2/6');
    expect((await standIn.stats()).head.runs - runsBefore).toBeLessThanOrEqual(3);
    expect(existsSync(target)).toBe(false);
    expect(readdirSync(dir).filter((n) => n.startsWith('.segearth-tmp'))).toEqual([]);
  });
});
