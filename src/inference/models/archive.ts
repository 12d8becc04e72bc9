/**
 * @module inference/models/archive
 * Unpacks a bundle archive (`.tar`, `.tar.gz` / `.tgz`, `.zip`; recognised by content, not by name) into a
 * folder. Tar goes through the `tar` package, zip through our own reader (`./zip`).
 * Only regular files and folders are extracted: links, devices and paths that climb out of the target
 * (`..`, absolute names) are refused, so an archive cannot write outside the staging folder.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract, type ReadEntry } from 'tar';
import { SegEarthError } from '../../shared/errors.js';
import type { ProgressListener } from './types.js';
import { extractZip } from './zip.js';

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
    if (kind === 'zip') await extractZip(file, dest, options);
    else await extractTar(file, dest, options, refused);
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
  const unpack = extract({
    cwd: dest,
    strict: true,
    preservePaths: false,
    preserveOwner: false,
    filter: (entryPath: string, entry: unknown) => {
      const type = (entry as ReadEntry).type;
      const ok = (type === 'File' || type === 'OldFile' || type === 'Directory') && !climbsOut(entryPath);
      if (!ok) refused.push(`${entryPath} (${String(type)})`);
      return ok;
    },
  });
  await pipeline(createReadStream(file, options.signal ? { signal: options.signal } : {}), counter, unpack);
}

function climbsOut(entryPath: string): boolean {
  const parts = entryPath.replaceAll('\\', '/').split('/');
  return entryPath.startsWith('/') || /^[A-Za-z]:/.test(entryPath) || parts.includes('..');
}
