/**
 * @module inference/hub/snapshotDownload
 * Downloads the files of a hub repository at one commit into the shared cache (`hubCache`) and returns the
 * snapshot folder — what `huggingface_hub.snapshot_download` does, plus what a 5 GB download over an office
 * network needs:
 *
 * 1. one API call resolves the revision to a commit and lists every file with its size and checksum
 *    (`hubApi`); the branch is recorded in `refs/` so an offline rerun finds the snapshot;
 * 2. free space for what is still missing (plus what the caller will make from it, e.g. the bundle) is
 *    checked BEFORE the first byte;
 * 3. each missing file goes to `blobs/<etag>.incomplete`, resumed with Range after a cut connection, a
 *    Ctrl-C or a crash (`net/resumableFetch`), then is checked — LFS files against their sha256, plain files
 *    against their git blob id — and only then renamed to `blobs/<etag>` and linked from `snapshots/<commit>/`.
 *    A file with the wrong checksum is deleted and the download fails with CHECKSUM_MISMATCH;
 * 4. files already in the cache (also from `hf download`) are checked once and reused; the check is
 *    remembered by path, size and mtime in the model store's hash cache.
 *
 * With `HF_HUB_OFFLINE=1`, or when the hub cannot be reached, a snapshot already in the cache is used as is.
 */
import { readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Dispatcher } from 'undici';
import { SegEarthError } from '../../shared/errors.js';
import { ensureFreeSpaceForAll, formatBytes, type FreeSpaceProbe, type SpaceNeed, statfsFreeSpace } from '../models/diskSpace.js';
import { ensureDir } from '../models/install.js';
import { acquireProcessLock } from '../models/processLock.js';
import { fileDigest, HashCache } from '../models/verify.js';
import { fetchResumable, sizeOf } from '../net/resumableFetch.js';
import { blobName, fetchRepoSnapshot, hubHeaders, hubHttpError, isHubUnreachable, type HubFile, type RepoSnapshot, resolveUrl } from './hubApi.js';
import { hasFile, linkPointer, readRef, repoCache, type RepoCache, writeRef } from './hubCache.js';
import { type HubConfig, resolveHubConfig } from './hubConfig.js';
import type { HubProgressListener } from './hubProgress.js';
import { TransferRate } from './transferRate.js';

export interface SnapshotDownloadOptions {
  /** `org/name`. */
  readonly repo: string;
  /** Branch, tag or commit (default `main`). */
  readonly revision?: string;
  readonly config?: HubConfig;
  readonly agent?: Dispatcher;
  /**
   * Which files to fetch, given the whole list; throw to refuse the repository (e.g. pickle-only weights).
   * Default: every file.
   */
  readonly select?: (files: readonly HubFile[], snapshot: RepoSnapshot) => readonly HubFile[];
  /** Room the caller needs elsewhere afterwards (the bundle), checked together with the download. */
  readonly alsoNeeds?: (downloadBytes: number) => readonly SpaceNeed[];
  readonly freeSpace?: FreeSpaceProbe;
  /** Remembers files already checked (the model store's `model-verify.json`); null: check every run. */
  readonly verifyCacheFile?: string | null;
  readonly retries?: number;
  readonly retryDelayMs?: number;
  readonly onProgress?: HubProgressListener;
  readonly signal?: AbortSignal;
}

export interface SnapshotResult {
  readonly repo: string;
  readonly commit: string;
  /** `snapshots/<commit>` in the cache: the checkpoint folder. */
  readonly dir: string;
  readonly files: readonly HubFile[];
  /** Bytes fetched by this call (resumed parts excluded) and bytes found in the cache. */
  readonly downloadedBytes: number;
  readonly cachedBytes: number;
  /** True when the hub was not asked (offline): the snapshot is the cache's. */
  readonly offline: boolean;
}

/** Fetches the selected files of `repo@revision` into the hub cache; see the module comment. */
export async function downloadSnapshot(options: SnapshotDownloadOptions): Promise<SnapshotResult> {
  const config = options.config ?? resolveHubConfig();
  const revision = options.revision ?? 'main';
  const { repo, signal, onProgress } = options;
  const cache = repoCache(config.cacheDir, repo);
  onProgress?.({ stage: 'resolving', detail: `${repo}@${revision}`, done: 0, total: null, bytesPerSecond: null, etaSeconds: null, message: `asking ${config.endpoint}` });

  if (config.offline) return fromCache(cache, repo, revision, config, 'HF_HUB_OFFLINE is set');
  let snapshot: RepoSnapshot;
  try {
    snapshot = await fetchRepoSnapshot(repo, revision, { config, ...(options.agent ? { agent: options.agent } : {}), ...(signal ? { signal } : {}) });
  } catch (err) {
    signal?.throwIfAborted();
    // Unreachable hub: a snapshot already in the cache still serves (as huggingface_hub does).
    if (isHubUnreachable(err)) {
      const cached = await fromCache(cache, repo, revision, config, 'the hub cannot be reached').catch(() => undefined);
      if (cached) return cached;
    }
    throw err;
  }
  const files = options.select ? options.select(snapshot.files, snapshot) : snapshot.files;
  await ensureDir(path.dirname(cache.blob('x')));
  await writeRef(cache, revision, snapshot.commit);

  const { missing, cachedBytes, remainingBytes: remaining } = await cacheState(cache, files);
  const probe = options.freeSpace ?? statfsFreeSpace;
  await ensureFreeSpaceForAll(probe, [
    { dir: cache.dir, bytes: remaining, what: `downloading ${repo}` },
    ...(options.alsoNeeds?.(files.reduce((s, f) => s + f.size, 0)) ?? []),
  ]);

  const hashes = new HashCache(options.verifyCacheFile ?? null);
  // Download progress counts the whole checkpoint: files already cached are done from the start, so a bar
  // continues where it stopped after a pause or a restart.
  const total = files.reduce((s, f) => s + f.size, 0);
  const rate = new TransferRate();
  let finished = cachedBytes;
  let downloadedBytes = 0;
  for (const f of files) {
    signal?.throwIfAborted();
    const etag = blobName(f);
    const blob = cache.blob(etag);
    if (missing.includes(f)) {
      const fetched = await downloadFile(f, snapshot, cache, config, options, (done, message) => {
        const all = finished + done;
        onProgress?.({ stage: 'downloading', detail: f.path, done: all, total, ...rate.update(all, total), ...(message ? { message } : {}) });
      });
      downloadedBytes += fetched;
      finished += f.size;
      await hashes.store(blob, f.size, (await stat(blob)).mtimeMs, etag);
    } else {
      const st = await stat(blob);
      if ((await hashes.lookup(blob, st.size, st.mtimeMs)) !== etag) {
        const actual = await digestOf(blob, f, (done) => onProgress?.({ stage: 'verifying', detail: f.path, done, total: f.size, bytesPerSecond: null, etaSeconds: null }), signal);
        if (actual !== etag) {
          await rm(blob, { force: true });
          throw mismatch(repo, f, actual, config, 'in the download cache');
        }
        await hashes.store(blob, st.size, st.mtimeMs, etag);
      }
    }
    await linkPointer(blob, cache.pointer(snapshot.commit, f.path));
  }
  await hashes.flush();
  return {
    repo,
    commit: snapshot.commit,
    dir: cache.snapshotDir(snapshot.commit),
    files,
    downloadedBytes,
    cachedBytes,
    offline: false,
  };
}

export interface CacheState {
  /** Files whose blob is not in the cache yet. */
  readonly missing: HubFile[];
  /** Bytes of the files already in the cache. */
  readonly cachedBytes: number;
  /** Bytes still to download: the missing files less what their `.incomplete` files hold. */
  readonly remainingBytes: number;
}

/** What of `files` the cache already holds (whole, or partly in `.incomplete` files). */
export async function cacheState(cache: RepoCache, files: readonly HubFile[]): Promise<CacheState> {
  const missing: HubFile[] = [];
  let cachedBytes = 0;
  let remainingBytes = 0;
  for (const f of files) {
    if (await hasFile(cache.blob(blobName(f)), f.size)) {
      cachedBytes += f.size;
      continue;
    }
    missing.push(f);
    remainingBytes += Math.max(0, f.size - (await sizeOf(cache.incomplete(blobName(f)))));
  }
  return { missing, cachedBytes, remainingBytes };
}

/**
 * Deletes the partial downloads (`blobs/<etag>.incomplete`) of `repo` — what "cancel" means, where aborting
 * means "pause". Partials another process is writing (locked) are kept. Returns the bytes freed.
 */
export async function discardPartialDownloads(repo: string, config: HubConfig = resolveHubConfig()): Promise<number> {
  const cache = repoCache(config.cacheDir, repo);
  const blobs = path.dirname(cache.blob('x'));
  let freed = 0;
  for (const name of await readdir(blobs).catch(() => [] as string[])) {
    const m = /^([0-9a-f]{40}|[0-9a-f]{64})\.incomplete$/.exec(name);
    if (!m) continue; // huggingface_hub's own temporary files have a random suffix: not ours to delete
    let release: () => void;
    try {
      await ensureDir(path.dirname(cache.lock(m[1]!)));
      release = acquireProcessLock(cache.lock(m[1]!), `${repo} (${name})`);
    } catch {
      continue; // being downloaded right now
    }
    try {
      freed += await sizeOf(path.join(blobs, name));
      await rm(path.join(blobs, name), { force: true });
    } finally {
      release();
    }
  }
  return freed;
}

/** Downloads one file into `blobs/<etag>` (resuming its `.incomplete`), checked; returns the bytes fetched now. */
async function downloadFile(
  f: HubFile,
  snapshot: RepoSnapshot,
  cache: RepoCache,
  config: HubConfig,
  options: SnapshotDownloadOptions,
  onBytes: (done: number, message?: string) => void,
): Promise<number> {
  const etag = blobName(f);
  const partial = cache.incomplete(etag);
  const lock = cache.lock(etag);
  await ensureDir(path.dirname(lock));
  const release = acquireProcessLock(lock, `${snapshot.repo}/${f.path}`);
  try {
    const had = await sizeOf(partial);
    await fetchResumable({
      url: resolveUrl(config, snapshot.repo, snapshot.commit, f.path),
      partial,
      expectedBytes: f.size,
      label: `${f.path} of ${snapshot.repo}`,
      headers: hubHeaders(config),
      httpError: (res) => hubHttpError(res, config, snapshot.repo, snapshot.revision, f.path),
      ...(options.agent ? { agent: options.agent } : {}),
      ...(options.retries !== undefined ? { retries: options.retries } : {}),
      ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      onBytes: (done, _total, message) => onBytes(done, message),
    });
    const size = await sizeOf(partial);
    if (size !== f.size) {
      await rm(partial, { force: true });
      throw new SegEarthError('DOWNLOAD_FAILED', `${f.path} of ${snapshot.repo} arrived with ${formatBytes(size)} instead of ${formatBytes(f.size)}; it was deleted.`, {
        hint: 'Run the same command again to download it afresh.',
      });
    }
    const actual = await digestOf(partial, f, (done) => options.onProgress?.({ stage: 'verifying', detail: f.path, done, total: f.size, bytesPerSecond: null, etaSeconds: null }), options.signal);
    if (actual !== etag) {
      await rm(partial, { force: true });
      throw mismatch(snapshot.repo, f, actual, config, `downloaded from ${config.endpoint}`);
    }
    await rename(partial, cache.blob(etag));
    return f.size - had;
  } finally {
    release();
  }
}

/** sha256 for LFS files, the git blob id (sha1 of `blob <size>\0` + content) for plain ones. */
function digestOf(file: string, f: HubFile, onDone: (done: number) => void, signal: AbortSignal | undefined): Promise<string> {
  let done = 0;
  const onBytes = (n: number): void => onDone((done += n));
  return f.sha256
    ? fileDigest(file, { algorithm: 'sha256', onBytes, ...(signal ? { signal } : {}) })
    : fileDigest(file, { algorithm: 'sha1', prefix: `blob ${f.size}\0`, onBytes, ...(signal ? { signal } : {}) });
}

function mismatch(repo: string, f: HubFile, actual: string, config: HubConfig, where: string): SegEarthError {
  const kind = f.sha256 ? 'sha256' : 'git blob id';
  return new SegEarthError(
    'CHECKSUM_MISMATCH',
    `${f.path} of ${repo} ${where} has ${kind} ${actual}, but the hub lists ${blobName(f)}; the file was deleted and nothing was installed.`,
    {
      hint:
        config.endpoint === 'https://huggingface.co'
          ? 'Run the same command again to download it afresh; if it happens again, a proxy may be altering downloads.'
          : `Run the same command again; if it happens again, the mirror ${config.endpoint} (HF_ENDPOINT) serves a damaged copy.`,
    },
  );
}

/** The cached snapshot of `revision`, for offline use; DOWNLOAD_FAILED saying why when there is none. */
async function fromCache(cache: RepoCache, repo: string, revision: string, config: HubConfig, why: string): Promise<SnapshotResult> {
  const commit = await readRef(cache, revision);
  const dir = commit ? cache.snapshotDir(commit) : null;
  const names = dir ? await readdir(dir, { recursive: true }).catch(() => [] as string[]) : [];
  if (!commit || !dir || names.length === 0) {
    throw new SegEarthError('DOWNLOAD_FAILED', `${why}, and ${repo}@${revision} is not in the download cache (${config.cacheDir}).`, {
      hint: config.offline
        ? 'Unset HF_HUB_OFFLINE to download it, or copy a cache that has it (HF_HUB_CACHE).'
        : 'Connect to the network (behind a proxy: set HTTPS_PROXY) and run the same command again.',
    });
  }
  const files: HubFile[] = [];
  for (const name of names.map((n) => n.split(path.sep).join('/'))) {
    const st = await stat(path.join(dir, ...name.split('/'))).catch(() => undefined);
    if (st?.isFile()) files.push({ path: name, size: st.size, sha256: null, gitBlobId: null });
  }
  return { repo, commit, dir, files, downloadedBytes: 0, cachedBytes: files.reduce((s, f) => s + f.size, 0), offline: true };
}
