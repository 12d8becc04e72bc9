/**
 * @module geo/atomicWrite
 * All-or-nothing output files.
 *
 * A writer produces its file(s) inside a hidden temporary folder created next to the target (same
 * filesystem, so the final move is a `rename`), then every produced file is renamed into place. Before
 * anything is written, and again before the move, existing targets are refused with OUTPUT_EXISTS unless
 * `overwrite` is set. On any error the temporary folder is removed and files already moved in this call are
 * taken back, so no partial output is left behind (a shapefile never loses its .dbf half way). Temporary
 * folders of runs that were killed are removed the next time something is written there (`geo/tempFolders`).
 *
 * A full disk is caught even when the writer does not notice it (GDAL's GeoJSON writer, for one, ignores a
 * failed write and closes a truncated file): every produced file is flushed to disk (fsync, which reports
 * ENOSPC/EDQUOT on file systems that allocate late) and the file system is asked whether any space is left;
 * when none is, the output is presumed cut short and DISK_FULL ("not enough space", exit 4) is thrown
 * before anything is renamed into place.
 */
import { constants } from 'node:fs';
import { access, open, readdir, realpath, rename, rm, stat, statfs } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { isSegEarthError, SegEarthError } from '../shared/errors.js';
import { makeTempFolder } from './tempFolders.js';

export interface AtomicOutputOptions {
  overwrite?: boolean;
  /**
   * File names (in the target folder) the writer will produce, checked before writing; defaults to the
   * target's own name. Shapefile writers list their .shp/.shx/.dbf/.prj/.cpg here.
   */
  expectedNames?: string[];
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function notWritable(folder: string, target: string, cause?: unknown): SegEarthError {
  return new SegEarthError('OUTPUT_NOT_WRITABLE', `Cannot write into the folder ${folder}.`, {
    hint: 'Choose an existing folder you have write permission for (or create it first).',
    path: target,
    cause,
  });
}

const OUT_OF_SPACE = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);
const LOW_SPACE_BYTES = 1024 * 1024;

function diskFull(folder: string, target: string, cause?: unknown): SegEarthError {
  return new SegEarthError('DISK_FULL', `Not enough space to write ${target}: the disk holding ${folder} is full.`, {
    hint: 'Free some disk space, or write the output to another disk; nothing was written.',
    path: target,
    cause,
  });
}

/** Bytes this process may still write on the file system of `folder` (root may use the reserved blocks). */
async function writableBytes(folder: string): Promise<number> {
  const s = await statfs(folder);
  const blocks = process.getuid?.() === 0 ? s.bfree : s.bavail;
  return Number(blocks) * Number(s.bsize);
}

/** Flushes `path` to disk; an out-of-space failure surfaces here on file systems that allocate on flush. */
async function flushFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isOutOfSpace(err: unknown): boolean {
  return OUT_OF_SPACE.has((err as NodeJS.ErrnoException | null)?.code ?? '');
}

function alreadyExists(path: string): SegEarthError {
  return new SegEarthError('OUTPUT_EXISTS', `${path} already exists.`, {
    hint: 'Choose another output name, or allow overwriting (--overwrite).',
    path,
  });
}

/** The real path of `path` (links followed) when it exists, else its absolute path. */
async function realOrResolved(path: string): Promise<string> {
  return realpath(path).catch(() => resolve(path));
}

/**
 * Refuses an output that is one of the inputs (the scene asked about, an open layer's source): with
 * --overwrite it would otherwise replace the very file being read. Paths are compared after following links.
 */
export async function refuseInputAsOutput(outputs: readonly string[], inputs: readonly string[]): Promise<void> {
  const inputReal = new Set(await Promise.all(inputs.map(realOrResolved)));
  for (const output of outputs) {
    if (inputReal.has(await realOrResolved(output))) {
      throw new SegEarthError('BAD_ARGUMENT', `The output ${output} is an input (a raster being read).`, {
        hint: 'Write the result to another file name; the input is never replaced.',
        path: output,
      });
    }
  }
}

/** Refuses targets that exist (unless overwrite) and folders that cannot be written. */
export async function checkOutputTargets(targetPath: string, options: AtomicOutputOptions = {}): Promise<void> {
  const target = resolve(targetPath);
  const folder = dirname(target);
  let folderStat;
  try {
    folderStat = await stat(folder);
  } catch (cause) {
    throw notWritable(folder, target, cause);
  }
  if (!folderStat.isDirectory()) throw notWritable(folder, target);
  try {
    await access(folder, constants.W_OK);
  } catch (cause) {
    throw notWritable(folder, target, cause);
  }
  if ((await exists(target)) && (await stat(target)).isDirectory()) {
    throw new SegEarthError('OUTPUT_NOT_WRITABLE', `${target} is a folder.`, {
      hint: 'Give a file name such as result.gpkg.',
      path: target,
    });
  }
  if (!options.overwrite) {
    for (const name of options.expectedNames ?? [basename(target)]) {
      const path = join(folder, name);
      if (await exists(path)) throw alreadyExists(path);
    }
  }
}

/**
 * Runs `write(tempPath)` where `tempPath` has the target's file name inside a temporary folder next to the
 * target; then moves every file the writer produced into the target folder. Returns the final paths.
 */
export async function writeAtomically(
  targetPath: string,
  options: AtomicOutputOptions,
  write: (tempPath: string) => Promise<void>,
): Promise<string[]> {
  const target = resolve(targetPath);
  const folder = dirname(target);
  await checkOutputTargets(target, options);
  let tempDir: string;
  try {
    tempDir = await makeTempFolder(folder, `.segearth-tmp-${basename(target)}-`);
  } catch (cause) {
    throw isSegEarthError(cause, 'DISK_FULL') || isOutOfSpace(cause) ? diskFull(folder, target, cause) : notWritable(folder, target, cause);
  }
  const moved: string[] = [];
  try {
    await write(join(tempDir, basename(target)));
    const produced = (await readdir(tempDir)).sort();
    if (produced.length === 0) {
      throw new SegEarthError('INTERNAL', `Writing ${target} produced no file.`, {
        hint: 'This is a bug in SegEarth Desktop; please report it.',
        path: target,
      });
    }
    for (const name of produced) await flushFile(join(tempDir, name));
    if ((await writableBytes(folder)) <= 0) throw diskFull(folder, target);
    if (!options.overwrite) {
      for (const name of produced) if (await exists(join(folder, name))) throw alreadyExists(join(folder, name));
    }
    for (const name of produced) {
      const finalPath = join(folder, name);
      await rename(join(tempDir, name), finalPath);
      moved.push(finalPath);
    }
    return moved;
  } catch (err) {
    // Without overwrite nothing we moved existed before, so taking it back restores the folder exactly.
    if (!options.overwrite) await Promise.all(moved.map((path) => rm(path, { force: true })));
    if (isOutOfSpace(err)) throw diskFull(folder, target, err);
    // GDAL reports a full disk in its own words ("failed to create", "Write failed"): ask the file system.
    // A writer that failed on a nearly full disk (under 1 MiB left) is taken to have run out of space.
    if (!(err instanceof SegEarthError && err.code !== 'INTERNAL') && (await writableBytes(folder).catch(() => Infinity)) < LOW_SPACE_BYTES) {
      throw diskFull(folder, target, err);
    }
    if (err instanceof SegEarthError) throw err;
    throw new SegEarthError('OUTPUT_NOT_WRITABLE', `Writing ${target} failed: ${(err as Error).message}`, {
      hint: 'Check free disk space and permissions, then try again.',
      path: target,
      cause: err,
    });
  } finally {
    await rm(tempDir, { recursive: true, force: true });
  }
}
