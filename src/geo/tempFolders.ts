/**
 * @module geo/tempFolders
 * Temporary work folders that a killed run does not leave behind for ever. Each folder's name carries the
 * host and process id of its creator (`<prefix><host>-<pid>-XXXXXX`); before creating a new one, folders of
 * the same prefix are removed when their creator is gone: same host and the process no longer exists, or
 * (from another host, or a name this version did not write) untouched for a week. A live process's folder,
 * here or on another machine sharing the folder, is never taken.
 */
import { hostname } from 'node:os';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SegEarthError } from '../shared/errors.js';

const WEEK_MS = 7 * 24 * 3600 * 1000;
/** A just-created folder of a process that died at once is kept this long anyway (clock and pid reuse slack). */
const GRACE_MS = 60 * 1000;

const HOST = hostname().replace(/[^A-Za-z0-9]+/g, '').slice(0, 16) || 'host';

/** Whether a process with this id exists (EPERM: it exists but belongs to another user). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the folder `name` (starting with `prefix`) belongs to a run that is over. */
function isStale(name: string, prefix: string, ageMs: number): boolean {
  if (ageMs > WEEK_MS) return true;
  const m = /^([A-Za-z0-9]+)-(\d+)-/.exec(name.slice(prefix.length));
  if (!m || m[1] !== HOST || ageMs < GRACE_MS) return false;
  const pid = Number(m[2]);
  return pid !== process.pid && !isProcessAlive(pid);
}

/** Removes the stale `<prefix>*` folders in `parent` (see the module comment). Never throws. */
export async function removeStaleTempFolders(parent: string, prefix: string): Promise<void> {
  const names = await readdir(parent).catch(() => [] as string[]);
  const now = Date.now();
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const path = join(parent, name);
    const info = await stat(path).catch(() => null);
    if (!info?.isDirectory()) continue;
    if (isStale(name, prefix, now - info.mtimeMs)) await rm(path, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * Cleans stale folders of `prefix` in `parent`, then creates a new one named for this host and process.
 * A full disk is DISK_FULL and a folder that cannot be written OUTPUT_NOT_WRITABLE (output problems, exit 4).
 */
export async function makeTempFolder(parent: string, prefix: string): Promise<string> {
  await removeStaleTempFolders(parent, prefix);
  try {
    return await mkdtemp(join(parent, `${prefix}${HOST}-${process.pid}-`));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      throw new SegEarthError('DISK_FULL', `Not enough space for temporary files in ${parent}.`, {
        hint: 'Free some disk space there, or point TMPDIR (TEMP on Windows) to a disk with room.',
        path: parent,
        cause: err,
      });
    }
    throw new SegEarthError('OUTPUT_NOT_WRITABLE', `Cannot create a temporary folder in ${parent}: ${(err as Error).message}.`, {
      hint: 'Give your user write permission there, or point TMPDIR (TEMP on Windows) to a writable folder.',
      path: parent,
      cause: err,
    });
  }
}
