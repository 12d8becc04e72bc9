/**
 * @module inference/models/download
 * Downloads one file (a bundle archive) into the store's staging folder, resumably:
 *
 * - the bytes go to `<staging>/<sha256>.partial` (the resume loop is `net/resumableFetch`), with `<sha256>.partial.json` recording the URL, the total
 *   size and the server's validators (ETag / Last-Modified);
 * - the free-space check runs on the response headers, BEFORE a byte of the body is written;
 * - a dropped connection is resumed with `Range: bytes=<have>-` (and `If-Range`, so a file that changed on
 *   the server restarts from zero instead of being spliced), automatically up to `retries` times, and again
 *   on the next call after the process exits;
 * - when complete, the file's sha256 must equal the expected one; otherwise the partial and its record are
 *   deleted and CHECKSUM_MISMATCH is thrown. Only a verified file is renamed to `<sha256>.archive`.
 *
 * Partial files are keyed by the expected sha256, so the same bundle resumes even from another mirror.
 */
import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { SegEarthError } from '../../shared/errors.js';
import { cancelled, fetchResumable, sizeOf } from '../net/resumableFetch.js';
import { ensureFreeSpace, type FreeSpaceProbe, statfsFreeSpace } from './diskSpace.js';
import { ensureDir } from './install.js';
import { acquireProcessLock } from './processLock.js';
import type { ProgressListener } from './types.js';
import { sha256File } from './verify.js';

export interface DownloadOptions {
  readonly url: string;
  /** Expected sha256 of the whole file (64 hex digits). */
  readonly sha256: string;
  /** Folder for the `.partial` file; must be on the same file system as the store. */
  readonly stagingDir: string;
  /** Extra bytes needed after the download (e.g. to unpack it), checked together with the download itself. */
  readonly extraBytes?: (totalBytes: number) => number;
  readonly freeSpace?: FreeSpaceProbe;
  /** Automatic resumes after a dropped connection or a 5xx answer (default 3). */
  readonly retries?: number;
  /** Pause before an automatic resume, multiplied by the attempt number (default 1000 ms). */
  readonly retryDelayMs?: number;
  readonly onProgress?: ProgressListener;
  readonly signal?: AbortSignal;
}

/** Paths used for one expected sha256 inside `stagingDir`. */
export function stagingPaths(stagingDir: string, sha256: string): { partial: string; record: string; lock: string; done: string } {
  const base = path.join(stagingDir, sha256);
  return { partial: `${base}.partial`, record: `${base}.partial.json`, lock: `${base}.lock`, done: `${base}.archive` };
}

/**
 * Downloads `url` into the staging folder and returns the path of the complete file, whose sha256 has been
 * checked. The caller installs from it and deletes it.
 */
export async function downloadVerified(options: DownloadOptions): Promise<string> {
  const sha256 = options.sha256.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(sha256)) {
    throw new SegEarthError('BAD_ARGUMENT', `"${options.sha256}" is not a sha256 checksum (64 hexadecimal digits).`, {
      hint: 'Copy the checksum published next to the bundle archive.',
    });
  }
  let parsedUrl: URL;
  try {
    parsedUrl = new URL(options.url);
  } catch {
    parsedUrl = new URL('invalid:');
  }
  if (parsedUrl.protocol !== 'http:' && parsedUrl.protocol !== 'https:') {
    throw new SegEarthError('BAD_ARGUMENT', `"${options.url}" is not an http(s) URL.`, {
      hint: 'To install a bundle archive that is already on this machine, use `segearth models import <file>`.',
    });
  }
  await ensureDir(options.stagingDir);
  const paths = stagingPaths(options.stagingDir, sha256);
  const releaseLock = acquireProcessLock(paths.lock, options.url);
  try {
    return await fetchAndCheck(options, sha256, paths);
  } catch (err) {
    if (options.signal?.aborted && !(err instanceof SegEarthError)) throw cancelled(await sizeOf(paths.partial), err);
    throw err;
  } finally {
    releaseLock();
  }
}

/** Downloads into the partial file, then checks its sha256 and renames it to `<sha256>.archive`. */
async function fetchAndCheck(options: DownloadOptions, sha256: string, paths: ReturnType<typeof stagingPaths>): Promise<string> {
  // A finished download kept from an install that did not complete (e.g. the bundle already existed).
  if ((await sizeOf(paths.done)) > 0) {
    if ((await hashWithProgress(paths.done, options)) === sha256) return paths.done;
    await rm(paths.done, { force: true });
  }
  const probe = options.freeSpace ?? statfsFreeSpace;
  await fetchResumable({
    url: options.url,
    partial: paths.partial,
    record: paths.record,
    recordKey: sha256,
    ...(options.retries !== undefined ? { retries: options.retries } : {}),
    ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    // The free-space check comes before the body: a disk that cannot hold the bundle gets no byte of it.
    beforeBody: async ({ total, remaining }) => {
      const extra = total === null ? 0 : (options.extraBytes?.(total) ?? 0);
      await ensureFreeSpace(probe, options.stagingDir, remaining + extra, 'this download');
    },
    onBytes: (done, total, message) => options.onProgress?.({ phase: 'download', done, total, ...(message ? { message } : {}) }),
  });
  const actual = await hashWithProgress(paths.partial, options);
  if (actual !== sha256) {
    await rm(paths.partial, { force: true });
    await rm(paths.record, { force: true });
    throw new SegEarthError(
      'CHECKSUM_MISMATCH',
      `The file downloaded from ${options.url} has sha256 ${actual}, expected ${sha256}; it was deleted and nothing was installed.`,
      { hint: 'Check that the URL and the checksum belong to the same bundle release, then download again.' },
    );
  }
  await rename(paths.partial, paths.done);
  await rm(paths.record, { force: true });
  return paths.done;
}

async function hashWithProgress(file: string, options: DownloadOptions): Promise<string> {
  const total = (await stat(file)).size;
  let done = 0;
  return sha256File(
    file,
    (n) => {
      done += n;
      options.onProgress?.({ phase: 'hash', done, total, message: 'checking sha256' });
    },
    options.signal,
  );
}
