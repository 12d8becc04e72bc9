/**
 * @module geo/rasterErrors
 * Turns file-system and GDAL failures on raster input into {@link SegEarthError}s that say what was wrong and
 * what to do. GDAL reports problems as free-text CPL messages; the patterns below are the ones GDAL 3.x emits
 * for the cases an analyst meets (wrong path, folder, not a raster, damaged file).
 */
import fs from 'node:fs/promises';
import { SegEarthError } from '../shared/errors.js';

/** GDAL virtual file systems (/vsizip/, /vsicurl/, /vsimem/ …) cannot be checked with fs.stat. */
export function isGdalVirtualPath(p: string): boolean {
  return p.startsWith('/vsi') || /^[a-z][a-z0-9+.-]*:\/\//i.test(p);
}

export interface FileStamp {
  isDirectory: boolean;
  size: number;
  mtimeMs: number;
}

/** stat() the input; NOT_FOUND for a missing path. Virtual GDAL paths get a neutral stamp. */
export async function statRasterPath(p: string): Promise<FileStamp> {
  if (isGdalVirtualPath(p)) return { isDirectory: false, size: 0, mtimeMs: 0 };
  try {
    const st = await fs.stat(p);
    return { isDirectory: st.isDirectory(), size: st.size, mtimeMs: st.mtimeMs };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new SegEarthError('NOT_FOUND', `No file at ${p}.`, {
        hint: 'Check the path (spelling, drive, network share) or pick the raster again with Open.',
        path: p,
        cause: err,
      });
    }
    if (code === 'EACCES' || code === 'EPERM') {
      throw new SegEarthError('NOT_FOUND', `SegEarth is not allowed to read ${p}.`, {
        hint: 'Give your user read permission on the file or copy it to a folder you own.',
        path: p,
        cause: err,
      });
    }
    throw err;
  }
}

export function isDirectoryError(p: string, cause?: unknown): SegEarthError {
  return new SegEarthError('IS_DIRECTORY', `${p} is a folder, not a raster file.`, {
    hint: 'Open the image file inside the folder (for example the .tif or .jp2), not the folder itself.',
    path: p,
    cause,
  });
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const CORRUPT_PATTERNS = [
  /IReadBlock failed/i,
  /TIFFRead\w*/,
  /TIFFFill\w*/,
  /Read error/i,
  /truncated/i,
  /corrupt/i,
  /short read/i,
  /cannot read/i,
  /premature end/i,
  /not a valid/i,
  /JPEG\w* error/i,
  /opj_/i,
];

/** A damaged raster (header readable, data not) → CORRUPT_RASTER. */
export function corruptRasterError(p: string, cause: unknown): SegEarthError {
  return new SegEarthError('CORRUPT_RASTER', `${p} is damaged: GDAL could not read its pixels (${message(cause)}).`, {
    hint: 'The file is probably truncated or partly copied. Copy or download it again, then reopen it.',
    path: p,
    cause,
  });
}

/** Map a failure of GDALOpen to a typed error. */
export function classifyOpenError(p: string, err: unknown): SegEarthError {
  if (err instanceof SegEarthError) return err;
  const msg = message(err);
  if (/No such file or directory/i.test(msg)) {
    return new SegEarthError('NOT_FOUND', `No file at ${p}.`, {
      hint: 'Check the path or pick the raster again with Open.',
      path: p,
      cause: err,
    });
  }
  if (/not recognized as a supported file format/i.test(msg) || /not recognised/i.test(msg)) {
    return new SegEarthError('NOT_A_RASTER', `${p} is not a raster image GDAL can read.`, {
      hint: 'Choose a GeoTIFF, COG, JPEG2000, VRT, or a PNG/JPEG (with a world file for georeferencing). If it should be a GeoTIFF, it may be damaged: copy it again.',
      path: p,
      cause: err,
    });
  }
  if (CORRUPT_PATTERNS.some((re) => re.test(msg))) return corruptRasterError(p, err);
  return new SegEarthError('NOT_A_RASTER', `GDAL could not open ${p}: ${msg}`, {
    hint: 'Check that the file is a complete raster image in a format GDAL supports.',
    path: p,
    cause: err,
  });
}

/** Map a failure while reading pixels to a typed error: damaged data when GDAL says so, else INTERNAL. */
export function classifyReadError(p: string, err: unknown): SegEarthError {
  if (err instanceof SegEarthError) return err;
  if (CORRUPT_PATTERNS.some((re) => re.test(message(err)))) return corruptRasterError(p, err);
  return new SegEarthError('INTERNAL', `Reading pixels of ${p} failed: ${message(err)}`, {
    hint: 'This is probably a bug in SegEarth Desktop; please report it with the log file.',
    path: p,
    cause: err,
  });
}

export function noRasterBandsError(p: string): SegEarthError {
  return new SegEarthError('NOT_A_RASTER', `${p} has no raster bands (it is a vector file or a container of sub-datasets).`, {
    hint: 'Open a raster image. For vector data use it as a layer; for HDF/NetCDF containers open one sub-dataset.',
    path: p,
  });
}
