/**
 * @module inference/net/resumableFetch
 * Downloads one URL into a partial file that survives a dropped connection, a cancelled call and the end
 * of the process — the one resume loop behind `segearth models download` (bundle archives) and the model hub
 * (`models get`):
 *
 * - a partial of `have` bytes is continued with `Range: bytes=<have>-`, with `If-Range` when a strong ETag
 *   or a Last-Modified date is known, so a file that changed on the server restarts from zero instead of
 *   being spliced; a 200 answer (Range ignored) or a Content-Range that does not start at `have` restarts too;
 * - `beforeBody` runs on the response headers BEFORE a byte of the body is written (free-space checks);
 * - a dropped connection or a 5xx answer is retried `retries` times in the call, resuming each time;
 * - the validators (URL, size, ETag, Last-Modified) may be kept in a small JSON record next to the partial,
 *   so a later process resumes with If-Range too; without a record (content-addressed names, where the
 *   content cannot change) later processes resume with Range alone.
 *
 * Checksums are the caller's business: this module only guarantees that the partial holds a prefix of one
 * version of the file, or the whole of it.
 */
import { readFile, rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { SegEarthError } from '../../shared/errors.js';
import { writeJsonAtomic } from '../models/atomicJson.js';
import { formatBytes } from '../models/diskSpace.js';
import { httpGet, type HttpResponse } from './httpGet.js';

export interface ResumableFetchOptions {
  readonly url: string;
  /** File the bytes go to (appended to when resuming). */
  readonly partial: string;
  /** JSON file remembering the server's validators across processes; omit for content-addressed files. */
  readonly record?: string;
  /** A key stored in the record: a record with another key belongs to another file and is ignored. */
  readonly recordKey?: string;
  /** Size the file must have, when known beforehand (a longer partial is discarded). */
  readonly expectedBytes?: number;
  /** Name of the file in messages (default: the URL). */
  readonly label?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly agent?: Dispatcher;
  /** Automatic resumes after a dropped connection or a 5xx answer (default 3). */
  readonly retries?: number;
  /** Pause before an automatic resume, multiplied by the attempt number (default 1000 ms). */
  readonly retryDelayMs?: number;
  /**
   * Called with the response's total size and the offset it starts at, before the body is written; throw to
   * refuse (the response is dropped). `remaining` is what this response will add to the partial.
   */
  readonly beforeBody?: (info: { total: number | null; start: number; remaining: number }) => Promise<void>;
  /** Maps a non-2xx, non-5xx answer to an error (default: DOWNLOAD_FAILED with the status). */
  readonly httpError?: (res: HttpResponse) => Promise<SegEarthError> | SegEarthError;
  /** Bytes now in the partial, out of `total` (null when unknown); `message` on resumes. */
  readonly onBytes?: (done: number, total: number | null, message?: string) => void;
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

/** Resolves when `partial` holds the whole file (its size). Errors are SegEarthErrors; the partial is kept. */
export async function fetchResumable(options: ResumableFetchOptions): Promise<number> {
  const { url, partial, signal } = options;
  const label = options.label ?? url;
  const retries = options.retries ?? 3;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const key = options.recordKey ?? '';
  const expected = options.expectedBytes ?? null;

  let record = options.record ? await readRecord(options.record, key) : undefined;
  let have = record || !options.record ? await sizeOf(partial) : 0;
  if (record && record.url !== url) {
    // Same content from another mirror: keep the bytes, but the old server's validators mean nothing here.
    record = { ...record, url, etag: null, lastModified: null };
  }
  const known = expected ?? record?.totalBytes ?? null;
  if (known !== null && have > known) {
    have = 0;
    await rm(partial, { force: true });
  }
  if (known !== null && have === known && (record || !options.record)) return have; // finished before the hash step
  let checked = false;

  for (let attempt = 0; ; attempt++) {
    signal?.throwIfAborted();
    const headers: Record<string, string> = { 'accept-encoding': 'identity', 'user-agent': 'segearth-desktop', ...options.headers };
    if (have > 0) {
      headers.range = `bytes=${have}-`;
      const validator = record?.etag && !record.etag.startsWith('W/') ? record.etag : record?.lastModified;
      if (validator) headers['if-range'] = validator;
    }
    let res: HttpResponse;
    try {
      res = await httpGet(url, { headers, ...(signal ? { signal } : {}), ...(options.agent ? { agent: options.agent } : {}) });
    } catch (err) {
      if (signal?.aborted) throw cancelled(have, err);
      if (attempt < retries) {
        await pause(retryDelayMs * (attempt + 1), signal);
        continue;
      }
      throw failed(label, `could not connect (${describeNetworkError(err)})`, have, err);
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
        await rm(partial, { force: true });
        continue;
      }
      start = have;
      total = range.total;
    } else if (status === 416 && have > 0) {
      // Asked beyond the end: the partial is longer than the file. Start afresh.
      res.discard();
      have = 0;
      await rm(partial, { force: true });
      continue;
    } else if (status === 200) {
      start = 0;
      const len = res.header('content-length');
      total = len !== null && /^\d+$/.test(len) ? Number(len) : null;
    } else if (status >= 500 || status === 429) {
      res.discard();
      if (attempt < retries) {
        await pause(retryDelayMs * (attempt + 1), signal);
        continue;
      }
      throw failed(label, `the server answered HTTP ${status} ${res.statusMessage}`.trimEnd(), have);
    } else {
      const err = options.httpError ? await options.httpError(res) : failed(label, `the server answered HTTP ${status} ${res.statusMessage}`.trimEnd(), have);
      res.discard();
      throw err;
    }
    total ??= expected;

    if (!checked || start === 0) {
      // The caller's checks (free space) come before the body: a refused download gets no byte of it.
      try {
        await options.beforeBody?.({ total, start, remaining: total === null ? 0 : total - start });
      } catch (err) {
        res.discard();
        throw err;
      }
      checked = true;
    }

    record = { url, sha256: key, totalBytes: total, etag: res.header('etag'), lastModified: res.header('last-modified') };
    if (options.record) await writeJsonAtomic(options.record, record);
    options.onBytes?.(start, total, start > 0 ? `resuming at ${formatBytes(start)}` : undefined);
    const saved = await res.saveTo(partial, start === 0 ? 'w' : 'a', (written) => options.onBytes?.(start + written, total));
    have = start + saved.written;
    if (saved.error !== undefined) {
      if ((saved.error as NodeJS.ErrnoException).code === 'ENOSPC') {
        throw new SegEarthError('DISK_FULL', `The disk filled up while downloading ${label} (${formatBytes(have)} kept).`, {
          hint: 'Free some space and run the same download again: it resumes where it stopped.',
          path: partial,
          cause: saved.error,
        });
      }
      if (signal?.aborted) throw cancelled(have, saved.error);
    }
    if (saved.complete && (total === null || have === total)) return have;
    // The connection dropped (an error, or the body ended short of its length).
    if (total !== null && have > total) {
      have = 0;
      await rm(partial, { force: true });
    }
    if (attempt < retries) {
      options.onBytes?.(have, total, `connection lost at ${formatBytes(have)}, resuming`);
      await pause(retryDelayMs * (attempt + 1), signal);
      continue;
    }
    throw failed(label, `the connection was lost after ${formatBytes(have)}${total !== null ? ` of ${formatBytes(total)}` : ''}`, have, saved.error);
  }
}

function parseContentRange(value: string | null): { start: number; end: number; total: number | null } | undefined {
  const m = value ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value.trim()) : null;
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? null : Number(m[3]) };
}

async function readRecord(file: string, key: string): Promise<PartialRecord | undefined> {
  try {
    const parsed = PartialRecord.safeParse(JSON.parse(await readFile(file, 'utf8')));
    return parsed.success && parsed.data.sha256 === key ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Size of a file, 0 when it does not exist. */
export async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms > 0) await sleep(ms, undefined, signal ? { signal } : {});
}

function failed(label: string, what: string, have: number, cause?: unknown): SegEarthError {
  return new SegEarthError('DOWNLOAD_FAILED', `Downloading ${label} failed: ${what}.`, {
    hint:
      have > 0
        ? `${formatBytes(have)} are kept; run the same download again to resume from there.`
        : 'Check the address and your network connection (and HTTPS_PROXY if you are behind a proxy), then try again.',
    ...(cause !== undefined ? { cause } : {}),
  });
}

/** The CANCELLED error of an aborted download that keeps `have` bytes for a later resume. */
export function cancelled(have: number, cause: unknown): SegEarthError {
  return new SegEarthError('CANCELLED', 'The download was cancelled.', {
    hint: have > 0 ? `${formatBytes(have)} are kept; start the same download again to resume.` : undefined,
    cause,
  });
}

/** `ECONNREFUSED`, `ENOTFOUND`, a proxy's refusal…: the most specific words of a network error. */
export function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as { code?: string }).code ?? (err as Error).message ?? String(err);
}
