/**
 * @module inference/models/download
 * Downloads one file (a bundle archive) into the store's staging folder, resumably:
 *
 * - the bytes go to `<staging>/<sha256>.partial`, with `<sha256>.partial.json` recording the URL, the total
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
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { SegEarthError } from '../../shared/errors.js';
import { ensureFreeSpace, formatBytes, type FreeSpaceProbe, statfsFreeSpace } from './diskSpace.js';
import { httpGet, type HttpResponse } from '../net/httpGet.js';
import { ensureDir } from './install.js';
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

const PartialRecord = z.object({
  url: z.string(),
  sha256: z.string(),
  totalBytes: z.number().int().nonnegative().nullable(),
  etag: z.string().nullable(),
  lastModified: z.string().nullable(),
});
type PartialRecord = z.infer<typeof PartialRecord>;

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
  const releaseLock = acquireLock(paths.lock, options.url);
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
  await fetchToPartial(options, sha256, paths);
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

async function fetchToPartial(
  options: DownloadOptions,
  sha256: string,
  paths: ReturnType<typeof stagingPaths>,
): Promise<void> {
  const { url, signal, onProgress } = options;
  const probe = options.freeSpace ?? statfsFreeSpace;
  const retries = options.retries ?? 3;
  const retryDelayMs = options.retryDelayMs ?? 1000;

  let record = await readRecord(paths.record, sha256);
  let have = record ? await sizeOf(paths.partial) : 0;
  if (record && record.url !== url) {
    // Same content from another mirror: keep the bytes, but the old server's validators mean nothing here.
    record = { ...record, url, etag: null, lastModified: null };
  }
  if (record && record.totalBytes !== null && have === record.totalBytes) return; // finished before the hash step
  let spaceChecked = false;

  for (let attempt = 0; ; attempt++) {
    signal?.throwIfAborted();
    const headers: Record<string, string> = { 'accept-encoding': 'identity', 'user-agent': 'segearth-desktop' };
    if (have > 0) {
      headers.range = `bytes=${have}-`;
      const validator = record?.etag && !record.etag.startsWith('W/') ? record.etag : record?.lastModified;
      if (validator) headers['if-range'] = validator;
    }
    let res: HttpResponse;
    try {
      res = await httpGet(url, { headers, ...(signal ? { signal } : {}) });
    } catch (err) {
      if (signal?.aborted) throw cancelled(have, err);
      if (attempt < retries) {
        await pause(retryDelayMs * (attempt + 1), signal);
        continue;
      }
      throw failed(url, `could not connect (${describe(err)})`, have, err);
    }

    const status = res.status;
    let start: number;
    let total: number | null;
    if (status === 206) {
      const range = parseContentRange(res.header('content-range'));
      if (!range || range.start !== have) {
        // A range we did not ask for: start again from zero rather than splice.
        res.discard();
        have = 0;
        await rm(paths.partial, { force: true });
        continue;
      }
      start = have;
      total = range.total;
    } else if (status === 416 && have > 0) {
      // Asked beyond the end: the partial is longer than the file. Start afresh.
      res.discard();
      have = 0;
      await rm(paths.partial, { force: true });
      continue;
    } else if (status === 200) {
      start = 0;
      const len = res.header('content-length');
      total = len !== null && /^\d+$/.test(len) ? Number(len) : null;
    } else {
      res.discard();
      if (status >= 500 && attempt < retries) {
        await pause(retryDelayMs * (attempt + 1), signal);
        continue;
      }
      throw failed(url, `the server answered HTTP ${status} ${res.statusMessage}`.trimEnd(), have);
    }

    if (!spaceChecked || start === 0) {
      // The free-space check comes before the body: a disk that cannot hold the bundle gets no byte of it.
      const remaining = total === null ? 0 : total - start;
      const extra = total === null ? 0 : (options.extraBytes?.(total) ?? 0);
      try {
        await ensureFreeSpace(probe, options.stagingDir, remaining + extra, 'this download');
      } catch (err) {
        res.discard();
        throw err;
      }
      spaceChecked = true;
    }

    record = { url, sha256, totalBytes: total, etag: res.header('etag'), lastModified: res.header('last-modified') };
    await writeFile(paths.record, JSON.stringify(record));
    onProgress?.({ phase: 'download', done: start, total, ...(start > 0 ? { message: `resuming at ${formatBytes(start)}` } : {}) });
    const saved = await res.saveTo(paths.partial, start === 0 ? 'w' : 'a', (written) =>
      onProgress?.({ phase: 'download', done: start + written, total }),
    );
    have = start + saved.written;
    if (saved.error !== undefined) {
      if ((saved.error as NodeJS.ErrnoException).code === 'ENOSPC') {
        throw new SegEarthError('DISK_FULL', `The disk filled up while downloading ${url} (${formatBytes(have)} kept).`, {
          hint: 'Free some space and run the same download again: it resumes where it stopped.',
          path: paths.partial,
          cause: saved.error,
        });
      }
      if (signal?.aborted) throw cancelled(have, saved.error);
    }
    if (saved.complete && (total === null || have === total)) return;
    // The connection dropped (an error, or the body ended short of its length).
    if (total !== null && have > total) {
      have = 0;
      await rm(paths.partial, { force: true });
    }
    if (attempt < retries) {
      onProgress?.({ phase: 'download', done: have, total, message: `connection lost at ${formatBytes(have)}, resuming` });
      await pause(retryDelayMs * (attempt + 1), signal);
      continue;
    }
    throw failed(url, `the connection was lost after ${formatBytes(have)}${total !== null ? ` of ${formatBytes(total)}` : ''}`, have, saved.error);
  }
}

function parseContentRange(value: string | null): { start: number; end: number; total: number | null } | undefined {
  const m = value ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value.trim()) : null;
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? null : Number(m[3]) };
}

async function readRecord(file: string, sha256: string): Promise<PartialRecord | undefined> {
  try {
    const parsed = PartialRecord.safeParse(JSON.parse(await readFile(file, 'utf8')));
    return parsed.success && parsed.data.sha256 === sha256 ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

/**
 * One download per bundle at a time (the app and the CLI may both try): an exclusive lock file holding the
 * owner's pid. A lock left by a process that no longer exists is taken over.
 */
function acquireLock(lockFile: string, url: string): () => void {
  for (let tries = 0; tries < 2; tries++) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          unlinkSync(lockFile);
        } catch {
          // Already gone.
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number.parseInt(safeRead(lockFile), 10);
      if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
        throw new SegEarthError('DOWNLOAD_FAILED', `${url} is already being downloaded by process ${owner}.`, {
          hint: 'Wait for that download to finish (or stop it), then try again.',
          path: lockFile,
        });
      }
      // A stale lock: remove it synchronously so the second try sees it gone.
      try {
        unlinkSync(lockFile);
      } catch {
        // Removed by someone else meanwhile.
      }
    }
  }
  throw new SegEarthError('DOWNLOAD_FAILED', `Could not lock ${lockFile} for downloading ${url}.`, {
    hint: 'Delete that file if no other SegEarth process is downloading, then try again.',
    path: lockFile,
  });
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms > 0) await sleep(ms, undefined, signal ? { signal } : {});
}

function failed(url: string, what: string, have: number, cause?: unknown): SegEarthError {
  return new SegEarthError('DOWNLOAD_FAILED', `Downloading ${url} failed: ${what}.`, {
    hint:
      have > 0
        ? `${formatBytes(have)} are kept; run the same download again to resume from there.`
        : 'Check the URL and your network connection, then try again.',
    ...(cause !== undefined ? { cause } : {}),
  });
}

function cancelled(have: number, cause: unknown): SegEarthError {
  return new SegEarthError('CANCELLED', 'The download was cancelled.', {
    hint: have > 0 ? `${formatBytes(have)} are kept; start the same download again to resume.` : undefined,
    cause,
  });
}

function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message ?? String(err);
}
