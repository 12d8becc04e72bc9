/**
 * Getting SegEarth-R1 through the app's model service (the `models.*` methods over the dispatcher, argument
 * validation included), against a local server that speaks the model hub's API and serves a checkpoint made
 * from the official-key fixtures (test/support/localHub.ts), with graph templates written by the Python
 * exporter at the fixtures' sizes as the app's shipped templates:
 * - the cards: the hub's size (the served files' bytes, counted here from the folder), precision and licence;
 * - Get with progress (download bytes, rate, then every conversion stage), installed, verified against its
 *   manifest, made the default;
 * - pause, then a new service over the same data folder (the app restarted) shows "paused" at the bytes
 *   already on disk and resumes from them to the same bundle;
 * - cancel (running or paused) removes the partial files and the state;
 * - a damaged download is recorded as a failed Get with the hub client's error and hint, and Try again works;
 * - "Convert a checkpoint folder…" inside the allowed folders (and refused outside them).
 * Skips with a printed reason without ../shared or Debian's python3 with torch.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveModelLocations } from '../../src/inference/models/locations.js';
import { ModelStore } from '../../src/inference/models/ModelStore.js';
import { createDispatcher, type Dispatcher } from '../../src/main/dispatch.js';
import { createBackend, type Backend } from '../../src/main/services/createApi.js';
import { GET_STATE_FILE } from '../../src/main/services/getStateFile.js';
import type { ModelCatalog, ModelTaskEvent } from '../../src/shared/api/modelDto.js';
import type { ModelReleases } from '../../src/shared/api/modelReleaseDto.js';
import { SegEarthError } from '../../src/shared/errors.js';
import { SHARD_NAMES, writeFixtureCheckpoint } from '../support/checkpointFolder.js';
import { startLocalHub, type LocalHub } from '../support/localHub.js';
import { paritySkipReason, python } from '../support/parityFixtures.js';
import { ensureTinyBundle } from '../support/tinyBundle.js';
import { fakeGeo, noRuntime } from './fakes.js';

const reason = paritySkipReason('modelGet', 'weights.safetensors');
const REPO = 'earth-insights/SegEarth-R1-EarthReason';
const RRSIS = 'earth-insights/SegEarth-R1-RRSIS-D';
const ENV = ['SEGEARTH_SHIPPED_MODELS_DIR', 'SEGEARTH_MODELS_DIR', 'SEGEARTH_DATA_DIR', 'HF_ENDPOINT', 'HF_HOME', 'HF_HUB_CACHE', 'HF_TOKEN', 'HF_HUB_OFFLINE'] as const;

interface Harness {
  backend: Backend;
  dispatcher: Dispatcher;
  events: ModelTaskEvent[];
}

let work: string;
let root: string;
let ckpt: string;
let dataDir: string;
let hub: LocalHub;
const saved: Record<string, string | undefined> = {};
let nextId = 1;

async function open(): Promise<Harness> {
  const backend = await createBackend({
    mode: 'server',
    appVersion: 'test',
    roots: [root],
    dataDir: path.join(work, 'app-data'),
    logsDir: null,
    geo: fakeGeo(),
    runtime: noRuntime(),
    testHooks: false,
    modelStore: new ModelStore({ locations: resolveModelLocations() }),
  });
  const events: ModelTaskEvent[] = [];
  backend.events.subscribe((e) => {
    if (e.event === 'models.task') events.push(e.payload as ModelTaskEvent);
  });
  return { backend, dispatcher: createDispatcher(backend.api), events };
}

async function close(h: Harness): Promise<void> {
  h.backend.models.cancelAll();
  await h.backend.models.idle();
}

async function call<T>(h: Harness, method: string, args: unknown): Promise<T> {
  const r = await h.dispatcher.dispatch({ id: nextId++, service: 'models', method, args }, { transport: 'http' });
  if (!r.ok) throw new SegEarthError(r.error.code, r.error.message);
  return r.result as T;
}

/** Resolves with the task's final event (done, paused or error). */
function ended(h: Harness, taskId: () => string): Promise<ModelTaskEvent> {
  return new Promise((resolve) => {
    const off = h.backend.events.subscribe((e) => {
      const p = e.payload as ModelTaskEvent;
      if (e.event === 'models.task' && p.type !== 'progress' && p.taskId === taskId()) {
        off();
        resolve(p);
      }
    });
  });
}

/** Sizes of the partial downloads of `repo` in the hub cache (`blobs/*.incomplete`). */
async function incompleteSizes(repo: string): Promise<number[]> {
  const blobs = path.join(work, 'hf-home', 'hub', `models--${repo.replace('/', '--')}`, 'blobs');
  const names = (await readdir(blobs).catch(() => [] as string[])).filter((n) => n.endsWith('.incomplete'));
  return Promise.all(names.map(async (n) => (await stat(path.join(blobs, n))).size));
}

async function folderBytes(dir: string): Promise<number> {
  let n = 0;
  for (const name of await readdir(dir)) n += (await stat(path.join(dir, name))).size;
  return n;
}

describe.skipIf(reason !== undefined)('getting SegEarth-R1 in the app (model service, local hub)', () => {
  beforeAll(async () => {
    const tiny = await ensureTinyBundle(); // its config.json has the fixtures' sizes
    work = await mkdtemp(path.join(tmpdir(), 'segearth-modelget-'));
    root = path.join(work, 'allowed');
    ckpt = path.join(root, 'SegEarth-R1-EarthReason');
    dataDir = path.join(work, 'user-data');
    await writeFixtureCheckpoint(ckpt, tiny);
    for (const k of ENV) saved[k] = process.env[k];
    process.env.SEGEARTH_SHIPPED_MODELS_DIR = path.join(work, 'shipped');
    process.env.SEGEARTH_MODELS_DIR = path.join(work, 'models');
    process.env.SEGEARTH_DATA_DIR = dataDir;
    process.env.HF_HOME = path.join(work, 'hf-home');
    for (const k of ['HF_HUB_CACHE', 'HF_TOKEN', 'HF_HUB_OFFLINE'] as const) delete process.env[k];
    hub = await startLocalHub({ [REPO]: { dir: ckpt }, [RRSIS]: { dir: ckpt } });
    process.env.HF_ENDPOINT = hub.endpoint;
    await mkdir(path.join(work, 'shipped', 'graph-templates'), { recursive: true });
    await python(['-m', 'tools.export.template', '-o', path.join(work, 'shipped', 'graph-templates', 'cpu'), '--profile', 'cpu', '--model-config', path.join(tiny, 'config.json'), '--threads', '1']);
  }, 600_000);

  afterAll(async () => {
    await hub?.close();
    for (const k of ENV) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('converts a checkpoint folder inside the allowed folders, with every stage reported, and refuses one outside', async () => {
    const h = await open();
    try {
      await expect(call(h, 'convert', { checkpointDir: work, precision: 'cpu' })).rejects.toMatchObject({ code: 'FORBIDDEN_PATH' });
      await expect(call(h, 'convert', { checkpointDir: ckpt, precision: 'int3' })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
      let id = '';
      const end = ended(h, () => id);
      id = (await call<{ taskId: string }>(h, 'convert', { checkpointDir: ckpt, precision: 'cpu' })).taskId;
      const done = await end;
      expect(done).toMatchObject({ type: 'done', kind: 'convert', model: { id: 'segearth-r1-earthreason-cpu', variant: 'earthreason', sourceCheckpoint: REPO, testFixture: false } });
      const stages = [...new Set(h.events.filter((e) => e.taskId === id && e.type === 'progress').map((e) => (e.type === 'progress' ? e.progress.stage : '')))];
      expect(stages).toEqual(['checking', 'weights', 'tokenizer', 'prefix-cache', 'hashing', 'installing']);
      // Independent of the converter's own bookkeeping: every file hashed again against the manifest.
      let vid = '';
      const verified = ended(h, () => vid);
      vid = (await call<{ taskId: string }>(h, 'verify', { id: 'segearth-r1-earthreason-cpu' })).taskId;
      expect(await verified).toMatchObject({ type: 'done', model: { verify: { state: 'verified', problems: [] } } });
      expect(await call(h, 'remove', { id: 'segearth-r1-earthreason-cpu' })).toEqual({ ok: true });
    } finally {
      await close(h);
    }
  });

  it('shows the released checkpoints as cards with the hub size, precision for this device and licence', async () => {
    const h = await open();
    try {
      const { releases } = await call<ModelReleases>(h, 'releases', {});
      expect(releases.map((r) => r.repo)).toEqual([REPO, 'earth-insights/SegEarth-R1-RRSIS-D']);
      const er = releases[0]!;
      expect(er.licence).toBe('Apache-2.0');
      expect(er.download).toEqual({ bytes: await folderBytes(ckpt), source: 'hub' });
      expect(er.precision.precision).toBe('cpu');
      expect(er.precision.reason.length).toBeGreaterThan(10);
      expect(er.installedId).toBeNull();
      expect(er.get).toBeNull();
    } finally {
      await close(h);
    }
  });

  it('gets a checkpoint with progress, pauses, resumes after a restart, and installs it as the default', async () => {
    let h = await open();
    let id = '';
    let end = ended(h, () => id);
    // The first shard stops after 1 MiB with the connection left open: the pause lands mid-download.
    hub.stallNext(SHARD_NAMES[0], 1 << 20);
    id = (await call<{ taskId: string }>(h, 'get', { repo: REPO })).taskId;
    // Pause once some bytes are on disk.
    await new Promise<void>((resolve) => {
      const off = h.backend.events.subscribe((e) => {
        const p = e.payload as ModelTaskEvent;
        if (p.taskId === id && p.type === 'progress' && p.progress.phase === 'download' && p.progress.done >= 1 << 20) {
          off();
          resolve();
        }
      });
    });
    expect(await call(h, 'pauseGet', { repo: REPO })).toEqual({ paused: true });
    expect(await end).toMatchObject({ type: 'paused', kind: 'get' });
    // The partial shard stays in the hub cache (what Resume continues from).
    expect(await incompleteSizes(REPO)).toEqual([1 << 20]);
    const paused = (await call<ModelReleases>(h, 'releases', {})).releases[0]!.get!;
    expect(paused).toMatchObject({ status: 'paused', taskId: null, precision: 'cpu', phase: 'download' });
    expect(paused.downloadedBytes).toBeGreaterThan(0);
    expect(paused.totalBytes).toBe(await folderBytes(ckpt));
    await close(h);

    // The app restarted: a new service over the same data folder.
    h = await open();
    try {
      const again = (await call<ModelReleases>(h, 'releases', {})).releases[0]!.get!;
      expect(again).toEqual(paused);
      id = '';
      end = ended(h, () => id);
      id = (await call<{ taskId: string }>(h, 'get', { repo: REPO })).taskId;
      const done = await end;
      expect(done).toMatchObject({ type: 'done', kind: 'get', model: { id: 'segearth-r1-earthreason-cpu', sourceCheckpoint: REPO, isDefault: true, verify: { state: 'verified' } } });
      const progress = h.events.filter((e) => e.taskId === id && e.type === 'progress').map((e) => (e.type === 'progress' ? e.progress : null)!);
      const downloads = progress.filter((p) => p.phase === 'download' && p.total !== null);
      expect(downloads[0]!.done).toBeGreaterThanOrEqual(paused.downloadedBytes); // resumed, not restarted
      // The hub saw the shard asked for again from where it stopped.
      const shardRequests = hub.bodyRequests(SHARD_NAMES[0]).filter((r) => r.method === 'GET');
      expect(shardRequests.at(-1)!.headers.range).toBe(`bytes=${1 << 20}-`);
      expect(await incompleteSizes(REPO)).toEqual([]);
      expect([...new Set(progress.filter((p) => p.phase === 'convert').map((p) => p.stage))]).toEqual(['checking', 'weights', 'tokenizer', 'prefix-cache', 'hashing', 'installing']);
      const releases = await call<ModelReleases>(h, 'releases', {});
      expect(releases.releases[0]).toMatchObject({ installedId: 'segearth-r1-earthreason-cpu', get: null });
      const catalog = await call<ModelCatalog>(h, 'list', {});
      expect(catalog.defaults.earthreason).toBe('segearth-r1-earthreason-cpu');
      const state = JSON.parse(await readFile(path.join(dataDir, GET_STATE_FILE), 'utf8')) as { gets: Record<string, unknown> };
      expect(state.gets).toEqual({});
    } finally {
      await close(h);
    }
  });

  it('cancels a running Get and a paused one: partial files and state removed, nothing installed', async () => {
    const h = await open();
    try {
      const startStalled = async (): Promise<{ id: string; end: Promise<ModelTaskEvent> }> => {
        hub.stallNext(SHARD_NAMES[0], 1 << 19);
        const before = hub.bodyRequests(SHARD_NAMES[0]).length;
        let id = '';
        const end = ended(h, () => id);
        id = (await call<{ taskId: string }>(h, 'get', { repo: RRSIS })).taskId;
        // Wait until the stalled request has sent its bytes and the client has written them all to the
        // `.incomplete` file: the server having sent them is not enough (they may still sit in the socket).
        await new Promise<void>((resolve) => {
          const check = (): void =>
            void (async () => {
              const sent = hub.bodyRequests(SHARD_NAMES[0]).length > before && hub.bodyRequests(SHARD_NAMES[0]).at(-1)!.sent > 0;
              if (sent && (await incompleteSizes(RRSIS)).includes(1 << 19)) resolve();
              else setTimeout(check, 20);
            })();
          check();
        });
        return { id, end };
      };
      // Running: Cancel stops it and deletes the partial shard.
      let run = await startStalled();
      expect(await call(h, 'cancelGet', { repo: RRSIS })).toEqual({ cancelled: true });
      expect(await run.end).toMatchObject({ type: 'error', kind: 'get', error: { code: 'CANCELLED' } });
      expect(await incompleteSizes(RRSIS)).toEqual([]);
      expect((await call<ModelReleases>(h, 'releases', {})).releases[1]!.get).toBeNull();

      // Paused: the partial shard is kept until Cancel.
      run = await startStalled();
      expect(await call(h, 'pauseGet', { repo: RRSIS })).toEqual({ paused: true });
      expect(await run.end).toMatchObject({ type: 'paused' });
      expect(await incompleteSizes(RRSIS)).toEqual([1 << 19]);
      expect(await call(h, 'cancelGet', { repo: RRSIS })).toEqual({ cancelled: true });
      expect(await incompleteSizes(RRSIS)).toEqual([]);
      const rr = (await call<ModelReleases>(h, 'releases', {})).releases[1]!;
      expect(rr).toMatchObject({ installedId: null, get: null });
      expect(await call(h, 'cancelGet', { repo: RRSIS })).toEqual({ cancelled: false });
      await expect(call(h, 'get', { repo: 'someone/else' })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    } finally {
      await close(h);
    }
  });

  it('records a failed Get with its error (also after a restart), and Try again finishes it', async () => {
    let h = await open();
    try {
      hub.corrupt(SHARD_NAMES[1]);
      let id = '';
      let end = ended(h, () => id);
      id = (await call<{ taskId: string }>(h, 'get', { repo: RRSIS })).taskId;
      expect(await end).toMatchObject({ type: 'error', kind: 'get', error: { code: 'CHECKSUM_MISMATCH' } });
      await close(h);
      h = await open();
      const failed = (await call<ModelReleases>(h, 'releases', {})).releases[1]!.get!;
      expect(failed).toMatchObject({ status: 'failed', taskId: null, error: { code: 'CHECKSUM_MISMATCH' } });
      expect(failed.error!.hint).toBeTruthy(); // what to do, in the hub client's words
      hub.corrupt(SHARD_NAMES[1], false);
      id = '';
      end = ended(h, () => id);
      id = (await call<{ taskId: string }>(h, 'get', { repo: RRSIS })).taskId;
      expect(await end).toMatchObject({ type: 'done', model: { id: 'segearth-r1-rrsis-d-cpu', variant: 'rrsis-d', isDefault: true } });
      expect((await call<ModelReleases>(h, 'releases', {})).releases[1]).toMatchObject({ installedId: 'segearth-r1-rrsis-d-cpu', get: null });
    } finally {
      await close(h);
    }
  });
});
