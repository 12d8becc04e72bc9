/**
 * @module geo/overviews
 * Overviews ("pyramids") on request, like QGIS's "Build pyramids": an external `<raster>.ovr` sidecar, never a
 * change to the source file.
 *
 * How: the source is wrapped in a VRT inside a hidden temporary folder next to it and that VRT is opened
 * read-only, so GDAL writes the overviews to `<tmp>/<name>.vrt.ovr` (same pixel grid and bands as the source).
 * Once complete, the file is hard-linked to `<raster>.ovr` — atomic, and failing instead of overwriting if
 * someone created that file meanwhile — and the temporary folder is removed. GDAL picks `<raster>.ovr` up on the
 * next open; the dataset cache notices the new sidecar by its mtime.
 *
 * Levels: factors 2, 4, 8 … until the coarsest level fits in 256 px. Resampling: AVERAGE by default (nodata
 * aware), DEFLATE-compressed (geo/env). Cancellation: GDAL's overview builder cannot be interrupted from
 * gdal-async, so an aborted build rejects at once with CANCELLED, lets GDAL finish in the background and then
 * deletes its output; nothing is left behind.
 */
import fs from 'node:fs/promises';
import nodePath from 'node:path';
import { randomBytes } from 'node:crypto';
import gdal from 'gdal-async';
import type { RasterInfo } from '../shared/rasterInfo.js';
import { SegEarthError } from '../shared/errors.js';
import { openRaster } from './openRaster.js';
import { releaseRaster } from './datasetCache.js';
import { isGdalVirtualPath } from './rasterErrors.js';
import { cancelledError } from './windowRead.js';

export type OverviewResampling = 'nearest' | 'average' | 'bilinear' | 'cubic' | 'lanczos' | 'mode' | 'gauss';

export interface BuildOverviewsOptions {
  /** Called with 0..1 as GDAL progresses. */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
  /** Default 'average'. */
  resampling?: OverviewResampling;
}

/** Rasters larger than this on their long side should have overviews for smooth display. */
export const OVERVIEW_THRESHOLD = 2048;

/** true when the raster is big enough to be slow without overviews and has none. */
export function needsOverviews(info: RasterInfo): boolean {
  return Math.max(info.width, info.height) > OVERVIEW_THRESHOLD && (info.bands[0]?.overviews.length ?? 0) === 0;
}

/** Overview factors 2, 4, … until the coarsest level is at most 256 px on its long side. */
export function overviewFactors(width: number, height: number): number[] {
  const factors: number[] = [];
  for (let f = 2; Math.ceil(Math.max(width, height) / (f / 2)) > 256; f *= 2) factors.push(f);
  return factors;
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

/** Build `<path>.ovr` (see module doc). Resolves with its path; if overviews already exist, resolves at once. */
export async function buildOverviews(path: string, opts: BuildOverviewsOptions = {}): Promise<{ ovrPath: string }> {
  const info = await openRaster(path);
  const ovrPath = `${path}.ovr`;
  if (isGdalVirtualPath(path)) {
    throw new SegEarthError('UNSUPPORTED_FORMAT', `Overviews cannot be written next to ${path}: it is not a local file.`, {
      hint: 'Copy the raster to a local folder first.',
      path,
    });
  }
  if ((info.bands[0]?.overviews.length ?? 0) > 0) return { ovrPath };
  if (await exists(ovrPath)) {
    throw new SegEarthError('OUTPUT_EXISTS', `${ovrPath} exists but GDAL does not use it as overviews of ${path}.`, {
      hint: 'It is probably from another version of the raster: delete or rename it, then build overviews again.',
      path: ovrPath,
    });
  }
  if (opts.signal?.aborted) throw cancelledError();
  const factors = overviewFactors(info.width, info.height);
  if (factors.length === 0) return { ovrPath };

  const dir = nodePath.dirname(path);
  const tmpDir = nodePath.join(dir, `.segearth-ovr-${randomBytes(6).toString('hex')}`);
  try {
    await fs.mkdir(tmpDir);
  } catch (err) {
    throw new SegEarthError('OUTPUT_NOT_WRITABLE', `Cannot write overviews next to ${path}: the folder ${dir} is not writable.`, {
      hint: 'Copy the raster to a folder you can write to, or build the overviews with gdaladdo where you have permission.',
      path: dir,
      cause: err,
    });
  }
  const vrtPath = nodePath.join(tmpDir, `${nodePath.basename(path)}.vrt`);
  const cleanup = (): Promise<void> => fs.rm(tmpDir, { recursive: true, force: true });

  const work = (async (): Promise<void> => {
    const src = await gdal.openAsync(path, 'r');
    try {
      (await gdal.translateAsync(vrtPath, src, ['-of', 'VRT'])).close();
    } finally {
      src.close();
    }
    const vrt = await gdal.openAsync(vrtPath, 'r');
    try {
      await vrt.buildOverviewsAsync((opts.resampling ?? 'average').toUpperCase(), factors, undefined, {
        progress_cb: (complete: number) => {
          if (!opts.signal?.aborted) opts.onProgress?.(Math.min(1, Math.max(0, complete)));
        },
      });
    } finally {
      vrt.close();
    }
  })();

  const aborted = new Promise<never>((_, reject) => {
    if (!opts.signal) return;
    opts.signal.addEventListener('abort', () => reject(cancelledError()), { once: true });
  });

  try {
    await Promise.race([work, aborted]);
  } catch (err) {
    // Let GDAL finish (it cannot be interrupted), then remove everything it wrote.
    work.then(cleanup, cleanup).catch(() => undefined);
    if (err instanceof SegEarthError) throw err;
    throw new SegEarthError('INTERNAL', `Building overviews for ${path} failed: ${err instanceof Error ? err.message : String(err)}`, {
      hint: 'Check free disk space next to the raster and that the file is readable, then try again.',
      path,
      cause: err,
    });
  }
  try {
    await fs.link(`${vrtPath}.ovr`, ovrPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || (await exists(ovrPath))) {
      await cleanup();
      throw new SegEarthError('OUTPUT_EXISTS', `${ovrPath} appeared while the overviews were being built; it was not overwritten.`, {
        hint: 'Another program may be building overviews: wait for it, or delete that file and try again.',
        path: ovrPath,
      });
    }
    // Hard links unsupported (e.g. some network shares): rename instead (the target was checked just above).
    try {
      await fs.rename(`${vrtPath}.ovr`, ovrPath);
    } finally {
      await cleanup();
    }
  }
  await cleanup();
  releaseRaster(path);
  opts.onProgress?.(1);
  return { ovrPath };
}
