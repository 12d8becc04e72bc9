/**
 * @module inference/batch/sceneDiscovery
 * Finds the scenes of a batch: every raster file under a folder (recursively), filtered by include / exclude
 * globs matched against the path relative to that folder (`**\/2024-*.tif`, `!**\/thumbs/**`). Returned sorted,
 * so every run, shard and resume sees the same list in the same order.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import picomatch from 'picomatch';
import { SegEarthError } from '../../shared/errors.js';

/** Extensions of raster formats GDAL reads that analysts keep scenes in. Overridable with `include`. */
export const DEFAULT_SCENE_PATTERNS = [
  '**/*.{tif,tiff,TIF,TIFF,jp2,J2K,j2k,vrt,img,IMG,png,PNG,jpg,jpeg,JPG,JPEG,ecw,sid,nc,hdf,h5,dat,bil,kea}',
];

export interface SceneDiscoveryOptions {
  /** Globs relative to the folder; a file is a scene when it matches one. Default: common raster extensions. */
  include?: string[];
  /** Globs relative to the folder; a matching file is skipped. Sidecars (.ovr, .aux.xml, .msk) are always skipped. */
  exclude?: string[];
}

const SIDECARS = picomatch(['**/*.ovr', '**/*.aux.xml', '**/*.msk', '**/*.tmp', '**/.*', '**/.*/**'], { dot: true });

/** Relative paths with forward slashes on every OS (stable across Windows and Linux shards). */
function toPosix(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}

export async function discoverScenes(folder: string, options: SceneDiscoveryOptions = {}): Promise<string[]> {
  const info = await stat(folder).catch(() => null);
  if (!info) {
    throw new SegEarthError('NOT_FOUND', `The input folder ${folder} does not exist.`, {
      hint: 'Check the path, or choose the folder that holds your scenes.',
      path: folder,
    });
  }
  if (!info.isDirectory()) {
    throw new SegEarthError('BAD_ARGUMENT', `${folder} is a file, not a folder.`, {
      hint: 'Batch processing takes a folder of scenes; to process one scene use `segearth ask`.',
      path: folder,
    });
  }
  const include = picomatch(options.include?.length ? options.include : DEFAULT_SCENE_PATTERNS, { dot: false });
  const exclude = options.exclude?.length ? picomatch(options.exclude, { dot: true }) : () => false;
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  const scenes: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile() && !entry.isSymbolicLink()) continue;
    // Node 20 names the parent folder `path` (deprecated), newer releases `parentPath`.
    const parent = (entry as { parentPath?: string }).parentPath ?? (entry as { path?: string }).path ?? folder;
    const full = join(parent, entry.name);
    const rel = toPosix(relative(folder, full));
    if (SIDECARS(rel) || !include(rel) || exclude(rel)) continue;
    // Scenes linked into the folder count (a broken link is listed and fails with NOT_FOUND in the summary).
    if (entry.isSymbolicLink() && (await stat(full).catch(() => null))?.isDirectory()) continue;
    scenes.push(rel);
  }
  return scenes.sort();
}
