/**
 * @module inference/models/atomicJson
 * The one way SegEarth writes its small files (settings, model defaults, the hash cache, download records, the
 * hub cache's refs): through
 * write-file-atomic — a temp file in the same folder, written in full, fsync'ed, then renamed over the
 * target — so a crash or a full disk never leaves half a file, and the old content stays until the new one
 * is complete on disk. A failure is OUTPUT_NOT_WRITABLE (or DISK_FULL) naming the file.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { SegEarthError } from '../../shared/errors.js';

/** Writes `value` as pretty-printed JSON (and a final newline) to `file`, atomically and durably. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeTextAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Writes `text` (UTF-8, as given) to `file`, atomically and durably. */
export async function writeTextAtomic(file: string, text: string): Promise<void> {
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, text, { encoding: 'utf8', fsync: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      throw new SegEarthError('DISK_FULL', `Not enough space to write ${file}.`, {
        hint: 'Free some disk space; the previous version of the file was kept.',
        path: file,
        cause: err,
      });
    }
    throw new SegEarthError('OUTPUT_NOT_WRITABLE', `Cannot write ${file}: ${(err as Error).message}.`, {
      hint: 'Check the permissions of the SegEarth data folder, or set SEGEARTH_DATA_DIR to a writable folder.',
      path: file,
      cause: err,
    });
  }
}
