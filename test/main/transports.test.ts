/**
 * Every method of the API, called over both transports the renderer uses — HTTP (server mode, the real
 * server with its token) and Electron IPC (the desktop's invoke handler, with Electron's structured clone of
 * the request and the response) — through the renderer's typed client, which validates arguments, results
 * and errors against the contract. Each transport drives its own backend through the same scenario (open a
 * raster, ask, re-vectorise, export, batches, settings, models…); the answers, ids and temporary paths aside,
 * must equal those of a direct call, and every method of the contract must have been called.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createApiClient } from '../../src/shared/api/client.js';
import { listApiSurface, type ApiClient } from '../../src/shared/api/contract.js';
import type { ResultFeatures } from '../../src/shared/api/dto.js';
import { createDispatcher } from '../../src/main/dispatch.js';
import { createIpcInvokeHandler } from '../../src/main/ipcInvoke.js';
import { loadResource } from '../../src/main/resources.js';
import { createBackend, type Backend } from '../../src/main/services/createApi.js';
import type { InferenceBackend } from '../../src/main/services/backends.js';
import { probeDevices } from '../../src/main/services/deviceProbe.js';
import { startServer, type RunningServer } from '../../src/main/transport/server.js';
import { SegEarthError } from '../../src/shared/errors.js';
import { ModelStore } from '../../src/inference/models/ModelStore.js';
import { resolveModelLocations } from '../../src/inference/models/locations.js';
import { fakeAnswer, fakeGeo, fakePolygons } from './fakes.js';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** Two polygons at any threshold under 0.6, none above. */
const polygons = (threshold: number, question: string): ResultFeatures => fakePolygons(threshold < 0.6 ? 2 : 0, question, threshold);

function inferenceBackend(): InferenceBackend {
  return {
    modelStatus: async () => ({ state: 'ready', dir: '/models/fake', id: 'fake', name: 'Fake', variant: 'earthreason', examples: [], problem: null }),
    executionProvider: async () => ({ active: 'CPU', fallbackReason: null, notes: [] }),
    async ask(request) {
      await writeFile(request.probabilityPath, 'probability');
      return fakeAnswer(polygons(request.threshold, request.question));
    },
    polygons: async (_path, { threshold }, provenance) => polygons(threshold, provenance.question),
    prefetch: async (request) => ({ cached: false, strategy: request.strategy === 'auto' ? 'view' : request.strategy }),
    version: () => '1.30.0',
  };
}

interface Setup {
  dir: string;
  backend: Backend;
}

async function setup(): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'segearth-transports-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true, maxRetries: 5 }));
  const root = join(dir, 'root');
  await mkdir(join(root, 'scenes'), { recursive: true });
  await writeFile(join(root, 'scene.tif'), 'x');
  await writeFile(join(root, 'scenes', 'a.tif'), 'x');
  const locations = resolveModelLocations({ env: { SEGEARTH_DATA_DIR: join(dir, 'models-data') }, platform: process.platform, shippedDir: join(dir, 'shipped') });
  const backend = await createBackend({
    mode: 'server', appVersion: 'test', roots: [root], dataDir: join(dir, 'data'), logsDir: null, testHooks: false,
    geo: fakeGeo(),
    runtime: inferenceBackend(),
    modelStore: new ModelStore({ locations }),
    modelSources: {
      // The hub and the converter are scripted here (test/main/modelGet.test.ts runs the real ones against a local hub).
      hub: {
        downloadBytes: async () => 3_000_000_000,
        recommendedPrecision: async () => ({ precision: 'cpu', reason: 'no GPU execution provider works here' }),
        get: async () => {
          throw new SegEarthError('DOWNLOAD_FAILED', 'The model hub cannot be reached.', { hint: 'Check the network or set HF_ENDPOINT.' });
        },
        discard: async () => {},
      },
      convert: async (checkpointDir) => {
        throw new SegEarthError('MODEL_INVALID', `${checkpointDir} is not a checkpoint folder (no config.json).`);
      },
    },
    probeDevices: () => probeDevices(async () => ({ provider: 'cpu', reason: 'asked for (CPU)', skipped: [], threads: { intraOp: 2, interOp: 1 } })),
  });
  cleanups.push(async () => {
    backend.inference.cancelAll();
    backend.batch.cancelAll();
    backend.models.cancelAll();
    await Promise.all([backend.inference.idle(), backend.batch.idle(), backend.models.idle()]);
  });
  return { dir, backend };
}

async function httpClient({ backend }: Setup): Promise<ApiClient> {
  const server: RunningServer = await startServer({ dispatcher: createDispatcher(backend.api), events: backend.events, resource: (p) => loadResource(p, backend), staticDir: null });
  cleanups.push(() => server.close());
  return createApiClient({
    async request(req) {
      const res = await fetch(`http://127.0.0.1:${server.port}/api/${req.service}/${req.method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}` },
        body: JSON.stringify(req.args),
      });
      return { ...((await res.json()) as object), id: req.id };
    },
    subscribe: () => () => {},
  });
}

function ipcClient({ backend }: Setup): ApiClient {
  const rendererDir = join(tmpdir(), 'segearth-renderer');
  const invoke = createIpcInvokeHandler(createDispatcher(backend.api), { rendererDir, devServerOrigin: null });
  // The app's own page in its top frame, as Electron reports it; requests and answers are structured clones.
  const sender = { senderFrame: { url: `file://${rendererDir}/index.html`, parent: null } };
  return createApiClient({
    request: async (req) => structuredClone(await invoke(sender, structuredClone(req))),
    subscribe: () => () => {},
  });
}

function directClient({ backend }: Setup): ApiClient {
  const dispatcher = createDispatcher(backend.api);
  return createApiClient({ request: (req) => dispatcher.dispatch(req, { transport: 'direct' }), subscribe: () => () => {} });
}

type Outcome = { ok: unknown } | { error: string };

/** The same scenario over any client: every method, each answer or error code recorded under its name. */
async function scenario(client: ApiClient, { dir, backend }: Setup): Promise<Record<string, Outcome>> {
  const root = join(dir, 'root');
  const out: Record<string, Outcome> = {};
  const ids = new Map<string, string>();
  const anonymise = (value: unknown): unknown =>
    JSON.parse(
      JSON.stringify(value, (key, v: unknown) =>
        /^(id|jobId|layerId|resultId|batchId|taskId|createdAt|openedAt|durationMs)$/.test(key) && typeof v === 'string' ? '<id>' : key === 'durationMs' ? 0 : v,
      ).replaceAll(dir, '<dir>'),
    );
  const call = async <T,>(name: string, run: () => Promise<T>): Promise<T | undefined> => {
    try {
      const value = await run();
      out[name] = { ok: anonymise(value) };
      return value;
    } catch (err) {
      out[name] = { error: (err as { code?: string }).code ?? 'not a SegEarthError' };
      return undefined;
    }
  };
  await call('system.info', () => client.system.info({}));
  await call('settings.get', () => client.settings.get({}));
  await call('settings.update', () => client.settings.update({ defaultThreshold: 0.4 }));
  await call('files.list', () => client.files.list({ dir: root }));
  await call('files.pickPath', () => client.files.pickPath({ purpose: 'export' }));
  const layer = await call('workspace.openRaster', () => client.workspace.openRaster({ path: join(root, 'scene.tif') }));
  ids.set('layer', layer?.id ?? 'missing0');
  await call('workspace.listLayers', () => client.workspace.listLayers({}));
  await call('inference.prefetchView', () => client.inference.prefetchView({ layerId: ids.get('layer')!, aoi: { kind: 'scene' } }));
  const job = await call('inference.ask', () => client.inference.ask({ layerId: ids.get('layer')!, question: 'where are the roads?', aoi: { kind: 'scene' } }));
  await backend.inference.idle();
  const results = await call('inference.listResults', () => client.inference.listResults({ layerId: ids.get('layer')! }));
  const resultId = results?.[0]?.id ?? 'missing0';
  await call('inference.getFeatures', () => client.inference.getFeatures({ resultId }));
  await call('inference.revectorize', () => client.inference.revectorize({ resultId, threshold: 0.7, minAreaM2: 0 }));
  await call('export.results', () => client.export.results({ resultIds: [resultId], format: 'geojson', path: join(root, 'roads.geojson') }));
  await call('inference.cancel', () => client.inference.cancel({ jobId: job?.jobId ?? 'missing0' }));
  await call('inference.deleteResult', () => client.inference.deleteResult({ resultId }));
  await call('batch.list', () => client.batch.list({}));
  await call('batch.inspect', () => client.batch.inspect({ outputFolder: join(root, 'no-batch-here') }));
  // The scripted inference backend has no batch model: start is refused with its code.
  await call('batch.start', () => client.batch.start({ inputFolder: join(root, 'scenes'), outputFolder: join(dir, 'batch-out'), questions: ['roads?'] }));
  const batchId = 'nosuchbatch00000';
  await call('batch.status', () => client.batch.status({ batchId }));
  await call('batch.pause', () => client.batch.pause({ batchId }));
  await call('batch.resume', () => client.batch.resume({ batchId }));
  await call('batch.cancel', () => client.batch.cancel({ batchId }));
  await call('models.list', () => client.models.list({}));
  await call('models.guide', () => client.models.guide({}));
  await call('models.devices', () => client.models.devices({}));
  await call('models.import', () => client.models.import({ source: join(root, 'scene.tif') }));
  await call('models.download', () => client.models.download({ url: 'ftp://example.invalid/bundle.tar.gz', sha256: '0'.repeat(64) }));
  await call('models.verify', () => client.models.verify({ id: 'not-installed' }));
  await call('models.cancel', () => client.models.cancel({ taskId: 'task-999' }));
  await call('models.remove', () => client.models.remove({ id: 'not-installed' }));
  await call('models.setDefault', () => client.models.setDefault({ id: 'not-installed' }));
  await call('models.releases', () => client.models.releases({}));
  await call('models.get', () => client.models.get({ repo: 'earth-insights/SegEarth-R1-EarthReason' }));
  await backend.models.idle();
  await call('models.pauseGet', () => client.models.pauseGet({ repo: 'earth-insights/SegEarth-R1-EarthReason' }));
  await call('models.cancelGet', () => client.models.cancelGet({ repo: 'earth-insights/SegEarth-R1-EarthReason' }));
  await call('models.convert', () => client.models.convert({ checkpointDir: join(root, 'scenes') }));
  await backend.models.idle();
  await call('workspace.removeLayer', () => client.workspace.removeLayer({ layerId: ids.get('layer')! }));
  return out;
}

describe('every API method over both transports', () => {
  it('answers over HTTP and IPC exactly as a direct call does, for every method of the contract', async () => {
    const d = await setup();
    const direct = await scenario(directClient(d), d);
    const h = await setup();
    const http = await scenario(await httpClient(h), h);
    const i = await setup();
    const ipc = await scenario(ipcClient(i), i);
    expect(Object.keys(direct).sort()).toEqual([...listApiSurface().methods].sort());
    for (const name of Object.keys(direct)) {
      expect(http[name], `${name} over HTTP`).toEqual(direct[name]);
      expect(ipc[name], `${name} over IPC`).toEqual(direct[name]);
    }

    // What the scenario must have got (so equal answers are not equal failures).
    const ok = (name: string): Record<string, unknown> => {
      const o = direct[name]!;
      if (!('ok' in o)) throw new Error(`${name} failed with ${o.error}`);
      return o.ok as Record<string, unknown>;
    };
    for (const name of Object.keys(direct).filter((n) => !/^batch\.(start|status|pause|resume|cancel)$|^models\.(verify|remove|setDefault|download|import)$/.test(n))) ok(name);
    expect(ok('settings.update')).toMatchObject({ defaultThreshold: 0.4 });
    expect(ok('files.pickPath')).toEqual({ path: null });
    expect(ok('workspace.listLayers')).toHaveLength(1);
    expect(ok('inference.listResults')).toMatchObject([{ featureCount: 2, totalAreaM2: 200, maxProbability: 0.7, strategy: 'auto', threshold: 0.5 }]);
    expect((ok('inference.getFeatures') as unknown as ResultFeatures).features).toHaveLength(2);
    expect(ok('inference.revectorize')).toMatchObject({ result: { featureCount: 0, threshold: 0.7 }, features: { features: [] } });
    expect(ok('inference.cancel')).toEqual({ cancelled: false });
    expect(ok('inference.prefetchView')).toMatchObject({ outcome: 'read', reason: null, strategy: 'view' });
    expect(ok('batch.inspect')).toMatchObject({ plan: null, empty: true });
    expect(direct['batch.status']).toEqual({ error: 'NOT_FOUND' });
    expect(direct['models.remove']).toEqual({ error: 'BAD_ARGUMENT' }); // no bundle with that id
  });

  it('refuses IPC calls from any page but the app’s own top frame', async () => {
    const { backend } = await setup();
    const invoke = createIpcInvokeHandler(createDispatcher(backend.api), { rendererDir: join(tmpdir(), 'segearth-renderer'), devServerOrigin: null });
    const request = { id: 1, service: 'system', method: 'info', args: {} };
    expect(await invoke({ senderFrame: { url: 'https://example.com/', parent: null } }, request)).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
    expect(await invoke({ senderFrame: null }, request)).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
  });
});
