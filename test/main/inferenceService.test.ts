/**
 * The inference service's job logic with a scripted inference backend (the production path with the tiny
 * bundle is `answerPipeline.test.ts`): events in order (progress, then result), re-vectorising never re-runs
 * the model, cancelling leaves no cached file, deleting a result or closing its layer removes its cache.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBackend, type Backend } from '../../src/main/services/createApi.js';
import type { InferenceBackend } from '../../src/main/services/backends.js';
import type { ResultFeatures } from '../../src/shared/api/dto.js';
import type { JobEvent } from '../../src/shared/api/dto.js';
import { isSegEarthError, SegEarthError } from '../../src/shared/errors.js';
import { fakeAnswer, fakeGeo, fakePolygons } from './fakes.js';

let dir: string;
let backend: Backend;
let runs = 0;
let release: (() => void) | null = null;
const events: JobEvent[] = [];

/** Polygons appear below a threshold of 0.6, one per 0.1 below it. */
const polygonsAt = (threshold: number, question: string): ResultFeatures => fakePolygons(Math.max(0, Math.round((0.6 - threshold) * 10)), question, threshold);

function scriptedRuntime(): InferenceBackend {
  return {
    async modelStatus() {
      return { state: 'ready', dir: '/models/fake', id: 'fake', name: 'Fake', variant: 'earthreason', examples: [], problem: null };
    },
    async executionProvider() {
      return { active: 'CPU', fallbackReason: 'WebGPU: no GPU adapter', notes: [] };
    },
    async ask(request) {
      runs++;
      request.onProgress({ stage: 'tiles', message: 'Tile 1 of 2', tileIndex: 0, tileCount: 2, fraction: 0.25, etaSeconds: 3 });
      await writeFile(request.probabilityPath, 'probability');
      await new Promise<void>((resolve, reject) => {
        if (request.signal.aborted) return reject(new SegEarthError('CANCELLED', 'Cancelled.'));
        release = resolve;
        request.signal.addEventListener('abort', () => reject(new SegEarthError('CANCELLED', 'Cancelled.')), { once: true });
      });
      request.onProgress({ stage: 'vectorizing', message: 'Turning the mask into polygons', tileIndex: 0, tileCount: 0, fraction: 0.95, etaSeconds: null });
      return fakeAnswer(polygonsAt(request.threshold, request.question));
    },
    async polygons(_path, { threshold }, provenance) {
      return polygonsAt(threshold, provenance.question);
    },
    version: () => '1.30.0',
  };
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'segearth-inference-'));
  await writeFile(join(dir, 'scene.tif'), 'x');
  runs = 0;
  release = null;
  events.length = 0;
  const geo = fakeGeo();
  backend = await createBackend({
    mode: 'server', appVersion: 'test', roots: [dir], dataDir: join(dir, 'data'), logsDir: null,
    geo, runtime: scriptedRuntime(), testHooks: false,
  });
  backend.events.subscribe((e) => {
    if (e.event === 'inference.job') events.push(e.payload as JobEvent);
  });
});

afterEach(async () => {
  backend.inference.cancelAll();
  await backend.inference.idle();
  await rm(dir, { recursive: true, force: true, maxRetries: 5 });
});

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setImmediate(r));
}

describe('inference service', () => {
  it('answers with progress, then a result whose polygons follow the threshold', async () => {
    const layer = await backend.api.workspace.openRaster({ path: 'scene.tif' }, { transport: 'direct' });
    const { jobId } = await backend.api.inference.ask(
      { layerId: layer.id, question: 'where are the roads?', aoi: { kind: 'scene' }, threshold: 0.3, minAreaM2: 0, strategy: 'auto' },
      { transport: 'direct' },
    );
    await until(() => release !== null);
    release!();
    await backend.inference.idle();
    expect(events.map((e) => [e.type, e.jobId === jobId])).toEqual([
      ['progress', true],
      ['progress', true], // vectorizing
      ['result', true],
    ]);
    const result = events.at(-1) as Extract<JobEvent, { type: 'result' }>;
    expect(result.result.featureCount).toBe(3);
    expect(result.result.totalAreaM2).toBe(300);
    expect(result.result.executionProvider).toBe('CPU');

    const redrawn = await backend.api.inference.revectorize({ resultId: result.result.id, threshold: 0.5, minAreaM2: 0 }, { transport: 'direct' });
    expect(redrawn.result.featureCount).toBe(1);
    expect(redrawn.features.features[0]!.properties.question).toBe('where are the roads?');
    expect(redrawn.features.features[0]!.properties.threshold).toBe(0.5);
    expect(runs).toBe(1); // the model did not run again
    expect((await backend.api.inference.listResults({ layerId: layer.id }, { transport: 'direct' }))[0]!.threshold).toBe(0.5);

    const cache = join(dir, 'data', 'cache', 'results');
    expect(await readdir(cache)).toEqual([`${result.result.id}.probability.tif`]);
    await backend.api.inference.deleteResult({ resultId: result.result.id }, { transport: 'direct' });
    expect(await readdir(cache)).toEqual([]);
    const gone = await backend.api.inference.getFeatures({ resultId: result.result.id }, { transport: 'direct' }).catch((e: unknown) => e);
    expect(isSegEarthError(gone, 'NOT_FOUND')).toBe(true);
  });

  it('makes the heatmap PNG when it is first asked for, not before the result (then keeps it); a failed one is made again', async () => {
    let made = 0;
    let fail = true;
    const geo = fakeGeo();
    const counting = await createBackend({
      mode: 'server', appVersion: 'test', roots: [dir], dataDir: join(dir, 'data2'), logsDir: null,
      geo: { ...geo, heatmapPng: async (grid) => (made++, fail ? ((fail = false), Promise.reject(new Error('encoder failed'))) : Uint8Array.of(0x89, 0x50, grid.width)) },
      runtime: scriptedRuntime(), testHooks: false,
    });
    const seen: JobEvent[] = [];
    counting.events.subscribe((e) => void (e.event === 'inference.job' && seen.push(e.payload as JobEvent)));
    try {
      const layer = await counting.api.workspace.openRaster({ path: 'scene.tif' }, { transport: 'direct' });
      await counting.api.inference.ask({ layerId: layer.id, question: 'roads?', aoi: { kind: 'scene' }, threshold: 0.3, minAreaM2: 0, strategy: 'auto' }, { transport: 'direct' });
      await until(() => release !== null);
      release!();
      await counting.inference.idle();
      const result = seen.at(-1) as Extract<JobEvent, { type: 'result' }>;
      expect(result.type).toBe('result');
      expect(made).toBe(0); // the answer was sent without it
      await expect(counting.inference.probabilityPng(result.result.id)).rejects.toThrow(/encoder failed/);
      expect([...(await counting.inference.probabilityPng(result.result.id))]).toEqual([0x89, 0x50, 1]);
      expect([...(await counting.inference.probabilityPng(result.result.id))]).toEqual([0x89, 0x50, 1]);
      expect(made).toBe(2); // the failure, then once
    } finally {
      await counting.inference.idle();
    }
  });

  it('cancels a run: a CANCELLED error event, nothing kept', async () => {
    const layer = await backend.api.workspace.openRaster({ path: 'scene.tif' }, { transport: 'direct' });
    const { jobId } = await backend.api.inference.ask(
      { layerId: layer.id, question: 'flood?', aoi: { kind: 'scene' }, threshold: 0.5, minAreaM2: 0, strategy: 'tiled' },
      { transport: 'direct' },
    );
    await until(() => release !== null); // the run is in the middle of its work
    expect((await backend.api.inference.cancel({ jobId }, { transport: 'direct' })).cancelled).toBe(true);
    await backend.inference.idle();
    const last = events.at(-1)!;
    expect(last.type).toBe('error');
    expect(last.type === 'error' && last.error.code).toBe('CANCELLED');
    expect(await readdir(join(dir, 'data', 'cache', 'results'))).toEqual([]);
    expect(await backend.api.inference.listResults({ layerId: layer.id }, { transport: 'direct' })).toEqual([]);
    expect((await backend.api.inference.cancel({ jobId }, { transport: 'direct' })).cancelled).toBe(false);
  });

  it('forgets the results of a closed layer', async () => {
    const layer = await backend.api.workspace.openRaster({ path: 'scene.tif' }, { transport: 'direct' });
    await backend.api.inference.ask({ layerId: layer.id, question: 'roofs?', aoi: { kind: 'scene' }, threshold: 0.5, minAreaM2: 0, strategy: 'auto' }, { transport: 'direct' });
    await until(() => release !== null);
    release!();
    await backend.inference.idle();
    const [result] = await backend.api.inference.listResults({ layerId: layer.id }, { transport: 'direct' });
    await backend.api.workspace.removeLayer({ layerId: layer.id }, { transport: 'direct' });
    await until(() => !existsSync(join(dir, 'data', 'cache', 'results', `${result!.id}.probability.tif`)));
    const err = await backend.api.inference.ask({ layerId: layer.id, question: 'x', aoi: { kind: 'scene' }, threshold: 0.5, minAreaM2: 0, strategy: 'auto' }, { transport: 'direct' }).catch((e: unknown) => e);
    expect(isSegEarthError(err, 'NOT_FOUND')).toBe(true);
  });

  it('removing the layer while its question runs cancels it and keeps nothing (no orphan result or raster)', async () => {
    const layer = await backend.api.workspace.openRaster({ path: 'scene.tif' }, { transport: 'direct' });
    await backend.api.inference.ask({ layerId: layer.id, question: 'ponds?', aoi: { kind: 'scene' }, threshold: 0.5, minAreaM2: 0, strategy: 'auto' }, { transport: 'direct' });
    await until(() => release !== null); // the probability raster is written, the model still "runs"
    expect(await readdir(join(dir, 'data', 'cache', 'results'))).toHaveLength(1);
    await backend.api.workspace.removeLayer({ layerId: layer.id }, { transport: 'direct' });
    await backend.inference.idle();
    const last = events.at(-1)!;
    expect(last.type === 'error' && last.error.code).toBe('CANCELLED');
    expect(await readdir(join(dir, 'data', 'cache', 'results'))).toEqual([]);
    expect(() => backend.inference.listResults(layer.id)).not.toThrow();
    expect(backend.inference.listResults(layer.id)).toEqual([]);
  });

  it('a run that finishes just after its layer was removed keeps nothing either', async () => {
    const layer = await backend.api.workspace.openRaster({ path: 'scene.tif' }, { transport: 'direct' });
    await backend.api.inference.ask({ layerId: layer.id, question: 'sheds?', aoi: { kind: 'scene' }, threshold: 0.5, minAreaM2: 0, strategy: 'auto' }, { transport: 'direct' });
    await until(() => release !== null);
    // The model's answer arrives in the same tick as the removal (the abort comes too late for the runtime).
    release!();
    await backend.api.workspace.removeLayer({ layerId: layer.id }, { transport: 'direct' });
    await backend.inference.idle();
    expect(events.at(-1)!.type).toBe('error');
    expect(await readdir(join(dir, 'data', 'cache', 'results'))).toEqual([]);
  });
});
