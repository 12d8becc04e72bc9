/**
 * The Model & device dialog's backend through the dispatcher (argument validation included): list, import
 * with models.task progress and completion events, default per variant, verify (a damaged file is found),
 * remove, download with progress and cancel, a server-mode import outside the allowed folders refused, and
 * the execution-provider report (fake probe).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelStore } from '../../src/inference/models/ModelStore.js';
import { createDispatcher, type Dispatcher } from '../../src/main/dispatch.js';
import { createBackend, type Backend } from '../../src/main/services/createApi.js';
import { probeDevices } from '../../src/main/services/deviceProbe.js';
import { progressGate } from '../../src/main/services/modelTasks.js';
import type { ModelCatalog, ModelTaskEvent } from '../../src/shared/api/modelDto.js';
import { SegEarthError } from '../../src/shared/errors.js';
import { fakeGeo, noRuntime } from './fakes.js';
import { bytes, packBundle, serveFile, sha256, tempStore, writeBundle, type TempStore } from '../models/helpers.js';

let store: TempStore;
let backend: Backend;
let dispatcher: Dispatcher;
let root: string;
const events: ModelTaskEvent[] = [];
let nextId = 1;

async function call<T>(method: string, args: unknown): Promise<T> {
  const r = await dispatcher.dispatch({ id: nextId++, service: 'models', method, args }, { transport: 'http' });
  if (!r.ok) throw new SegEarthError(r.error.code, r.error.message);
  return r.result as T;
}

/** Resolves with the task's final event (done or error). */
function finished(taskId: string): Promise<ModelTaskEvent> {
  return new Promise((resolve) => {
    const off = backend.events.subscribe((e) => {
      const p = e.payload as ModelTaskEvent;
      if (e.event === 'models.task' && p.taskId === taskId && p.type !== 'progress') {
        off();
        resolve(p);
      }
    });
  });
}

async function runTask(method: string, args: unknown): Promise<ModelTaskEvent> {
  // Subscribe before the call: the task may finish before the call's promise is seen.
  let id = '';
  const all = new Promise<ModelTaskEvent>((resolve) => {
    const off = backend.events.subscribe((e) => {
      const p = e.payload as ModelTaskEvent;
      if (e.event === 'models.task' && p.type !== 'progress' && (id === '' || p.taskId === id)) {
        off();
        resolve(p);
      }
    });
  });
  id = (await call<{ taskId: string }>(method, args)).taskId;
  const end = await all;
  expect(end.taskId).toBe(id);
  return end;
}

beforeAll(async () => {
  store = await tempStore();
  root = path.join(store.root, 'allowed');
  await mkdir(root, { recursive: true });
  backend = await createBackend({
    mode: 'server',
    appVersion: 'test',
    roots: [root],
    dataDir: path.join(store.root, 'app-data'),
    logsDir: null,
    geo: fakeGeo(),
    runtime: noRuntime(),
    testHooks: false,
    modelStore: new ModelStore({ locations: store.locations }),
    probeDevices: () =>
      probeDevices(async (request) => {
        if (request === 'auto' || request === 'cpu') {
          return {
            provider: 'cpu',
            reason: request === 'auto' ? 'fell back: CUDA, WebGPU unavailable' : 'asked for (CPU)',
            skipped: request === 'auto' ? [{ provider: 'cuda', reason: 'onnxruntime CUDA libraries not installed' }, { provider: 'webgpu', reason: 'no GPU adapter' }] : [],
            threads: { intraOp: 2, interOp: 1 },
          };
        }
        throw new SegEarthError('BAD_ARGUMENT', `${request} execution provider cannot run here: not available on linux.`);
      }),
  });
  backend.events.subscribe((e) => {
    if (e.event === 'models.task') events.push(e.payload as ModelTaskEvent);
  });
  dispatcher = createDispatcher(backend.api);
});

afterAll(async () => {
  backend.models.cancelAll();
  await backend.models.idle();
  await store.cleanup();
});

describe('models service', () => {
  it('lists nothing at first, with the folders, and gives the first-run guide', async () => {
    const catalog = await call<ModelCatalog>('list', {});
    expect(catalog.models).toEqual([]);
    expect(catalog.defaults).toEqual({ earthreason: null, 'rrsis-d': null, refsegrs: null, 'tiny-test': null });
    expect(catalog.locations.installDir).toBe(store.locations.installDir);
    expect(catalog.locations.searchDirs.map((d) => d.kind)).toEqual(['user', 'shipped']);
    const guide = await call<{ title: string; installDir: string; checkpoints: { repo: string }[] }>('guide', {});
    expect(guide.title).toBe('No model installed yet');
    expect(guide.installDir).toBe(store.locations.installDir);
    expect(guide.checkpoints.map((c) => c.repo)).toContain('earth-insights/SegEarth-R1-EarthReason');
  });

  it('imports a folder and an archive with progress events, then lists them with the default per variant', async () => {
    const a = await writeBundle(root, { id: 'er-fp32', variant: 'earthreason' });
    const b = await writeBundle(path.join(store.root, 'pack'), { id: 'er-fp16', variant: 'earthreason', precision: 'fp16' });
    const archive = await packBundle(b, path.join(root, 'er-fp16.tar.gz'));
    const first = await runTask('import', { source: a });
    expect(first).toMatchObject({ type: 'done', kind: 'import', model: { id: 'er-fp32', variant: 'earthreason', precision: 'fp32', verify: { state: 'verified' } } });
    const progress = events.filter((e) => e.taskId === first.taskId && e.type === 'progress');
    expect(progress.length).toBeGreaterThan(0);
    const second = await runTask('import', { source: archive });
    expect(second).toMatchObject({ type: 'done', model: { id: 'er-fp16', precision: 'image fp32, llm fp16, head fp32' } });

    let catalog = await call<ModelCatalog>('list', {});
    expect(catalog.models.map((m) => [m.id, m.isDefault])).toEqual([
      ['er-fp16', true],
      ['er-fp32', false],
    ]);
    expect(catalog.models[0]!.sizeBytes).toBeGreaterThan(14000);
    expect(await call('setDefault', { id: 'er-fp32' })).toEqual({ variant: 'earthreason' });
    catalog = await call<ModelCatalog>('list', {});
    expect(catalog.defaults.earthreason).toBe('er-fp32');
    expect(catalog.models.find((m) => m.id === 'er-fp32')!.isDefault).toBe(true);
  });

  it('reports an import that fails (already installed) as an error event, and refuses paths outside the allowed folders', async () => {
    const again = await runTask('import', { source: path.join(root, 'er-fp32') });
    expect(again).toMatchObject({ type: 'error', error: { code: 'OUTPUT_EXISTS' } });
    await expect(call('import', { source: store.locations.installDir })).rejects.toMatchObject({ code: 'FORBIDDEN_PATH' });
  });

  it('verifies a bundle and finds a damaged file', async () => {
    const ok = await runTask('verify', { id: 'er-fp32' });
    expect(ok).toMatchObject({ type: 'done', kind: 'verify', model: { verify: { state: 'verified' } } });
    await writeFile(path.join(store.locations.installDir, 'er-fp32', 'head.onnx'), bytes(900, 99));
    const bad = await runTask('verify', { id: 'er-fp32' });
    expect(bad.type === 'done' && bad.model.verify.state).toBe('failed');
    expect(bad.type === 'done' && bad.model.verify.problems.map((p) => [p.path, p.problem])).toEqual([['head.onnx', 'sha256']]);
    await expect(call('verify', { id: 'nope' })).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
  });

  it('removes a bundle', async () => {
    expect(await call('remove', { id: 'er-fp32' })).toEqual({ ok: true });
    const catalog = await call<ModelCatalog>('list', {});
    expect(catalog.models.map((m) => m.id)).toEqual(['er-fp16']);
    expect(catalog.defaults.earthreason).toBe('er-fp16');
  });

  it('downloads with progress, refuses a malformed checksum, and cancels a stalled download', async () => {
    const dir = await writeBundle(path.join(store.root, 'pack2'), { id: 'rr-int8', variant: 'rrsis-d', precision: 'int8-weight-only' });
    const archive = await packBundle(dir, path.join(store.root, 'rr.tar.gz'));
    const content = await readFile(archive);
    const server = await serveFile(content);
    try {
      await expect(call('download', { url: server.url, sha256: 'abc' })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
      await expect(call('download', { url: 'file:///etc/passwd', sha256: sha256(content) })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
      server.stallNext(100);
      const id = (await call<{ taskId: string }>('download', { url: server.url, sha256: sha256(content).toUpperCase() })).taskId;
      const end = finished(id);
      // The stalled response has sent its first bytes once the server saw the request.
      await new Promise<void>((resolve) => {
        const check = (): void => (server.requests.length > 0 ? resolve() : void setImmediate(check));
        check();
      });
      expect(await call('cancel', { taskId: id })).toEqual({ cancelled: true });
      expect(await end).toMatchObject({ type: 'error', kind: 'download', error: { code: 'CANCELLED' } });
      expect(await call('cancel', { taskId: id })).toEqual({ cancelled: false });

      const done = await runTask('download', { url: server.url, sha256: sha256(content) });
      expect(done).toMatchObject({ type: 'done', kind: 'download', model: { id: 'rr-int8', variant: 'rrsis-d', verify: { state: 'verified' } } });
      const phases = new Set(events.filter((e) => e.taskId === done.taskId && e.type === 'progress').map((e) => (e.type === 'progress' ? e.progress.phase : '')));
      expect(phases.has('download')).toBe(true);
    } finally {
      await server.close();
    }
    const catalog = await call<ModelCatalog>('list', {});
    expect(catalog.defaults['rrsis-d']).toBe('rr-int8');
  });

  it('reports which execution providers work, the one Automatic uses, and why the others do not', async () => {
    const report = await call<{ auto: string; autoReason: string; providers: { provider: string; works: boolean; reason: string | null }[] }>('devices', {});
    expect(report.auto).toBe('CPU');
    expect(report.autoReason).toBe('fell back: CUDA, WebGPU unavailable');
    expect(report.providers).toEqual([
      { provider: 'cuda', label: 'CUDA', works: false, reason: 'onnxruntime CUDA libraries not installed' },
      { provider: 'webgpu', label: 'WebGPU', works: false, reason: 'no GPU adapter' },
      { provider: 'dml', label: 'DirectML', works: false, reason: 'not available on linux' },
      { provider: 'coreml', label: 'CoreML', works: false, reason: 'not available on linux' },
      { provider: 'cpu', label: 'CPU', works: true, reason: null },
    ]);
  });
});

describe('progressGate', () => {
  it('passes a new phase, each whole per cent and the last event; unknown totals every 8 MiB', () => {
    const gate = progressGate();
    const seen = [0, 10, 990, 1000, 1500, 2000, 99_990, 100_000].filter((done) => gate({ phase: 'download', done, total: 100_000 }));
    expect(seen).toEqual([0, 1000, 2000, 99_990, 100_000]);
    expect(gate({ phase: 'extract', done: 0, total: null })).toBe(true);
    expect(gate({ phase: 'extract', done: 4 << 20, total: null })).toBe(false);
    expect(gate({ phase: 'extract', done: 8 << 20, total: null })).toBe(true);
  });
});
