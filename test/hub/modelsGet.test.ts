/**
 * `segearth models get` and `getModelFromHub` end to end against the local hub (test/support/localHub), serving
 * a checkpoint folder made from the official-key fixtures (test/support/checkpointFolder): download (through a
 * cut connection), conversion with a graph template the Python exporter wrote for the fixtures' sizes, atomic
 * install, default set, and `segearth ask` answering with the installed bundle; Ctrl-C (SIGINT to the CLI) then
 * a rerun that resumes with a Range request; a gated repository (401 without a token, then through a proxy with
 * HF_TOKEN); no space for download + bundle refused before the first byte; the service's progress stages.
 * The byte-for-byte comparison of converted and Python-exported bundles is test/conversion's.
 * Skips with a printed reason without ../shared or Debian's python3 with torch.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import gdal from 'gdal-async';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProgressLineSchema } from '../../src/cli/jsonProgress.js';
import { ManifestSchema } from '../../src/inference/bundle/manifest.js';
import { getModelFromHub } from '../../src/inference/hub/getModel.js';
import { resolveHubConfig } from '../../src/inference/hub/hubConfig.js';
import type { HubProgress } from '../../src/inference/hub/hubProgress.js';
import { SPACE_MARGIN_BYTES } from '../../src/inference/models/diskSpace.js';
import { resolveModelLocations } from '../../src/inference/models/locations.js';
import { ModelStore } from '../../src/inference/models/ModelStore.js';
import { EXIT } from '../../src/cli/exitCodes.js';
import { isSegEarthError } from '../../src/shared/errors.js';
import { SHARD_NAMES, writeFixtureCheckpoint } from '../support/checkpointFolder.js';
import { startProxy } from '../support/httpProxy.js';
import { type LocalHub, startLocalHub } from '../support/localHub.js';
import { paritySkipReason, python } from '../support/parityFixtures.js';
import { REPO_ROOT, ensureTinyBundle } from '../support/tinyBundle.js';

const reason = paritySkipReason('modelsGet', 'weights.safetensors');
const REPO = 'earth-insights/SegEarth-R1-EarthReason';
const GATED = 'earth-insights/SegEarth-R1-RRSIS-D';
const [SHARD1] = SHARD_NAMES;

interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs bin/segearth.js asynchronously (the local hub lives in this process). `onStderr` sees the text so far. */
function segearth(args: string[], env: Record<string, string>, onStderr?: (text: string, child: ReturnType<typeof spawn>) => void): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(hf_|hugging|https?_proxy$|no_proxy$|segearth_)/i.test(k)));
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'segearth.js'), ...args], { env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onStderr?.(stderr, child);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 480_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

const sha256 = async (file: string): Promise<string> => createHash('sha256').update(await readFile(file)).digest('hex');

describe.skipIf(reason !== undefined)('segearth models get (download → convert → install) against a local hub', () => {
  let work: string;
  let ckpt: string;
  let template: string;
  let hub: LocalHub;
  let scene: string;

  /** A fresh user: its own hub cache, data folder (models install there) and no shipped models. */
  async function user(name: string, extra: Record<string, string> = {}): Promise<{ env: Record<string, string>; store: ModelStore; cache: string }> {
    const home = path.join(work, name);
    await mkdir(path.join(home, 'shipped'), { recursive: true });
    const env = {
      HF_ENDPOINT: hub.endpoint,
      HF_HOME: path.join(home, 'hf'),
      SEGEARTH_DATA_DIR: path.join(home, 'data'),
      SEGEARTH_SHIPPED_MODELS_DIR: path.join(home, 'shipped'),
      ...extra,
    };
    const locations = resolveModelLocations({ env, platform: process.platform, shippedDir: env.SEGEARTH_SHIPPED_MODELS_DIR });
    return { env, store: new ModelStore({ locations }), cache: path.join(home, 'hf', 'hub') };
  }

  beforeAll(async () => {
    const tiny = await ensureTinyBundle();
    work = await mkdtemp(path.join(tmpdir(), 'segearth-models-get-'));
    ckpt = path.join(work, 'SegEarth-R1-EarthReason');
    await writeFixtureCheckpoint(ckpt, tiny);
    await writeFile(path.join(ckpt, 'README.md'), '# not downloaded\n');
    template = path.join(work, 'template');
    await python(['-m', 'tools.export', ckpt, '-o', template, '--graphs-only', '--model-config', path.join(tiny, 'config.json'), '--threads', '1']);
    hub = await startLocalHub({ [REPO]: { dir: ckpt }, [GATED]: { dir: ckpt, gated: true } });
    scene = path.join(work, 'scene.tif');
    const ds = gdal.open(scene, 'w', 'GTiff', 200, 160, 3, gdal.GDT_Byte);
    ds.geoTransform = [300000, 10, 0, 5000000, 0, -10];
    ds.srs = gdal.SpatialReference.fromEPSG(32633);
    for (let b = 1; b <= 3; b++) ds.bands.get(b).pixels.write(0, 0, 200, 160, new Uint8Array(200 * 160).map((_, i) => ((i * b) % 180) + 30));
    ds.close();
  }, 600_000);

  afterAll(async () => {
    await hub?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('installs the hub checkpoint as the default bundle through a cut connection, and `segearth ask` answers with it', async () => {
    const u = await user('first');
    hub.requests.length = 0;
    hub.cutNext(SHARD1, 1_000_000);
    const r = await segearth(['models', 'get', 'earthreason', '--graphs', template, '--json'], u.env);
    expect(r.stderr).toContain('precision: ');
    const progress = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => ProgressLineSchema.parse(JSON.parse(l)));
    expect(progress.some((l) => l.stage === 'downloading' && l.fraction > 0 && l.fraction <= 1)).toBe(true);
    expect(r.stderr).toContain('connection lost at');
    expect(r.status, r.stderr).toBe(EXIT.OK);
    const got = JSON.parse(r.stdout) as { id: string; dir: string; variant: string; isDefault: boolean; verify: { state: string }; commit: string; madeDefault: boolean };
    expect(got).toMatchObject({ variant: 'earthreason', isDefault: true, madeDefault: true, commit: hub.commit(REPO) });
    expect(got.verify.state).toBe('verified');
    expect(path.dirname(got.dir)).toBe(path.join(u.env.SEGEARTH_DATA_DIR!, 'models'));

    // The shard resumed with a Range request to the same bytes: the manifest records the original shards' sha256.
    expect(hub.bodyRequests(SHARD1).map((q) => q.headers.range)).toEqual([undefined, 'bytes=1000000-']);
    const manifest = ManifestSchema.parse(JSON.parse(await readFile(path.join(got.dir, 'manifest.json'), 'utf8')));
    expect(manifest.source).toMatchObject({ checkpoint: REPO, revision: hub.commit(REPO) });
    for (const name of SHARD_NAMES) expect(manifest.source.files.find((f) => f.name === name)?.sha256).toBe(await sha256(path.join(ckpt, name)));
    expect(hub.bodyRequests('README.md')).toEqual([]); // only what the converter reads
    expect((await readdir(path.join(u.env.SEGEARTH_DATA_DIR!, 'models'))).filter((n) => !n.startsWith('.'))).toEqual([got.id]);

    const out = path.join(work, 'answer.geojson');
    const ask = await segearth(['ask', scene, 'where could a plane park?', '--ep', 'cpu', '-o', out, '--json'], u.env);
    expect(ask.status, ask.stderr).toBe(EXIT.OK);
    expect(JSON.parse(ask.stdout)).toMatchObject({ model: { id: got.id }, executionProvider: { provider: 'cpu' } });
    expect((await stat(out)).size).toBeGreaterThan(0);

    // Again: refused as installed (exit 4) before any download; with --replace the cache is reused.
    hub.requests.length = 0;
    const again = await segearth(['models', 'get', REPO, '--graphs', template], u.env);
    expect(again.status).toBe(EXIT.OUTPUT);
    expect(again.stderr).toContain('--replace');
    expect(hub.requests).toEqual([]);
    const replaced = await segearth(['models', 'get', REPO, '--graphs', template, '--replace'], u.env);
    expect(replaced.status, replaced.stderr).toBe(EXIT.OK);
    expect(replaced.stderr).toContain('nothing downloaded');
    expect(hub.bodyRequests()).toEqual([]);
  }, 900_000);

  it('Ctrl-C during the download exits 130 keeping the partial shard; the same command resumes it', async () => {
    const u = await user('interrupted');
    hub.requests.length = 0;
    hub.stallNext(SHARD1, 2_000_000);
    // SIGINT once the stalled shard's first 2 000 000 bytes are on disk (polled: no timing assumptions).
    const partial = path.join(u.cache, 'models--earth-insights--SegEarth-R1-EarthReason', 'blobs', `${hub.file(REPO, SHARD1).sha256}.incomplete`);
    let sent = false;
    let polling = false;
    const r = await segearth(['models', 'get', 'earthreason', '--graphs', template], u.env, (text, child) => {
      if (polling || !text.includes('downloading model-00001')) return;
      polling = true;
      const poll = setInterval(() => {
        void stat(partial).then(
          (st) => {
            if (st.size === 2_000_000 && !sent) {
              sent = true;
              clearInterval(poll);
              child.kill('SIGINT');
            }
          },
          () => undefined,
        );
      }, 50);
      child.on('close', () => clearInterval(poll));
    });
    expect(sent).toBe(true);
    expect(r.status, r.stderr).toBe(EXIT.CANCELLED);
    expect(r.stderr).toMatch(/cancelled/i);
    expect((await stat(partial)).size).toBe(2_000_000);
    expect(await u.store.list()).toMatchObject({ models: [] });

    hub.requests.length = 0;
    const again = await segearth(['models', 'get', 'earthreason', '--graphs', template], u.env);
    expect(again.status, again.stderr).toBe(EXIT.OK);
    expect(hub.bodyRequests(SHARD1).map((q) => q.headers.range)).toEqual(['bytes=2000000-']);
    expect((await u.store.list()).models.map((m) => m.id)).toHaveLength(1);
  }, 900_000);

  it('gated repository: exit 3 saying to set HF_TOKEN; with HF_TOKEN, through an HTTP proxy, it installs', async () => {
    const u = await user('gated');
    const refused = await segearth(['models', 'get', GATED, '--graphs', template], u.env);
    expect(refused.status).toBe(EXIT.INPUT);
    expect(refused.stderr).toContain('gated or private');
    expect(refused.stderr).toContain('HF_TOKEN');

    const proxy = await startProxy();
    try {
      const r = await segearth(['models', 'get', GATED, '--graphs', template, '--json'], { ...u.env, HF_TOKEN: hub.token, HTTP_PROXY: proxy.url, NO_PROXY: '' });
      expect(r.status, r.stderr).toBe(EXIT.OK);
      expect(JSON.parse(r.stdout)).toMatchObject({ variant: 'rrsis-d', isDefault: true });
      expect(proxy.tunnels).toContain(new URL(hub.endpoint).host);
      expect(proxy.tunnels).toContain(new URL(hub.cdn).host);
    } finally {
      await proxy.close();
    }
  }, 900_000);

  it('service: refuses before the first byte when download + bundle do not fit; progress goes resolving → downloading → verifying → converting → installing', async () => {
    const u = await user('service');
    const config = resolveHubConfig(u.env, work);
    const files = (await Promise.all((await readdir(ckpt)).filter((n) => n !== 'README.md').map(async (n) => (await stat(path.join(ckpt, n))).size))).reduce((a, b) => a + b, 0);
    hub.requests.length = 0;
    const tight = async (): Promise<number> => files + SPACE_MARGIN_BYTES; // room for the download only
    const err = await getModelFromHub({ source: 'earthreason', templateDir: template, store: u.store, config, freeSpace: tight }).catch((e: unknown) => e);
    expect(isSegEarthError(err, 'DISK_FULL')).toBe(true);
    expect((err as Error).message).toMatch(/downloading earth-insights\/SegEarth-R1-EarthReason .* and its .* bundle/);
    expect(hub.bodyRequests()).toEqual([]);

    const events: HubProgress[] = [];
    const got = await getModelFromHub({ source: 'earthreason', templateDir: template, store: u.store, config }, { onProgress: (e) => events.push(e) });
    expect(got.madeDefault).toBe(true);
    expect(got.downloadedBytes).toBe(files);
    const stages = events.map((e) => e.stage).filter((s, i, a) => s !== a[i - 1]);
    expect(stages[0]).toBe('resolving');
    expect(stages.indexOf('downloading')).toBeLessThan(stages.indexOf('converting'));
    expect(stages.at(-1)).toBe('installing');
    expect(events.some((e) => e.stage === 'downloading' && e.total === files && e.done === files)).toBe(true);
  }, 900_000);
});
