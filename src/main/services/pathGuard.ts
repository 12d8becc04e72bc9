/**
 * @module main/services/pathGuard
 * Confines file access to allowed root folders (server mode). Paths are resolved (`..` collapsed), relative
 * paths are taken from the first root, and symbolic links are followed before the check, so neither
 * `root/../etc/passwd` nor a link inside a root that points outside it gets through. With no roots (the
 * desktop app, where the analyst picks files in native dialogs) every path is allowed.
 *
 * Rasters get one more check (`resolveRaster`): GDAL may read other files than the one named — a VRT's
 * sources (absolute or relative, raw-band VRTs included), side-cars, headers. With roots, every file GDAL
 * would read (as `geo/filesGdalReads` reports it, injected so tests can run without GDAL) must lie inside
 * them too, and GDAL virtual file systems (/vsizip/, /vsicurl/ …) in such references are refused. Raw-band
 * VRTs (`VRTRawRasterBand`: any bytes of a file read as pixels) are refused even inside the roots.
 */
import { realpath, lstat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { SegEarthError } from '../../shared/errors.js';

export interface PathGuard {
  /** The allowed roots (real paths); empty when unrestricted. */
  readonly roots: readonly string[];
  /** Real path of an existing file or folder inside a root. */
  resolveExisting(path: string): Promise<string>;
  /** Path to write to: its folder must exist inside a root; an existing target must not lead outside. */
  resolveForWrite(path: string): Promise<string>;
  /** Whether an already resolved real path lies inside a root (always true when unrestricted). */
  allows(realPath: string): boolean;
  /** `resolveExisting`, then (with roots) every file GDAL would read for the raster must be inside them. */
  resolveRaster(path: string): Promise<string>;
}

/** What GDAL reads for a raster: `geo/filesGdalReads` in the app, absent in tests with a fake geo engine. */
export type RasterFileLister = (path: string) => Promise<{ driver: string; files: string[]; rawBandVrts?: string[] }>;

function isInside(root: string, candidate: string): boolean {
  const rel = relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && !rel.startsWith(`..${sep}`));
}

function forbidden(path: string, roots: readonly string[]): SegEarthError {
  return new SegEarthError('FORBIDDEN_PATH', `${path} is outside the folders this server may access.`, {
    hint: `Allowed folders: ${roots.join(', ')}. Start the server with --root <folder> to allow another one.`,
    path,
  });
}

/** A path holding a NUL byte (which the OS would cut short, and Node refuses) is a bad argument, not a crash. */
function checkPathText(path: string): void {
  if (typeof path !== 'string' || path.length === 0 || path.includes('\0')) {
    throw new SegEarthError('BAD_ARGUMENT', `The path ${JSON.stringify(path)} is not a valid file name.`, {
      hint: 'Give a non-empty path without control characters (a NUL byte ends a path on every operating system).',
    });
  }
}

async function realOrNotFound(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new SegEarthError('NOT_FOUND', `${path} does not exist.`, { hint: 'Check the file name and folder.', path });
    }
    throw err;
  }
}

export async function createPathGuard(roots: readonly string[], options: { filesReadBy?: RasterFileLister } = {}): Promise<PathGuard> {
  const realRoots = await Promise.all(roots.map((r) => realOrNotFound(resolve(r))));

  const absolute = (path: string): string => (realRoots.length > 0 && !isAbsolute(path) ? resolve(realRoots[0]!, path) : resolve(path));
  const check = (original: string, real: string): string => {
    if (realRoots.length > 0 && !realRoots.some((root) => isInside(root, real))) throw forbidden(original, realRoots);
    return real;
  };

  const resolveExisting = async (path: string): Promise<string> => {
    checkPathText(path);
    const abs = absolute(path);
    // Refuse before touching the file system, so probing outside the roots reveals nothing.
    if (realRoots.length > 0 && !realRoots.some((root) => isInside(root, abs))) throw forbidden(path, realRoots);
    return check(path, await realOrNotFound(abs));
  };

  return {
    roots: realRoots,
    allows: (real) => realRoots.length === 0 || realRoots.some((root) => isInside(root, real)),
    resolveExisting,
    async resolveRaster(path) {
      const real = await resolveExisting(path);
      if (realRoots.length === 0 || !options.filesReadBy) return real;
      const { files, rawBandVrts = [] } = await options.filesReadBy(real);
      for (const file of files) {
        // A reference through a GDAL virtual file system could reach anything (archives, URLs): refused.
        const target = file.startsWith('/vsi') || /^[a-z][a-z0-9+.-]*:\/\//i.test(file) ? null : await realpath(file).catch(() => resolve(file));
        if (target === null || !realRoots.some((root) => isInside(root, target))) {
          throw new SegEarthError('FORBIDDEN_PATH', `${path} refers to ${file}, which is outside the folders this server may access.`, {
            hint: `A VRT (or other raster that points to other files) may only use files inside ${realRoots.join(', ')}. Copy the sources there, or start the server with --root for their folder.`,
            path,
          });
        }
      }
      const raw = rawBandVrts[0];
      if (raw !== undefined) {
        throw new SegEarthError('FORBIDDEN_PATH', `${raw === real ? path : `${path} uses ${raw}, which`} is a raw-band VRT (VRTRawRasterBand), reading raw bytes of a file as pixels; this server does not open such VRTs.`, {
          hint: 'Convert the raw file to a GeoTIFF inside the allowed folders (gdal_translate in.vrt out.tif) and open that, or open the VRT in the desktop app or the segearth CLI.',
          path,
        });
      }
      return real;
    },
    async resolveForWrite(path) {
      checkPathText(path);
      const abs = absolute(path);
      if (realRoots.length > 0 && !realRoots.some((root) => isInside(root, abs))) throw forbidden(path, realRoots);
      const folder = check(path, await realOrNotFound(dirname(abs)));
      const target = resolve(folder, basename(abs));
      const existing = await lstat(target).catch(() => null);
      if (existing?.isSymbolicLink()) check(path, await realOrNotFound(target));
      return target;
    },
  };
}
