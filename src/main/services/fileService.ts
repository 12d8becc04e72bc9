/**
 * @module main/services/fileService
 * Lists folders for the browser's file picker (server mode): only inside the allowed roots, folders first,
 * rasters recognised by extension so the analyst sees at a glance what can be opened.
 */
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import type { FileEntry, FileListing } from '../../shared/api/dto.js';
import { SegEarthError } from '../../shared/errors.js';
import type { PathGuard } from './pathGuard.js';

export const RASTER_EXTENSIONS = new Set([
  '.tif', '.tiff', '.gtiff', '.vrt', '.jp2', '.j2k', '.img', '.png', '.jpg', '.jpeg', '.ecw', '.sid', '.nc', '.hdf', '.h5', '.dem', '.asc', '.bil',
]);

export async function listFolder(guard: PathGuard, dir: string | undefined, fallbackRoot: string): Promise<FileListing> {
  const roots = guard.roots.length > 0 ? [...guard.roots] : [fallbackRoot];
  if (dir === undefined && roots.length > 1) {
    return {
      dir: null,
      parent: null,
      roots,
      entries: roots.map((root) => ({ name: root, path: root, kind: 'directory' as const, sizeBytes: null })),
    };
  }
  const folder = await guard.resolveExisting(dir ?? roots[0]!);
  if (!(await stat(folder)).isDirectory()) {
    throw new SegEarthError('BAD_ARGUMENT', `${folder} is a file, not a folder.`, {
      hint: 'List its folder instead, then pick the file in it.',
      path: folder,
    });
  }
  const names = await readdir(folder);
  const entries: FileEntry[] = [];
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const path = join(folder, name);
    // A link to something outside the allowed roots is not listed: its target could not be opened, and its
    // size or kind would tell the client about a file it may not see.
    if ((await lstat(path).catch(() => null))?.isSymbolicLink()) {
      const target = await realpath(path).catch(() => null);
      if (target === null || !guard.allows(target)) continue;
    }
    const info = await stat(path).catch(() => null);
    if (!info) continue;
    if (info.isDirectory()) entries.push({ name, path, kind: 'directory', sizeBytes: null });
    else if (info.isFile()) {
      entries.push({ name, path, kind: RASTER_EXTENSIONS.has(extname(name).toLowerCase()) ? 'raster' : 'other', sizeBytes: info.size });
    }
  }
  entries.sort((a, b) => (a.kind === 'directory') === (b.kind === 'directory') ? a.name.localeCompare(b.name) : a.kind === 'directory' ? -1 : 1);
  const atRoot = roots.includes(folder);
  return { dir: folder, parent: atRoot ? (roots.length > 1 ? null : null) : dirname(folder), roots, entries };
}
