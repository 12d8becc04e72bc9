/**
 * @module inference/models/diskSpace
 * Free-space checks made BEFORE a download or import writes anything. The probe is injectable so tests can
 * simulate a full disk; the real one asks the file system (`fs.statfs`) for the bytes available to this user.
 */
import { mkdir, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { SegEarthError } from '../../shared/errors.js';

/** Bytes available to an unprivileged writer on the file system holding `dir`. */
export type FreeSpaceProbe = (dir: string) => Promise<number>;

/** Headroom kept free beyond what a bundle needs (logs, settings, the OS). */
export const SPACE_MARGIN_BYTES = 64 * 1024 * 1024;

export const statfsFreeSpace: FreeSpaceProbe = async (dir) => {
  const probeDir = await nearestExisting(dir);
  const s = await statfs(probeDir);
  return Number(s.bavail) * Number(s.bsize);
};

/** Throws DISK_FULL when `needBytes` (plus {@link SPACE_MARGIN_BYTES}) does not fit in `dir`. */
export async function ensureFreeSpace(probe: FreeSpaceProbe, dir: string, needBytes: number, what: string): Promise<void> {
  const free = await probe(dir);
  const need = needBytes + SPACE_MARGIN_BYTES;
  if (free < need) {
    throw new SegEarthError(
      'DISK_FULL',
      `Not enough free disk space for ${what}: it needs ${formatBytes(need)} in ${dir}, only ${formatBytes(free)} are free.`,
      {
        hint: 'Free some space, or install to another disk by setting SEGEARTH_MODELS_DIR to a folder there.',
        path: dir,
      },
    );
  }
}

/** One thing that needs room: `bytes` in `dir`, named `what` in the message. */
export interface SpaceNeed {
  readonly dir: string;
  readonly bytes: number;
  readonly what: string;
}

/**
 * Checks several needs at once (a download into one folder, the bundle made from it into another): needs on
 * the same file system are added up and checked together, so two folders on one disk are not each told
 * there is room for their half.
 */
export async function ensureFreeSpaceForAll(probe: FreeSpaceProbe, needs: readonly SpaceNeed[]): Promise<void> {
  const groups = new Map<string, SpaceNeed[]>();
  for (const need of needs) {
    if (need.bytes <= 0) continue;
    const dev = String((await stat(await nearestExisting(need.dir))).dev);
    groups.set(dev, [...(groups.get(dev) ?? []), need]);
  }
  for (const group of groups.values()) {
    const total = group.reduce((s, n) => s + n.bytes, 0);
    const what = group.map((n) => `${n.what} (${formatBytes(n.bytes)})`).join(' and ');
    await ensureFreeSpace(probe, group[0]!.dir, total, what);
  }
}

/** `1.5 GiB`, `230 MiB`, `12 KiB`, `512 B`. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}

/** statfs needs an existing path; the store may not exist yet on first use. */
async function nearestExisting(dir: string): Promise<string> {
  try {
    await mkdir(dir, { recursive: true });
    return dir;
  } catch {
    let d = path.resolve(dir);
    for (;;) {
      try {
        await statfs(d);
        return d;
      } catch {
        const up = path.dirname(d);
        if (up === d) return d;
        d = up;
      }
    }
  }
}
