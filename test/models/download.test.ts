import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSegEarthError } from '../../src/shared/errors.js';
import { SPACE_MARGIN_BYTES, statfsFreeSpace } from '../../src/inference/models/diskSpace.js';
import { stagingPaths } from '../../src/inference/models/download.js';
import { ModelStore } from '../../src/inference/models/ModelStore.js';
import type { ModelProgress } from '../../src/inference/models/types.js';
import { bytes, type FileServer, packBundle, serveFile, sha256, tempStore, type TempStore, writeBundle } from './helpers.js';

let ts: TempStore;
let server: FileServer | undefined;
let archive: Buffer;

beforeEach(async () => {
  ts = await tempStore();
  const src = path.join(ts.root, 'src');
  const dir = await writeBundle(src, {
    id: 'er-fp32',
    files: { 'image.onnx': bytes(150_000, 3), 'llm.onnx.data': bytes(250_000, 5) },
  });
  archive = await readFile(await packBundle(dir, path.join(ts.root, 'er-fp32.tar.gz')));
});

afterEach(async () => {
  await server?.close();
  server = undefined;
  await ts.cleanup();
});

async function stagingFiles(): Promise<string[]> {
  try {
    return (await readdir(ts.locations.stagingDir)).sort();
  } catch {
    return [];
  }
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('ModelStore.download', () => {
  it('downloads, checks the sha256 and installs, reporting progress up to the total', async () => {
    server = await serveFile(archive);
    const events: ModelProgress[] = [];
    const store = new ModelStore({ locations: ts.locations });
    const m = await store.download(server.url, { sha256: sha256(archive), onProgress: (e) => events.push(e) });
    expect(m.id).toBe('er-fp32');
    expect(m.verify.state).toBe('verified');
    expect(m.dir).toBe(path.join(ts.locations.installDir, 'er-fp32'));
    const dl = events.filter((e) => e.phase === 'download');
    expect(dl.at(-1)).toMatchObject({ done: archive.length, total: archive.length });
    for (let i = 1; i < dl.length; i++) expect(dl[i].done).toBeGreaterThanOrEqual(dl[i - 1].done);
    expect(events.some((e) => e.phase === 'hash')).toBe(true);
    expect(server.requests[0].headers.range).toBeUndefined();
    expect(server.requests[0].headers['accept-encoding']).toBe('identity');
    expect(await stagingFiles()).toEqual([]); // archive, partial, record and lock all gone
    expect(await readFile(path.join(m.dir, 'llm.onnx.data'))).toEqual(bytes(250_000, 5));
  });

  it('keeps the partial when the connection is cut, and the next call resumes it with a Range request', async () => {
    server = await serveFile(archive);
    server.cutNext(1, 100_000);
    const store = new ModelStore({ locations: ts.locations });
    const err = await caught(store.download(server.url, { sha256: sha256(archive), retries: 0 }));
    expect(isSegEarthError(err, 'DOWNLOAD_FAILED')).toBe(true);
    expect((err as Error).message).toContain('connection was lost');
    const p = stagingPaths(ts.locations.stagingDir, sha256(archive));
    expect((await stat(p.partial)).size).toBe(100_000);
    expect(JSON.parse(await readFile(p.record, 'utf8'))).toMatchObject({ totalBytes: archive.length, url: server.url });
    expect((await store.list()).models).toEqual([]); // nothing installed

    const events: ModelProgress[] = [];
    const m = await store.download(server.url, { sha256: sha256(archive), retries: 0, onProgress: (e) => events.push(e) });
    expect(m.verify.state).toBe('verified');
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1].headers.range).toBe('bytes=100000-');
    expect(server.requests[1].headers['if-range']).toMatch(/^"[0-9a-f]{16}"$/);
    expect(server.sent[1]).toBe(archive.length - 100_000); // only the rest was transferred
    expect(events.find((e) => e.phase === 'download')?.done).toBe(100_000);
    expect(await stagingFiles()).toEqual([]);
  });

  it('resumes automatically within one call when retries are allowed', async () => {
    server = await serveFile(archive);
    server.cutNext(2, 60_000);
    const store = new ModelStore({ locations: ts.locations });
    const m = await store.download(server.url, { sha256: sha256(archive), retries: 3, retryDelayMs: 0 });
    expect(m.id).toBe('er-fp32');
    expect(server.requests.map((r) => r.headers.range)).toEqual([undefined, 'bytes=60000-', 'bytes=120000-']);
    expect(server.sent).toEqual([60_000, 60_000, archive.length - 120_000]);
  });

  it('restarts from zero when the server ignores Range (200) or the file changed (If-Range fails)', async () => {
    server = await serveFile(archive, { ignoreRange: true });
    server.cutNext(1, 50_000);
    const store = new ModelStore({ locations: ts.locations });
    await caught(store.download(server.url, { sha256: sha256(archive), retries: 0 }));
    const m = await store.download(server.url, { sha256: sha256(archive), retries: 0 });
    expect(m.verify.state).toBe('verified');
    expect(server.requests[1].headers.range).toBe('bytes=50000-');
    expect(server.sent[1]).toBe(archive.length); // whole file again, written from the start (not appended)
  });

  it('does not splice two versions: a file changed on the server (ETag differs) is fetched whole again', async () => {
    const older = Buffer.concat([bytes(90_000, 42), archive.subarray(90_000)]);
    server = await serveFile(older);
    server.cutNext(1, 80_000);
    const store = new ModelStore({ locations: ts.locations });
    await caught(store.download(server.url, { sha256: sha256(archive), retries: 0 }));
    server.setContent(archive);
    const m = await store.download(server.url, { sha256: sha256(archive), retries: 0 });
    expect(m.verify.state).toBe('verified');
    expect(server.requests[1].headers.range).toBe('bytes=80000-');
    expect(server.requests[1].headers['if-range']).toBe(`"${sha256(older).slice(0, 16)}"`);
    expect(server.sent[1]).toBe(archive.length);
  });

  it('rejects a wrong checksum: nothing installed, no partial left', async () => {
    server = await serveFile(archive);
    const store = new ModelStore({ locations: ts.locations });
    const wrong = sha256('another release');
    const err = await caught(store.download(server.url, { sha256: wrong }));
    expect(isSegEarthError(err, 'CHECKSUM_MISMATCH')).toBe(true);
    expect((err as Error).message).toContain(sha256(archive));
    expect(await stagingFiles()).toEqual([]);
    expect((await store.list()).models).toEqual([]);
    await expect(stat(path.join(ts.locations.installDir, 'er-fp32'))).rejects.toThrow();
  });

  it('refuses before downloading when the disk cannot hold the archive and its unpacked bundle', async () => {
    server = await serveFile(archive);
    const asked: string[] = [];
    const store = new ModelStore({
      locations: ts.locations,
      freeSpace: async (dir) => {
        asked.push(dir);
        return 2 * archive.length + SPACE_MARGIN_BYTES - 1; // one byte short
      },
    });
    const err = await caught(store.download(server.url, { sha256: sha256(archive) }));
    expect(isSegEarthError(err, 'DISK_FULL')).toBe(true);
    expect((err as Error).message).toMatch(/needs .* only .* are free/);
    expect(asked).toEqual([ts.locations.stagingDir]);
    expect(await stagingFiles()).toEqual([]); // not a byte written
    expect((await store.list()).models).toEqual([]);

    // With exactly enough room it goes through.
    const ok = new ModelStore({ locations: ts.locations, freeSpace: async () => 2 * archive.length + SPACE_MARGIN_BYTES });
    expect((await ok.download(server.url, { sha256: sha256(archive) })).id).toBe('er-fp32');
  });

  it('cancels through an AbortSignal, keeping the partial for a later resume', async () => {
    server = await serveFile(archive);
    server.stallNext(70_000);
    const store = new ModelStore({ locations: ts.locations });
    const controller = new AbortController();
    const err = await caught(
      store.download(server.url, {
        sha256: sha256(archive),
        signal: controller.signal,
        onProgress: (e) => {
          if (e.phase === 'download' && e.done === 70_000) controller.abort();
        },
      }),
    );
    expect(isSegEarthError(err, 'CANCELLED')).toBe(true);
    const p = stagingPaths(ts.locations.stagingDir, sha256(archive));
    const kept = (await stat(p.partial)).size;
    expect(kept).toBe(70_000);
    expect(await stagingFiles()).toEqual([path.basename(p.partial), path.basename(p.record)]);
    const m = await store.download(server.url, { sha256: sha256(archive) });
    expect(m.verify.state).toBe('verified');
    expect(server.requests.at(-1)?.headers.range).toBe(`bytes=${kept}-`);
  });

  it('follows redirects, keeping the Range header on the resumed request', async () => {
    server = await serveFile(archive);
    server.cutNext(1, 30_000);
    const store = new ModelStore({ locations: ts.locations });
    const latest = server.url.replace('bundle.tar.gz', 'latest');
    await caught(store.download(latest, { sha256: sha256(archive), retries: 0 }));
    const m = await store.download(latest, { sha256: sha256(archive), retries: 0 });
    expect(m.id).toBe('er-fp32');
    expect(server.requests.map((r) => r.headers.range)).toEqual([undefined, undefined, 'bytes=30000-', 'bytes=30000-']);
    expect(server.sent.at(-1)).toBe(archive.length - 30_000);
  });

  it('keeps a good archive when the bundle is already installed, so --replace needs no second download', async () => {
    server = await serveFile(archive);
    const store = new ModelStore({ locations: ts.locations });
    await store.download(server.url, { sha256: sha256(archive) });
    const err = await caught(store.download(server.url, { sha256: sha256(archive) }));
    expect(isSegEarthError(err, 'OUTPUT_EXISTS')).toBe(true);
    expect((err as { hint?: string }).hint).toContain('--replace');
    expect(await stagingFiles()).toEqual([`${sha256(archive)}.archive`]);
    const m = await store.download(server.url, { sha256: sha256(archive), replace: true });
    expect(m.verify.state).toBe('verified');
    expect(server.requests).toHaveLength(2); // the third call reused the kept archive
    expect(await stagingFiles()).toEqual([]);
  });

  it('reports HTTP errors with the status and keeps nothing', async () => {
    server = await serveFile(archive);
    const store = new ModelStore({ locations: ts.locations });
    const err = await caught(store.download(server.url.replace('bundle.tar.gz', 'missing.tar.gz'), { sha256: sha256(archive) }));
    expect(isSegEarthError(err, 'DOWNLOAD_FAILED')).toBe(true);
    expect((err as Error).message).toContain('HTTP 404');
    expect(await stagingFiles()).toEqual([]);
  });

  it('refuses a second concurrent download of the same bundle, and takes over a stale lock', async () => {
    server = await serveFile(archive);
    const store = new ModelStore({ locations: ts.locations });
    const p = stagingPaths(ts.locations.stagingDir, sha256(archive));
    await mkdir(ts.locations.stagingDir, { recursive: true });
    await writeFile(p.lock, String(process.ppid)); // a live process that is not us
    const err = await caught(store.download(server.url, { sha256: sha256(archive) }));
    expect(isSegEarthError(err, 'DOWNLOAD_FAILED')).toBe(true);
    expect((err as Error).message).toContain(`process ${process.ppid}`);
    await writeFile(p.lock, '999999999'); // no such process
    expect((await store.download(server.url, { sha256: sha256(archive) })).id).toBe('er-fp32');
  });

  it('refuses a malformed checksum and a non-http URL before touching the network', async () => {
    const store = new ModelStore({ locations: ts.locations });
    expect(isSegEarthError(await caught(store.download('http://127.0.0.1:9/x', { sha256: 'abc' })), 'BAD_ARGUMENT')).toBe(true);
    expect(isSegEarthError(await caught(store.download('/tmp/x.tar.gz', { sha256: sha256('x') })), 'BAD_ARGUMENT')).toBe(true);
  });
});

describe('statfsFreeSpace', () => {
  it('returns a positive byte count for a real folder, even one not created yet', async () => {
    const free = await statfsFreeSpace(ts.root);
    expect(free).toBeGreaterThan(0);
    expect(Number.isInteger(free)).toBe(true);
    expect(await statfsFreeSpace(path.join(ts.root, 'not', 'yet'))).toBeGreaterThan(0);
  });
});
