/**
 * @module inference/models/zip
 * A small streaming zip reader for bundle archives (Windows users zip folders): reads the central directory
 * (ZIP64 included, since weight files exceed 4 GiB), then streams each entry from its offset through
 * `inflateRaw` (method 8) or as is (method 0) into the target folder, checking its CRC-32. Refuses
 * encryption, other compression methods, links, and names that climb out of the target.
 *
 * Zip bombs: an entry stops the moment it inflates past the size the central directory declares (not after
 * it has filled the disk), and the declared sizes together must fit the caller's budget (`maxBytes`: free
 * space, and what the bundle's manifest says its files weigh) before anything is written.
 * Hand-written because yauzl is not a dependency and the reader is small; ZIP64 is needed for weights.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw, crc32, inflateRawSync } from 'node:zlib';
import { SegEarthError } from '../../shared/errors.js';
import type { ProgressListener } from './types.js';

export interface ZipEntry {
  readonly name: string;
  readonly isDirectory: boolean;
  readonly method: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
  /** Unix mode bits when the archive recorded them (0 otherwise). */
  readonly unixMode: number;
  readonly encrypted: boolean;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX32 = 0xffffffff;
const MAX16 = 0xffff;

/** Reads the central directory of `file`. Throws MODEL_INVALID when it is not a readable zip. */
export async function readZipEntries(file: string): Promise<ZipEntry[]> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const tailLen = Math.min(size, 22 + 65535);
    const tail = await readAt(fh, size - tailLen, tailLen);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw damaged(file, 'no end-of-central-directory record');
    let count = tail.readUInt16LE(eocd + 10);
    let cdSize = tail.readUInt32LE(eocd + 12);
    let cdOffset = tail.readUInt32LE(eocd + 16);
    if (count === MAX16 || cdSize === MAX32 || cdOffset === MAX32) {
      const loc = eocd - 20;
      if (loc < 0 || tail.readUInt32LE(loc) !== ZIP64_LOCATOR) throw damaged(file, 'ZIP64 locator missing');
      const recOffset = Number(tail.readBigUInt64LE(loc + 8));
      const rec = await readAt(fh, recOffset, 56);
      if (rec.readUInt32LE(0) !== ZIP64_EOCD) throw damaged(file, 'ZIP64 end record missing');
      count = Number(rec.readBigUInt64LE(32));
      cdSize = Number(rec.readBigUInt64LE(40));
      cdOffset = Number(rec.readBigUInt64LE(48));
    }
    if (cdOffset + cdSize > size) throw damaged(file, 'central directory beyond the end of the file (truncated?)');
    const cd = await readAt(fh, cdOffset, cdSize);
    const entries: ZipEntry[] = [];
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL) throw damaged(file, `central directory entry ${i} is damaged`);
      const madeBy = cd.readUInt16LE(p + 4) >> 8;
      const flags = cd.readUInt16LE(p + 8);
      const method = cd.readUInt16LE(p + 10);
      const crc = cd.readUInt32LE(p + 16);
      let compressedSize = cd.readUInt32LE(p + 20);
      let uncompressed = cd.readUInt32LE(p + 24);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      const external = cd.readUInt32LE(p + 38);
      let offset = cd.readUInt32LE(p + 42);
      const name = cd.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen).replaceAll('\\', '/');
      // ZIP64 extended information: only the fields whose 32-bit value is saturated, in this order.
      let e = p + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = cd.readUInt16LE(e);
        const len = cd.readUInt16LE(e + 2);
        if (id === 0x0001) {
          let q = e + 4;
          if (uncompressed === MAX32) {
            uncompressed = Number(cd.readBigUInt64LE(q));
            q += 8;
          }
          if (compressedSize === MAX32) {
            compressedSize = Number(cd.readBigUInt64LE(q));
            q += 8;
          }
          if (offset === MAX32) offset = Number(cd.readBigUInt64LE(q));
        }
        e += 4 + len;
      }
      entries.push({
        name,
        isDirectory: name.endsWith('/'),
        method,
        crc,
        compressedSize,
        size: uncompressed,
        localHeaderOffset: offset,
        unixMode: madeBy === 3 ? external >>> 16 : 0,
        encrypted: (flags & 0x1) !== 0,
      });
      p = extraEnd + commentLen;
    }
    return entries;
  } finally {
    await fh.close();
  }
}

export interface ZipExtractOptions {
  readonly onProgress?: ProgressListener;
  readonly signal?: AbortSignal;
  /** Most bytes the whole archive may unpack to; larger declared totals are refused before writing. */
  readonly maxBytes?: number;
}

/** The archive declares more than the caller allows (zip/tar bomb, or not enough free space). */
export function unpackTooLarge(file: string, declared: number, maxBytes: number): SegEarthError {
  return new SegEarthError('MODEL_INVALID', `${file} would unpack to ${declared} bytes, more than the ${maxBytes} bytes allowed (its manifest's files, within the free space).`, {
    hint: 'The archive is not a model bundle as exported (or is a decompression bomb); download or copy the bundle again.',
    path: file,
  });
}

/** Inflates one (small) entry into memory, refusing more than `maxBytes`. */
export async function readZipEntry(file: string, entry: ZipEntry, maxBytes: number): Promise<Buffer> {
  if (entry.size > maxBytes) throw damaged(file, `${entry.name} is larger than ${maxBytes} bytes`);
  const fh = await open(file, 'r');
  try {
    const local = await readAt(fh, entry.localHeaderOffset, 30);
    if (local.readUInt32LE(0) !== LOCAL) throw damaged(file, `local header of ${entry.name} is damaged`);
    const dataStart = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    const raw = await readAt(fh, dataStart, entry.compressedSize);
    const data = entry.method === 8 ? inflateRawSync(raw, { maxOutputLength: maxBytes }) : raw;
    if (data.length !== entry.size || (crc32(data) >>> 0) !== entry.crc) throw damaged(file, `${entry.name} fails its CRC-32 / size check`);
    return data;
  } catch (err) {
    if (err instanceof SegEarthError) throw err;
    throw damaged(file, `${entry.name} cannot be decompressed (${(err as Error).message})`);
  } finally {
    await fh.close();
  }
}

/** Extracts every entry of `file` into the existing folder `dest` (see the module comment for the rules). */
export async function extractZip(file: string, dest: string, options: ZipExtractOptions = {}): Promise<void> {
  const entries = await readZipEntries(file);
  for (const e of entries) {
    const type = e.unixMode & 0o170000;
    if (e.encrypted) throw refused(file, `${e.name} is encrypted`);
    if (type !== 0 && type !== 0o100000 && type !== 0o040000) throw refused(file, `${e.name} is not a plain file or folder`);
    if (!e.isDirectory && e.method !== 0 && e.method !== 8) {
      throw new SegEarthError('UNSUPPORTED_FORMAT', `${file} uses compression method ${e.method} for ${e.name}; only stored and deflate are supported.`, {
        hint: 'Re-create the archive with standard zip compression, or as a .tar.gz.',
        path: file,
      });
    }
    if (climbsOut(e.name)) throw refused(file, `${e.name} points outside the archive folder`);
  }
  const declared = entries.reduce((s, e) => s + e.size, 0);
  if (options.maxBytes !== undefined && declared > options.maxBytes) throw unpackTooLarge(file, declared, options.maxBytes);
  const total = entries.reduce((s, e) => s + e.compressedSize, 0);
  let done = 0;
  const fh = await open(file, 'r');
  try {
    for (const e of entries) {
      options.signal?.throwIfAborted();
      const target = path.join(dest, ...e.name.split('/').filter((s) => s.length > 0));
      if (e.isDirectory) {
        await mkdir(target, { recursive: true });
        continue;
      }
      await mkdir(path.dirname(target), { recursive: true });
      const local = await readAt(fh, e.localHeaderOffset, 30);
      if (local.readUInt32LE(0) !== LOCAL) throw damaged(file, `local header of ${e.name} is damaged`);
      const dataStart = e.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
      let crc = 0;
      let written = 0;
      const check = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          crc = crc32(chunk, crc);
          written += chunk.length;
          // Stop at once: an entry that inflates past its declared size is a bomb or damaged.
          if (written > e.size) cb(damaged(file, `${e.name} inflates past its declared ${e.size} bytes`));
          else cb(null, chunk);
        },
      });
      const count = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          done += chunk.length;
          options.onProgress?.({ phase: 'extract', done, total, message: e.name });
          cb(null, chunk);
        },
      });
      const source =
        e.compressedSize > 0 ? createReadStream(file, { start: dataStart, end: dataStart + e.compressedSize - 1 }) : emptyStream();
      const stages: NodeJS.ReadWriteStream[] = e.method === 8 && e.compressedSize > 0 ? [count, createInflateRaw(), check] : [count, check];
      try {
        await pipeline([source, ...stages, createWriteStream(target)], options.signal ? { signal: options.signal } : {});
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC' || (err as Error).name === 'AbortError' || err instanceof SegEarthError) throw err;
        throw damaged(file, `${e.name} cannot be decompressed (${(err as Error).message})`);
      }
      if (written !== e.size || (crc >>> 0) !== e.crc) throw damaged(file, `${e.name} fails its CRC-32 / size check`);
    }
  } finally {
    await fh.close();
  }
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

function emptyStream(): NodeJS.ReadableStream {
  return (async function* () {})() as unknown as NodeJS.ReadableStream;
}

function climbsOut(name: string): boolean {
  return name.startsWith('/') || /^[A-Za-z]:/.test(name) || name.split('/').includes('..');
}

function damaged(file: string, why: string): SegEarthError {
  return new SegEarthError('MODEL_INVALID', `${file} is not a readable zip archive: ${why}.`, {
    hint: 'The archive is damaged or truncated; download or copy it again.',
    path: file,
  });
}

function refused(file: string, why: string): SegEarthError {
  return new SegEarthError('MODEL_INVALID', `${file} holds an entry a model bundle never has: ${why}.`, {
    hint: 'Only plain files and folders are allowed in a bundle archive (no links, no absolute or ".." paths, no encryption).',
    path: file,
  });
}
