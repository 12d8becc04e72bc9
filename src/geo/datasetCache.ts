/**
 * @module geo/datasetCache
 * Keeps a few read-only GDAL dataset handles open, each with its {@link RasterInfo} read once, so window reads
 * and tiles do not reopen the file or touch synchronous getters (gdal-async ASYNCIO lesson: read metadata into
 * a DTO first, then only issue async reads).
 *
 * A handle is reused while the file's size and mtime (and those of its `.ovr` sidecar) are unchanged, so an
 * edited file or freshly built overviews are picked up. Operations on one handle are serialised with a small
 * queue: gdal-async locks a dataset per call, and queueing in JS instead of on the libuv pool avoids starving
 * the pool's threads (ASYNCIO.md "Manual I/O scheduling").
 */
import fs from 'node:fs/promises';
import gdal from 'gdal-async';
import type { RasterInfo } from '../shared/rasterInfo.js';
import { openRaster } from './openRaster.js';
import { classifyOpenError, isGdalVirtualPath, statRasterPath } from './rasterErrors.js';

export interface RasterHandle {
  path: string;
  info: RasterInfo;
  /** Identity of the file content: path, size, mtime, .ovr mtime. Used as a cache key for derived data. */
  key: string;
  /** Run `fn` with exclusive use of the dataset. */
  use<T>(fn: (ds: gdal.Dataset) => Promise<T>): Promise<T>;
}

interface Entry {
  handle: RasterHandle;
  ds: gdal.Dataset;
  busy: number;
  closed: boolean;
}

const MAX_OPEN = 8;
const entries = new Map<string, Entry>();
const pending = new Map<string, Promise<Entry>>();

async function ovrStamp(path: string): Promise<string> {
  if (isGdalVirtualPath(path)) return '';
  try {
    const st = await fs.stat(`${path}.ovr`);
    return `${st.size}:${st.mtimeMs}`;
  } catch {
    return '-';
  }
}

async function contentKey(path: string): Promise<string> {
  const st = await statRasterPath(path);
  return `${path}|${st.size}|${st.mtimeMs}|${await ovrStamp(path)}`;
}

function closeEntry(e: Entry): void {
  if (e.closed) return;
  e.closed = true;
  // Close once no queued operation still needs the dataset.
  const tryClose = (): void => {
    if (e.busy === 0) e.ds.close();
    else setTimeout(tryClose, 50);
  };
  tryClose();
}

async function openEntry(path: string, key: string): Promise<Entry> {
  const info = await openRaster(path);
  let ds: gdal.Dataset;
  try {
    ds = await gdal.openAsync(path, 'r');
  } catch (err) {
    throw classifyOpenError(path, err);
  }
  let tail: Promise<unknown> = Promise.resolve();
  const entry: Entry = {
    ds,
    busy: 0,
    closed: false,
    handle: {
      path,
      info,
      key,
      use<T>(fn: (d: gdal.Dataset) => Promise<T>): Promise<T> {
        entry.busy++;
        const run = tail.then(() => fn(ds));
        tail = run.catch(() => undefined);
        return run.finally(() => {
          entry.busy--;
        });
      },
    },
  };
  return entry;
}

/** Get an open handle for `path` (opening and describing it on first use). */
export async function acquireRaster(path: string): Promise<RasterHandle> {
  const key = await contentKey(path);
  const cached = entries.get(path);
  if (cached && cached.handle.key === key) {
    // LRU: move to the end.
    entries.delete(path);
    entries.set(path, cached);
    return cached.handle;
  }
  if (cached) {
    entries.delete(path);
    closeEntry(cached);
  }
  const inflight = pending.get(key);
  if (inflight) return (await inflight).handle;
  const p = openEntry(path, key);
  pending.set(key, p);
  try {
    const entry = await p;
    entries.set(path, entry);
    while (entries.size > MAX_OPEN) {
      const [oldest, e] = entries.entries().next().value as [string, Entry];
      entries.delete(oldest);
      closeEntry(e);
    }
    return entry.handle;
  } finally {
    pending.delete(key);
  }
}

/** Forget and close the handle of `path` (e.g. after building overviews). */
export function releaseRaster(path: string): void {
  const e = entries.get(path);
  if (e) {
    entries.delete(path);
    closeEntry(e);
  }
}

/** Close every cached handle (tests, shutdown). */
export function closeAllRasters(): void {
  for (const e of entries.values()) closeEntry(e);
  entries.clear();
}
