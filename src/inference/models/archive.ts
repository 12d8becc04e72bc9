/**
 * @module inference/models/archive
 * Unpacks a bundle archive (`.tar`, `.tar.gz` / `.tgz`, `.zip`; recognised by content, not by name) into a
 * folder. Tar goes through the `tar` package, zip through our own reader (`./zip`).
 * Only regular files and folders are extracted: links, devices and paths that climb out of the target
 * (`..`, absolute names) are refused, so an archive cannot write outside the staging folder.
 *
 * Decompression bombs are stopped before they fill the disk: the archive's `manifest.json` is read first
 * (a bundle's manifest lists every file with its size), and the entries together may not unpack to more
 * than those sizes plus a little slack, nor to more than the caller's `maxBytes` (the free space). Tar
 * headers declare each entry's size (the tar parser reads no more), so the sum is checked as headers come;
 * zip entries are checked against the central directory's sizes (see `./zip`).
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract, Parser, type ReadEntry } from 'tar';
import { SegEarthError } from '../../shared/errors.js';
import type { ProgressListener } from './types.js';
import { extractZip, readZipEntries, readZipEntry, unpackTooLarge } from './zip.js';

export type ArchiveKind = 'tar' | 'tar.gz' | 'zip' | 'unknown';

/** Looks at the first bytes: gzip magic, zip magic, or the `ustar` mark of a tar header. */
export async function sniffArchive(file: string): Promise<ArchiveKind> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await handle.read(head, 0, 512, 0);
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'tar.gz';
    if (bytesRead >= 4 && head.readUInt32LE(0) === 0x04034b50) return 'zip';
    if (bytesRead >= 262 && head.toString('latin1', 257, 262) === 'ustar') return 'tar';
    return 'unknown';
  } finally {
    await handle.close();
  }
}

export interface ExtractOptions {
  readonly onProgress?: ProgressListener;
  readonly signal?: AbortSignal;
  /** Most bytes the archive may unpack to (the free space); the manifest lowers it further. */
  readonly maxBytes?: number;
}

/** Largest manifest.json read into memory, and the bytes allowed beyond the files it lists. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const SLACK_BYTES = 16 * 1024 * 1024;
const MANIFEST_NAME = /^(\.\/)?([^/]+\/)?manifest\.json$/;

/** Sum of the `bytes` the manifest lists, plus the manifest and some slack; null when it cannot be told. */
function budgetFromManifest(text: Buffer): number | null {
  try {
    const json = JSON.parse(text.toString('utf8')) as { files?: Array<{ bytes?: unknown }> };
    if (!Array.isArray(json.files)) return null;
    let sum = 0;
    for (const f of json.files) {
      if (typeof f.bytes !== 'number' || !Number.isFinite(f.bytes) || f.bytes < 0) return null;
      sum += f.bytes;
    }
    return sum + text.length + SLACK_BYTES;
  } catch {
    return null;
  }
}

/** The archive's manifest.json (top level or in one folder), read without unpacking anything else. */
async function readManifest(file: string, kind: ArchiveKind): Promise<Buffer | null> {
  if (kind === 'zip') {
    const entry = (await readZipEntries(file)).find((e) => MANIFEST_NAME.test(e.name));
    return entry ? readZipEntry(file, entry, MAX_MANIFEST_BYTES) : null;
  }
  // Tar: stream the headers until the manifest went by (the exporter writes it first), then stop reading.
  const stop = new AbortController();
  let found: Buffer | null = null;
  const parser = new Parser({
    onReadEntry: (entry: ReadEntry) => {
      if (found !== null || entry.type !== 'File' || !MANIFEST_NAME.test(entry.path) || entry.size > MAX_MANIFEST_BYTES) {
        entry.resume();
        return;
      }
      const chunks: Buffer[] = [];
      entry.on('data', (c: Buffer) => chunks.push(c));
      entry.on('end', () => {
        found = Buffer.concat(chunks);
        stop.abort();
      });
    },
  });
  try {
    await pipeline(createReadStream(file, { signal: stop.signal }), parser as unknown as NodeJS.WritableStream);
  } catch (err) {
    if (!stop.signal.aborted) throw err;
  }
  return found;
}

/** Extracts `file` into the existing folder `dest`. Throws UNSUPPORTED_FORMAT / MODEL_INVALID with a hint. */
export async function extractArchive(file: string, dest: string, options: ExtractOptions = {}): Promise<void> {
  const kind = await sniffArchive(file);
  if (kind === 'unknown') {
    throw new SegEarthError('UNSUPPORTED_FORMAT', `${file} is neither a folder nor a .tar.gz / .tar / .zip archive.`, {
      hint: 'Import the bundle folder written by the exporter, or an archive of it.',
      path: file,
    });
  }
  const refused: string[] = [];
  try {
    const manifest = await readManifest(file, kind);
    const fromManifest = manifest ? budgetFromManifest(manifest) : null;
    const maxBytes = Math.min(options.maxBytes ?? Infinity, fromManifest ?? Infinity);
    const bounded = { ...options, ...(Number.isFinite(maxBytes) ? { maxBytes } : {}) };
    if (kind === 'zip') await extractZip(file, dest, bounded);
    else await extractTar(file, dest, bounded, refused);
  } catch (err) {
    if (err instanceof SegEarthError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOSPC') {
      throw new SegEarthError('DISK_FULL', `The disk filled up while unpacking ${file}.`, {
        hint: 'Free some space and import again.',
        path: dest,
        cause: err,
      });
    }
    if (options.signal?.aborted) throw new SegEarthError('CANCELLED', 'The import was cancelled.', { cause: err });
    throw new SegEarthError('MODEL_INVALID', `${file} could not be unpacked: ${(err as Error).message}.`, {
      hint: 'The archive is damaged or truncated; download or copy it again.',
      path: file,
      cause: err,
    });
  }
  if (refused.length > 0) {
    throw new SegEarthError('MODEL_INVALID', `${file} holds entries a model bundle never has: ${refused.slice(0, 3).join(', ')}.`, {
      hint: 'Only plain files and folders are allowed in a bundle archive (no links, no absolute or ".." paths).',
      path: file,
    });
  }
}

async function extractTar(file: string, dest: string, options: ExtractOptions, refused: string[]): Promise<void> {
  const total = (await stat(file)).size;
  let done = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      done += chunk.length;
      options.onProgress?.({ phase: 'extract', done, total });
      cb(null, chunk);
    },
  });
  // Header sizes are what the parser will write: their running sum is checked before each entry is written.
  const budget = new AbortController();
  let declared = 0;
  let tooLarge: SegEarthError | null = null;
  const unpack = extract({
    cwd: dest,
    strict: true,
    preservePaths: false,
    preserveOwner: false,
    filter: (entryPath: string, entry: unknown) => {
      const { type, size } = entry as ReadEntry;
      const ok = (type === 'File' || type === 'OldFile' || type === 'Directory') && !climbsOut(entryPath);
      if (!ok) refused.push(`${entryPath} (${String(type)})`);
      if (ok && type !== 'Directory') declared += size;
      if (options.maxBytes !== undefined && declared > options.maxBytes && tooLarge === null) {
        tooLarge = unpackTooLarge(file, declared, options.maxBytes);
        budget.abort();
        return false;
      }
      return ok && tooLarge === null;
    },
  });
  const signal = options.signal ? AbortSignal.any([options.signal, budget.signal]) : budget.signal;
  try {
    await pipeline(createReadStream(file, { signal }), counter, unpack);
  } catch (err) {
    if (tooLarge) throw tooLarge;
    throw err;
  }
  if (tooLarge) throw tooLarge;
}

function climbsOut(entryPath: string): boolean {
  const parts = entryPath.replaceAll('\\', '/').split('/');
  return entryPath.startsWith('/') || /^[A-Za-z]:/.test(entryPath) || parts.includes('..');
}
