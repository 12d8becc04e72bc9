/**
 * The hub download layer (`downloadSnapshot`) against the local hub (test/support/localHub): the cache layout
 * of huggingface_hub (blobs by etag, snapshot links, refs), the token kept from the CDN, reuse of a cache laid
 * out as huggingface_hub's documentation shows, resumes after cut connections (same bytes, Range requests),
 * wrong bytes deleted with CHECKSUM_MISMATCH, a full disk refused before the first byte, a proxy, gated
 * repositories, the hub's error codes, and the offline fallback.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SPACE_MARGIN_BYTES } from '../../src/inference/models/diskSpace.js';
import { resolveHubConfig, type HubConfig } from '../../src/inference/hub/hubConfig.js';
import type { HubProgress } from '../../src/inference/hub/hubProgress.js';
import { planModelDownload } from '../../src/inference/hub/getModel.js';
import { discardPartialDownloads, downloadSnapshot } from '../../src/inference/hub/snapshotDownload.js';
import { httpAgentFor } from '../../src/inference/net/httpAgent.js';
import { isSegEarthError } from '../../src/shared/errors.js';
import { startProxy } from '../support/httpProxy.js';
import { gitBlobId, type LocalHub, startLocalHub } from '../support/localHub.js';
import { bytes } from '../models/helpers.js';

const REPO = 'earth-insights/SegEarth-R1-EarthReason';
const GATED = 'earth-insights/SegEarth-R1-Gated';
const PICKLE = 'someone/SegEarth-R1-pickle';
const PRIVATE = 'someone/SegEarth-R1-private';
const SHARD1 = 'model-00001-of-00002.safetensors';
const SHARD2 = 'model-00002-of-00002.safetensors';

let root: string;
let repoDir: string;
let hub: LocalHub;
let work: string;

/** A checkpoint-shaped repository: two "shards" (LFS), an index, config and tokenizer files (plain git files). */
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'segearth-hub-'));
  repoDir = path.join(root, 'repo');
  await mkdir(path.join(repoDir, 'sub'), { recursive: true });
  await writeFile(path.join(repoDir, SHARD1), bytes(300_000, 3));
  await writeFile(path.join(repoDir, SHARD2), bytes(200_000, 5));
  await writeFile(path.join(repoDir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { a: SHARD1, b: SHARD2 } }));
  await writeFile(path.join(repoDir, 'config.json'), '{"model_type":"llava_phi"}\n');
  await writeFile(path.join(repoDir, 'vocab.json'), '{"a":0}');
  await writeFile(path.join(repoDir, 'sub', 'notes.txt'), 'nested file\n');
  const pickleDir = path.join(root, 'pickle');
  await mkdir(pickleDir);
  await writeFile(path.join(pickleDir, 'config.json'), '{}');
  await writeFile(path.join(pickleDir, 'pytorch_model.bin'), bytes(1000, 7));
  hub = await startLocalHub({ [REPO]: { dir: repoDir, refs: ['v1.0'] }, [GATED]: { dir: repoDir, gated: true }, [PICKLE]: { dir: pickleDir }, [PRIVATE]: { dir: repoDir, private: true } });
});

afterAll(async () => {
  await hub?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

beforeEach(async () => {
  work = await mkdtemp(path.join(root, 'work-'));
  hub.requests.length = 0;
});

afterEach(async () => {
  hub.corrupt(SHARD1, false);
  await rm(work, { recursive: true, force: true });
});

function config(env: Record<string, string> = {}): HubConfig {
  return resolveHubConfig({ HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: path.join(work, 'hub'), ...env }, work);
}

const repoCacheDir = (): string => path.join(work, 'hub', 'models--earth-insights--SegEarth-R1-EarthReason');

async function caught(p: Promise<unknown>): Promise<Error & { code?: string; hint?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string; hint?: string };
  }
  throw new Error('expected a rejection');
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('downloadSnapshot', () => {
  it('fills the hub cache layout: blobs named by sha256 / git blob id, relative snapshot links, refs/main', async () => {
    const events: HubProgress[] = [];
    const r = await downloadSnapshot({ repo: REPO, config: config(), onProgress: (e) => events.push(e) });
    const commit = hub.commit(REPO);
    expect(r.commit).toBe(commit);
    expect(r.dir).toBe(path.join(repoCacheDir(), 'snapshots', commit));
    expect(await readFile(path.join(repoCacheDir(), 'refs', 'main'), 'utf8')).toBe(commit);
    const shard = await readFile(path.join(repoDir, SHARD1));
    expect(await readlink(path.join(r.dir, SHARD1))).toBe(path.join('..', '..', 'blobs', sha256(shard)));
    expect(await readFile(path.join(r.dir, SHARD1))).toEqual(shard);
    const cfg = await readFile(path.join(repoDir, 'config.json'));
    expect(await readlink(path.join(r.dir, 'config.json'))).toBe(path.join('..', '..', 'blobs', gitBlobId(cfg)));
    expect(await readlink(path.join(r.dir, 'sub', 'notes.txt'))).toBe(path.join('..', '..', '..', 'blobs', gitBlobId(Buffer.from('nested file\n'))));
    expect((await readdir(path.join(repoCacheDir(), 'blobs'))).filter((n) => n.endsWith('.incomplete'))).toEqual([]);
    expect(r.downloadedBytes).toBe(r.files.reduce((s, f) => s + f.size, 0));

    // The API call asked for the checksums; LFS files came from the CDN (another origin).
    expect(hub.requests[0]!.url).toBe(`/api/models/${REPO}/revision/main?blobs=true`);
    expect(hub.bodyRequests(SHARD1).map((q) => q.server)).toEqual(['cdn']);
    expect(hub.bodyRequests('config.json').map((q) => q.server)).toEqual(['hub']);

    const dl = events.filter((e) => e.stage === 'downloading');
    expect(dl.at(-1)).toMatchObject({ done: r.downloadedBytes, total: r.downloadedBytes });
    for (let i = 1; i < dl.length; i++) expect(dl[i]!.done).toBeGreaterThanOrEqual(dl[i - 1]!.done);
  });

  it('sends HF_TOKEN to the hub but never to the CDN it redirects to', async () => {
    await downloadSnapshot({ repo: REPO, config: config({ HF_TOKEN: hub.token }) });
    const toHub = hub.requests.filter((q) => q.server === 'hub');
    const toCdn = hub.requests.filter((q) => q.server === 'cdn');
    expect(toHub.length).toBeGreaterThan(0);
    expect(toCdn.length).toBe(2);
    for (const q of toHub) expect(q.headers.authorization).toBe(`Bearer ${hub.token}`);
    for (const q of toCdn) expect(q.headers.authorization).toBeUndefined();
  });

  it('reuses the cache on a rerun and a cache laid out by huggingface_hub (no file body requested again)', async () => {
    await downloadSnapshot({ repo: REPO, config: config() });
    hub.requests.length = 0;
    const again = await downloadSnapshot({ repo: REPO, config: config(), verifyCacheFile: path.join(work, 'verify.json') });
    expect(hub.bodyRequests()).toEqual([]);
    expect(again.downloadedBytes).toBe(0);
    expect(again.cachedBytes).toBe(again.files.reduce((s, f) => s + f.size, 0));

    // A cache written by hand in huggingface_hub's documented layout (hf_hub_download docstring): blobs named by
    // the etag, snapshots/<commit>/<file> -> ../../blobs/<etag>, for another cache folder.
    const other = path.join(work, 'hf-cli');
    const repoFolder = path.join(other, 'models--earth-insights--SegEarth-R1-EarthReason');
    const commit = hub.commit(REPO);
    for (const f of again.files) {
      const content = await readFile(path.join(repoDir, ...f.path.split('/')));
      const etag = hub.file(REPO, f.path).lfs ? sha256(content) : gitBlobId(content);
      await mkdir(path.join(repoFolder, 'blobs'), { recursive: true });
      await writeFile(path.join(repoFolder, 'blobs', etag), content);
      const pointer = path.join(repoFolder, 'snapshots', commit, ...f.path.split('/'));
      await mkdir(path.dirname(pointer), { recursive: true });
      await symlink(path.relative(path.dirname(pointer), path.join(repoFolder, 'blobs', etag)), pointer);
    }
    hub.requests.length = 0;
    const reused = await downloadSnapshot({ repo: REPO, config: resolveHubConfig({ HF_ENDPOINT: hub.endpoint, HF_HOME: path.dirname(other), HF_HUB_CACHE: other }, work) });
    expect(reused.dir).toBe(path.join(repoFolder, 'snapshots', commit));
    expect(hub.bodyRequests()).toEqual([]);
  });

  it('resumes a shard cut mid-file within the call, with Range, to the same bytes', async () => {
    hub.cutNext(SHARD1, 120_000, 2);
    const r = await downloadSnapshot({ repo: REPO, config: config(), retryDelayMs: 0 });
    const got = hub.bodyRequests(SHARD1);
    expect(got.map((q) => q.headers.range)).toEqual([undefined, 'bytes=120000-', 'bytes=240000-']);
    expect(got.map((q) => q.sent)).toEqual([120_000, 120_000, 60_000]);
    expect(await readFile(path.join(r.dir, SHARD1))).toEqual(await readFile(path.join(repoDir, SHARD1)));
  });

  it('keeps the .incomplete file when a call gives up, and the next call resumes it', async () => {
    hub.cutNext(SHARD2, 80_000, 1);
    const err = await caught(downloadSnapshot({ repo: REPO, config: config(), retries: 0 }));
    expect(isSegEarthError(err, 'DOWNLOAD_FAILED')).toBe(true);
    expect(err.message).toContain(`${SHARD2} of ${REPO}`);
    expect(err.hint).toContain('resume');
    const etag = hub.file(REPO, SHARD2).sha256;
    expect((await stat(path.join(repoCacheDir(), 'blobs', `${etag}.incomplete`))).size).toBe(80_000);

    hub.requests.length = 0;
    const events: HubProgress[] = [];
    const r = await downloadSnapshot({ repo: REPO, config: config(), retries: 0, onProgress: (e) => events.push(e) });
    expect(hub.bodyRequests(SHARD1)).toEqual([]); // finished in the first call
    // Progress counts the whole checkpoint: the cached files and the partial shard are done from the start.
    const all = r.files.reduce((sum, f) => sum + f.size, 0);
    const cached = (await stat(path.join(repoDir, 'config.json'))).size + 300_000;
    expect(events.find((e) => e.stage === 'downloading')).toMatchObject({ done: cached + 80_000, total: all, message: 'resuming at 78.1 KiB' });
    expect(events.filter((e) => e.stage === 'downloading').at(-1)).toMatchObject({ done: all, total: all });
    expect(hub.bodyRequests(SHARD2).map((q) => [q.headers.range, q.sent])).toEqual([['bytes=80000-', 120_000]]);
    expect(r.downloadedBytes).toBe(hub.bodyRequests().reduce((sum, q) => sum + q.sent, 0)); // the rest of shard 2 and the files after it
    expect(await readFile(path.join(r.dir, SHARD2))).toEqual(await readFile(path.join(repoDir, SHARD2)));
  });

  it('deletes a file whose bytes do not match the hub sha256 and fails with CHECKSUM_MISMATCH', async () => {
    hub.corrupt(SHARD1);
    const err = await caught(downloadSnapshot({ repo: REPO, config: config() }));
    expect(isSegEarthError(err, 'CHECKSUM_MISMATCH')).toBe(true);
    expect(err.message).toContain(`${SHARD1} of ${REPO}`);
    expect(err.message).toContain(hub.file(REPO, SHARD1).sha256);
    const blobs = await readdir(path.join(repoCacheDir(), 'blobs'));
    expect(blobs.filter((n) => n.startsWith(hub.file(REPO, SHARD1).sha256))).toEqual([]);
    hub.corrupt(SHARD1, false);
    const r = await downloadSnapshot({ repo: REPO, config: config() });
    expect(await readFile(path.join(r.dir, SHARD1))).toEqual(await readFile(path.join(repoDir, SHARD1)));
  });

  it('refuses before the first byte when the disk cannot hold the download plus what is made from it', async () => {
    const files = 300_000 + 200_000 + (await Promise.all(['model.safetensors.index.json', 'config.json', 'vocab.json', 'sub/notes.txt'].map(async (f) => (await stat(path.join(repoDir, f))).size))).reduce((a, b) => a + b, 0);
    const bundle = 1_000_000;
    const store = path.join(work, 'models');
    const err = await caught(
      downloadSnapshot({
        repo: REPO,
        config: config(),
        alsoNeeds: () => [{ dir: store, bytes: bundle, what: 'the bundle' }],
        freeSpace: async () => files + bundle + SPACE_MARGIN_BYTES - 1,
      }),
    );
    expect(isSegEarthError(err, 'DISK_FULL')).toBe(true);
    expect(err.message).toMatch(/downloading earth-insights\/SegEarth-R1-EarthReason \(.*\) and the bundle \(.*\)/);
    expect(hub.bodyRequests()).toEqual([]);
    await downloadSnapshot({ repo: REPO, config: config(), alsoNeeds: () => [{ dir: store, bytes: bundle, what: 'the bundle' }], freeSpace: async () => files + bundle + SPACE_MARGIN_BYTES });
  });

  it('goes through HTTP_PROXY (CONNECT tunnels to the hub and the CDN), and not for NO_PROXY hosts', async () => {
    const proxy = await startProxy({ auth: 'analyst:s3cret' });
    try {
      const agent = httpAgentFor({ HTTP_PROXY: proxy.url });
      await downloadSnapshot({ repo: REPO, config: config(), agent });
      const hubHost = new URL(hub.endpoint).host;
      const cdnHost = new URL(hub.cdn).host;
      expect(proxy.tunnels).toContain(hubHost);
      expect(proxy.tunnels).toContain(cdnHost);
      expect(proxy.refused).toBe(0);

      const before = proxy.tunnels.length;
      await rm(path.join(work, 'hub'), { recursive: true, force: true });
      await downloadSnapshot({ repo: REPO, config: config(), agent: httpAgentFor({ HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' }) });
      expect(proxy.tunnels.length).toBe(before);
    } finally {
      await proxy.close();
    }
  });

  it('gated repository: a clear 401 message naming HF_TOKEN without a token, the files with it; private likewise', async () => {
    const err = await caught(downloadSnapshot({ repo: GATED, config: config() }));
    expect(isSegEarthError(err, 'DOWNLOAD_FAILED')).toBe(true);
    expect(err.message).toContain(`refused ${GATED}/config.json (revision main) without a token (HTTP 401): the repository is gated or private`);
    expect(err.hint).toContain('HF_TOKEN');
    expect(hub.requests.filter((q) => q.server === 'cdn')).toEqual([]); // refused at the first file, nothing fetched
    const priv = await caught(downloadSnapshot({ repo: PRIVATE, config: config() }));
    expect(priv.message).toContain(`refused ${PRIVATE} (revision main) without a token (HTTP 401)`);
    expect(priv.hint).toContain('HF_TOKEN');
    expect((await downloadSnapshot({ repo: PRIVATE, config: config({ HF_TOKEN: hub.token }) })).files.length).toBe(6);
    const wrong = await caught(downloadSnapshot({ repo: GATED, config: config({ HF_TOKEN: 'hf_wrong' }) }));
    expect(wrong.message).toContain('with the token from HF_TOKEN (HTTP 403)');
    expect(wrong.hint).toContain('Request access');
    // The token file of `hf auth login` (HF_HOME/token) is read when HF_TOKEN is not set.
    await writeFile(path.join(work, 'token'), `${hub.token}\n`);
    const r = await downloadSnapshot({ repo: GATED, config: config({ HF_HOME: work }) });
    expect(r.files.length).toBe(6);
  });

  it('says which of repository and revision does not exist, and when the hub cannot be reached', async () => {
    const noRepo = await caught(downloadSnapshot({ repo: 'earth-insights/Nope', config: config() }));
    expect(noRepo.message).toContain('no model repository "earth-insights/Nope"');
    const noRev = await caught(downloadSnapshot({ repo: REPO, revision: 'v9', config: config() }));
    expect(noRev.message).toContain('has no revision "v9"');
    const r = await downloadSnapshot({ repo: REPO, revision: 'v1.0', config: config() });
    expect(await readFile(path.join(repoCacheDir(), 'refs', 'v1.0'), 'utf8')).toBe(r.commit);
    const down = await caught(downloadSnapshot({ repo: 'earth-insights/Other', config: resolveHubConfig({ HF_ENDPOINT: 'http://127.0.0.1:9', HF_HUB_CACHE: path.join(work, 'hub') }, work) }));
    expect(down.message).toContain('Cannot reach the model hub at http://127.0.0.1:9 (ECONNREFUSED)');
    expect(down.hint).toContain('HTTPS_PROXY');
  });

  it('offline (HF_HUB_OFFLINE=1 or hub unreachable): serves the cached snapshot of the branch, else says it is not cached', async () => {
    const missing = await caught(downloadSnapshot({ repo: REPO, config: config({ HF_HUB_OFFLINE: '1' }) }));
    expect(missing.message).toContain('HF_HUB_OFFLINE is set, and earth-insights/SegEarth-R1-EarthReason@main is not in the download cache');
    const online = await downloadSnapshot({ repo: REPO, config: config() });
    hub.requests.length = 0;
    const offline = await downloadSnapshot({ repo: REPO, config: config({ HF_HUB_OFFLINE: '1' }) });
    expect(hub.requests).toEqual([]);
    expect(offline).toMatchObject({ offline: true, dir: online.dir, commit: online.commit });
    expect(offline.files.map((f) => f.path).sort()).toEqual(online.files.map((f) => f.path).sort());
    const unreachable = await downloadSnapshot({ repo: REPO, config: config({ HF_ENDPOINT: 'http://127.0.0.1:9' }) });
    expect(unreachable.dir).toBe(online.dir);
  });

  it('cancels through an AbortSignal keeping the partial, and the next call resumes it', async () => {
    hub.stallNext(SHARD1, 50_000);
    const controller = new AbortController();
    const err = await caught(
      downloadSnapshot({
        repo: REPO,
        config: config(),
        signal: controller.signal,
        onProgress: (e) => {
          if (e.stage === 'downloading' && e.done >= 50_000) controller.abort();
        },
      }),
    );
    expect(isSegEarthError(err, 'CANCELLED')).toBe(true);
    const partial = path.join(repoCacheDir(), 'blobs', `${hub.file(REPO, SHARD1).sha256}.incomplete`);
    expect((await lstat(partial)).size).toBe(50_000);
    hub.requests.length = 0;
    await downloadSnapshot({ repo: REPO, config: config() });
    expect(hub.bodyRequests(SHARD1).map((q) => q.headers.range)).toEqual(['bytes=50000-']);
  });
});

describe('planModelDownload and discardPartialDownloads (the app\'s size to download, and cancel)', () => {
  it('counts the checkpoint files, what the cache and partial files hold; cancel deletes the partials', async () => {
    const checkpointBytes = 300_000 + 200_000 + (await Promise.all(['model.safetensors.index.json', 'config.json', 'vocab.json'].map(async (f) => (await stat(path.join(repoDir, f))).size))).reduce((a, b) => a + b, 0);
    const fresh = await planModelDownload({ source: 'earthreason', config: config() });
    expect(fresh).toMatchObject({ repo: REPO, variant: 'earthreason', commit: hub.commit(REPO), totalBytes: checkpointBytes, cachedBytes: 0, remainingBytes: checkpointBytes });
    expect(hub.bodyRequests()).toEqual([]);

    hub.cutNext(SHARD2, 80_000, 1);
    await caught(downloadSnapshot({ repo: REPO, config: config(), retries: 0 }));
    const paused = await planModelDownload({ source: REPO, config: config() });
    expect(paused.remainingBytes).toBe(checkpointBytes - paused.cachedBytes - 80_000);
    expect(paused.cachedBytes).toBeGreaterThan(300_000);
    expect(await discardPartialDownloads(REPO, config())).toBe(80_000);
    expect((await planModelDownload({ source: REPO, config: config() })).remainingBytes).toBe(checkpointBytes - paused.cachedBytes);
  });

  it('refuses a repository with only pickle weights before downloading, naming the Python exporter', async () => {
    const err = await caught(planModelDownload({ source: PICKLE, config: config() }));
    expect(isSegEarthError(err, 'MODEL_INVALID')).toBe(true);
    expect(err.message).toContain('PyTorch pickle (pytorch_model.bin)');
    expect(err.hint).toContain('tools.export');
    expect(hub.bodyRequests()).toEqual([]);
  });
});

describe('resolveHubConfig', () => {
  it('follows huggingface_hub: HF_ENDPOINT, HF_HOME/HF_HUB_CACHE/XDG_CACHE_HOME, HF_TOKEN > HUGGING_FACE_HUB_TOKEN > token file', async () => {
    const home = work;
    expect(resolveHubConfig({}, home)).toMatchObject({
      endpoint: 'https://huggingface.co',
      cacheDir: path.join(home, '.cache', 'huggingface', 'hub'),
      token: null,
      offline: false,
    });
    expect(resolveHubConfig({ XDG_CACHE_HOME: '/x' }, home).cacheDir).toBe(path.join('/x', 'huggingface', 'hub'));
    expect(resolveHubConfig({ HF_HOME: '/h', HUGGINGFACE_HUB_CACHE: '/legacy' }, home).cacheDir).toBe('/legacy');
    expect(resolveHubConfig({ HF_HOME: '/h', HF_HUB_CACHE: '/c', HUGGINGFACE_HUB_CACHE: '/legacy' }, home).cacheDir).toBe('/c');
    expect(resolveHubConfig({ HF_ENDPOINT: 'https://hf-mirror.example/' }, home).endpoint).toBe('https://hf-mirror.example');
    await writeFile(path.join(work, 'token'), ' hf_file \n');
    expect(resolveHubConfig({ HF_HOME: work }, home)).toMatchObject({ token: 'hf_file', tokenSource: `the token file ${path.join(work, 'token')}` });
    expect(resolveHubConfig({ HF_HOME: work, HUGGING_FACE_HUB_TOKEN: 'hf_legacy' }, home).token).toBe('hf_legacy');
    expect(resolveHubConfig({ HF_HOME: work, HF_TOKEN: 'hf_env', HUGGING_FACE_HUB_TOKEN: 'hf_legacy' }, home).tokenSource).toBe('HF_TOKEN');
    expect(resolveHubConfig({ HF_HUB_OFFLINE: 'true' }, home).offline).toBe(true);
    expect(resolveHubConfig({ HF_HUB_OFFLINE: '0' }, home).offline).toBe(false);
  });
});
