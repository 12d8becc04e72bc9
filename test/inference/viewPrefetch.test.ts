/**
 * A view read ahead of its question (`InferenceRuntime.prefetch`, `scene/viewPrefetch`), through the worker
 * with the tiny bundle: the question then finds its first pass in the view cache (asserted through the graph
 * run counters, the cache occupancy and the answer's `viewCached`, never wall time), gives the same
 * probabilities as without it, a question asked while the prefetch runs waits for it instead of running a second
 * image pass, and a prefetch of a view nobody asks about any more does not hold up the next question.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gdal from 'gdal-async';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultSceneDeps, InferenceRuntime } from '../../src/inference/runtime/runtime.js';
import type { RunStats } from '../../src/inference/sessions/model.js';
import { isSegEarthError } from '../../src/shared/errors.js';
import { ensureTinyBundle } from '../support/tinyBundle.js';
import { writeScene } from './support/scenes.js';

const dir = mkdtempSync(join(tmpdir(), 'segearth-prefetch-'));
const small = join(dir, 'small.tif');
const other = join(dir, 'other.tif');
const large = join(dir, 'large.tif');
let tiny: string;
let runtime: InferenceRuntime;

beforeAll(async () => {
  tiny = await ensureTinyBundle();
  writeScene(small, 600, 400);
  writeScene(other, 500, 300);
  writeScene(large, 2300, 1500);
  runtime = await InferenceRuntime.open(tiny, { ep: 'cpu' });
}, 600_000);

afterAll(async () => {
  await runtime?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function readProbability(path: string): Float32Array {
  const ds = gdal.open(path);
  const data = ds.bands.get(1).pixels.read(0, 0, ds.rasterSize.x, ds.rasterSize.y) as Float32Array;
  ds.close();
  return data;
}

/** Graph runs between two counter snapshots. */
const runs = (a: RunStats, b: RunStats) => ({ image: b.image.runs - a.image.runs, llm: b.llm.runs - a.llm.runs, head: b.head.runs - a.head.runs });

describe('reading the view ahead of the question', () => {
  it('view: the prefetch runs the image side once; the question then runs only its tokens and the head, with the same answer', async () => {
    const aoi: [number, number, number, number] = [500100, 4000000 - 600, 500900, 4000000 - 100];
    const s0 = await runtime.stats();
    const c0 = await runtime.cacheInfo();
    const pre = await runtime.prefetch({ rasterPath: small, aoi, strategy: 'auto' });
    expect(pre).toMatchObject({ strategy: 'view', cached: false });
    const s1 = await runtime.stats();
    // The image graph and the LLM over the image tokens + instruction; no question, no head.
    expect(runs(s0, s1)).toEqual({ image: 1, llm: 1, head: 0 });
    expect((await runtime.cacheInfo()).views).toBe(c0.views + 1);

    // Once per view: a second prefetch runs nothing.
    expect(await runtime.prefetch({ rasterPath: small, aoi, strategy: 'view' })).toMatchObject({ cached: true });
    expect(runs(s1, await runtime.stats())).toEqual({ image: 0, llm: 0, head: 0 });

    const answer = await runtime.ask({ rasterPath: small, question: 'where are the roads?', aoi, strategy: 'auto', probabilityPath: join(dir, 'p.tif'), skipPolygons: true });
    expect(answer.viewCached).toBe(true);
    const s2 = await runtime.stats();
    expect(runs(s1, s2)).toEqual({ image: 0, llm: 1, head: 1 });
    // The same probabilities as a question that reads the view itself (no cache at all).
    await runtime.ask({ rasterPath: small, question: 'where are the roads?', aoi, strategy: 'view', probabilityPath: join(dir, 'ref.tif'), skipPolygons: true, cacheViews: false });
    expect(readProbability(join(dir, 'p.tif'))).toEqual(readProbability(join(dir, 'ref.tif')));
    // A request that caches no views reads nothing ahead.
    expect(await runtime.prefetch({ rasterPath: other, strategy: 'view', cacheViews: false })).toMatchObject({ key: null, cached: false });
  }, 600_000);

  it('a question asked while its view is being read waits for it: one image pass, not two', async () => {
    const aoi: [number, number, number, number] = [500000, 4000000 - 400, 500600, 4000000];
    const s0 = await runtime.stats();
    const prefetching = runtime.prefetch({ rasterPath: small, aoi, strategy: 'view' });
    const answer = await runtime.ask({ rasterPath: small, question: 'where is the water?', aoi, strategy: 'view', probabilityPath: join(dir, 'during.tif'), skipPolygons: true });
    await prefetching;
    expect(runs(s0, await runtime.stats())).toEqual({ image: 1, llm: 2, head: 1 });
    expect(answer.maxProbability).toBeGreaterThan(0);
  }, 600_000);

  it('coarse-to-fine: the coarse view pass is read ahead, the question runs only the tiles it refines', async () => {
    const pre = await runtime.prefetch({ rasterPath: large, strategy: 'auto' });
    expect(pre).toMatchObject({ strategy: 'coarse-to-fine', cached: false });
    const s1 = await runtime.stats();
    const answer = await runtime.ask({ rasterPath: large, question: 'where are the roads?', strategy: 'auto', probabilityPath: join(dir, 'c2f.tif'), skipPolygons: true });
    expect(answer.strategy).toBe('coarse-to-fine');
    expect(answer.tiles.total).toBe(6);
    expect(runs(s1, await runtime.stats()).image).toBe(answer.tiles.refined);
  }, 600_000);

  it('tiled: only the first tile is read ahead', async () => {
    await runtime.clearCaches();
    const s0 = await runtime.stats();
    expect(await runtime.prefetch({ rasterPath: large, strategy: 'tiled', overlap: 64 })).toMatchObject({ strategy: 'tiled', cached: false });
    const s1 = await runtime.stats();
    expect(runs(s0, s1).image).toBe(1);
    const answer = await runtime.ask({ rasterPath: large, question: 'roads', strategy: 'tiled', overlap: 64, probabilityPath: join(dir, 'tiled.tif'), skipPolygons: true });
    expect(answer.tiles.total).toBe(6);
    expect(runs(s1, await runtime.stats()).image).toBe(answer.tiles.total - 1);
  }, 600_000);

  it('a question about another view stops a prefetch still under way: it does not wait for it, and nothing stale is cached', async () => {
    // The prefetch of `other` is held while its window is read, so it is certainly still under way when the
    // question about `small` arrives; if the question waited for it, this test would never end.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let readStarted!: () => void;
    const reading = new Promise<void>((resolve) => (readStarted = resolve));
    const held = await InferenceRuntime.open(tiny, { ep: 'cpu' }, {
      ...defaultSceneDeps,
      readRegion: async (path, options) => {
        if (path === other) {
          readStarted();
          await gate;
        }
        return defaultSceneDeps.readRegion(path, options);
      },
    });
    try {
      const s0 = await held.stats();
      const prefetching = held.prefetch({ rasterPath: other, strategy: 'view' }).catch((e: unknown) => e);
      await reading;
      const answer = await held.ask({ rasterPath: small, question: 'where are the roads?', strategy: 'view', probabilityPath: join(dir, 'next.tif'), skipPolygons: true });
      expect(answer.viewCached).toBe(false);
      expect(isSegEarthError(await prefetching, 'CANCELLED')).toBe(true);
      expect(runs(s0, await held.stats()).image).toBe(1);
      expect((await held.cacheInfo()).views).toBe(1);
      release();
      // The worker goes on: the stale view is read when asked for.
      expect(await held.prefetch({ rasterPath: other, strategy: 'view' })).toMatchObject({ cached: false });
      expect((await held.cacheInfo()).views).toBe(2);
    } finally {
      release();
      await held.dispose();
    }
  }, 120_000);
});
