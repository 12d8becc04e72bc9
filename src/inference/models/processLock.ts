/**
 * @module inference/models/processLock
 * One process at a time on a download (the app and the CLI may both try): an exclusive lock file holding the
 * owner's pid, created with O_EXCL. A lock left by a process that no longer exists is taken over. Hand-written
 * because it must also work where flock does not (network file systems) and say WHICH process holds it.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { SegEarthError } from '../../shared/errors.js';
import { isProcessAlive } from '../../geo/tempFolders.js';

/** Takes the lock or throws DOWNLOAD_FAILED naming the owner; returns the release function. */
export function acquireProcessLock(lockFile: string, what: string): () => void {
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
      if (Number.isInteger(owner) && owner !== process.pid && isProcessAlive(owner)) {
        throw new SegEarthError('DOWNLOAD_FAILED', `${what} is already being downloaded by process ${owner}.`, {
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
  throw new SegEarthError('DOWNLOAD_FAILED', `Could not lock ${lockFile} for downloading ${what}.`, {
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

