/**
 * @module inference/models/install
 * Atomic installation. A bundle is assembled in a fresh folder inside the store's staging area (copied from
 * a folder, or unpacked from an archive), every file is checked against the manifest's sha256, and only then
 * is the folder renamed to `<store>/<id>`. Until that rename nothing is visible to `list`; on any failure
 * the staging folder is deleted.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SegEarthError } from '../../shared/errors.js';
import { extractArchive } from './archive.js';
import { MANIFEST_FILE, readBundleFacts } from './bundleFacts.js';
import { ensureFreeSpace, SPACE_MARGIN_BYTES, type FreeSpaceProbe } from './diskSpace.js';
import type { BundleFacts, ProgressListener } from './types.js';
import { type HashCache, verifyBundle } from './verify.js';

export interface StageOptions {
  readonly stagingDir: string;
  readonly freeSpace: FreeSpaceProbe;
  readonly onProgress?: ProgressListener;
  readonly signal?: AbortSignal;
}

/** A verified bundle waiting in the staging area. `work` is deleted by {@link discardStaged}. */
export interface StagedBundle {
  readonly work: string;
  readonly dir: string;
  readonly facts: BundleFacts;
  /** sha256 of each file (by manifest path) computed while staging, so the cache can be filled after the rename. */
  readonly digests: ReadonlyMap<string, string>;
}

/** A new, empty, uniquely named folder in the staging area. */
export async function makeWorkDir(stagingDir: string, purpose: string): Promise<string> {
  const work = path.join(stagingDir, `${purpose}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`);
  await ensureDir(work);
  return work;
}

/** `mkdir -p`, with OUTPUT_NOT_WRITABLE and a hint instead of a bare EACCES / ENOTDIR / EROFS. */
export async function ensureDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new SegEarthError('OUTPUT_NOT_WRITABLE', `Cannot create ${dir} (${code}): the model folder is not writable.`, {
      hint: 'Check the folder permissions, or point SEGEARTH_MODELS_DIR at a writable folder.',
      path: dir,
      cause: err,
    });
  }
}

export async function discardStaged(work: string): Promise<void> {
  // Retries: after a failed extraction, tar may still be closing files in the folder being removed.
  await rm(work, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
}

/**
 * Copies the manifest and every file it lists from `source` into the staging area, hashing while copying;
 * throws MODEL_INVALID (and leaves nothing behind) when a file is missing or its sha256 differs.
 */
export async function stageFromFolder(source: string, options: StageOptions): Promise<StagedBundle> {
  const facts = await readBundleFacts(source);
  const sizes = new Map<string, number>();
  for (const f of facts.files) {
    const file = path.join(source, ...f.path.split('/'));
    try {
      sizes.set(f.path, (await stat(file)).size);
    } catch {
      throw new SegEarthError('MODEL_INVALID', `The bundle in ${source} is incomplete: ${f.path} is missing.`, {
        hint: 'Export the bundle again, or copy the whole folder.',
        path: file,
      });
    }
  }
  const total = [...sizes.values()].reduce((a, b) => a + b, 0);
  await ensureFreeSpace(options.freeSpace, options.stagingDir, total, `importing ${facts.id}`);
  const work = await makeWorkDir(options.stagingDir, 'import');
  const dir = path.join(work, facts.id);
  try {
    await mkdir(dir);
    const digests = new Map<string, string>();
    let done = 0;
    for (const f of [{ path: MANIFEST_FILE }, ...facts.files]) {
      options.signal?.throwIfAborted();
      const from = path.join(source, ...f.path.split('/'));
      const to = path.join(dir, ...f.path.split('/'));
      await mkdir(path.dirname(to), { recursive: true });
      const hash = createHash('sha256');
      const tap = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          hash.update(chunk);
          done += chunk.length;
          options.onProgress?.({ phase: 'copy', done, total, message: f.path });
          cb(null, chunk);
        },
      });
      await pipeline(createReadStream(from), tap, createWriteStream(to), options.signal ? { signal: options.signal } : {});
      digests.set(f.path, hash.digest('hex'));
    }
    const bad = facts.files.filter((f) => digests.get(f.path) !== f.sha256);
    if (bad.length > 0) {
      throw new SegEarthError(
        'MODEL_INVALID',
        `The bundle in ${source} is damaged: ${bad.map((f) => f.path).join(', ')} ${bad.length === 1 ? 'does' : 'do'} not match the manifest's sha256.`,
        { hint: 'Export or download the bundle again; nothing was installed.', path: source },
      );
    }
    return { work, dir, facts, digests };
  } catch (err) {
    await discardStaged(work);
    throw mapWriteError(err, options.stagingDir);
  }
}

/**
 * Unpacks an archive into the staging area, finds the bundle in it (manifest.json at the top, or inside a
 * single top-level folder) and checks every file's sha256.
 */
export async function stageFromArchive(archive: string, options: StageOptions & { cache: HashCache }): Promise<StagedBundle> {
  const size = (await stat(archive)).size;
  // Weights barely compress, so the unpacked bundle is about the archive's size.
  await ensureFreeSpace(options.freeSpace, options.stagingDir, size, `unpacking ${path.basename(archive)}`);
  const work = await makeWorkDir(options.stagingDir, 'unpack');
  try {
    const root = path.join(work, '.unpacked'); // bundle ids never start with a dot
    await mkdir(root);
    // The unpacked bytes are bounded by the free space (less the margin) as well as by the manifest.
    const maxBytes = Math.max(0, (await options.freeSpace(options.stagingDir)) - SPACE_MARGIN_BYTES);
    await extractArchive(archive, root, { ...options, maxBytes });
    const found = await findBundleRoot(root, archive);
    const facts = await readBundleFacts(found);
    const dir = path.join(work, facts.id);
    await rename(found, dir);
    const digests = new Map<string, string>();
    const report = await verifyBundle(dir, facts, options.cache, {
      force: true,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (report.state !== 'verified') {
      throw new SegEarthError(
        'MODEL_INVALID',
        `The bundle in ${path.basename(archive)} is damaged: ${report.problems.map((p) => p.detail).join('; ')}.`,
        { hint: 'Download or copy the archive again; nothing was installed.', path: archive },
      );
    }
    for (const f of facts.files) digests.set(f.path, f.sha256);
    await options.cache.forgetDir(work);
    return { work, dir, facts, digests };
  } catch (err) {
    await discardStaged(work);
    throw mapWriteError(err, options.stagingDir);
  }
}

/**
 * Renames the staged bundle to `<installDir>/<id>`. With `replace`, an installed bundle of the same id is
 * moved aside first and deleted after the rename; without it, OUTPUT_EXISTS.
 */
export async function commitStaged(staged: StagedBundle, installDir: string, replace: boolean): Promise<string> {
  const target = path.join(installDir, staged.facts.id);
  let old: string | undefined;
  try {
    if (await exists(target)) {
      if (!replace) {
        throw new SegEarthError('OUTPUT_EXISTS', `A model "${staged.facts.id}" is already installed in ${installDir}.`, {
          hint: 'Add --replace to overwrite it, or remove it first with `segearth models remove <id>`.',
          path: target,
        });
      }
      old = path.join(staged.work, 'replaced');
      await moveBundle(target, old);
    }
    try {
      await moveBundle(staged.dir, target);
    } catch (err) {
      if (old) await rename(old, target); // put the previous bundle back
      throw err;
    }
    return target;
  } finally {
    await discardStaged(staged.work);
  }
}

/**
 * Renames a bundle folder. On Windows a folder whose files are open (a model loaded by the app) cannot be
 * renamed: that becomes a clear OUTPUT_NOT_WRITABLE instead of a bare EPERM.
 */
export async function moveBundle(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EPERM' || code === 'EBUSY' || code === 'EACCES') {
      throw new SegEarthError('OUTPUT_NOT_WRITABLE', `Cannot move ${from} to ${to} (${code}): the folder is in use or not writable.`, {
        hint: 'Close what uses the model (the SegEarth app, a running `segearth ask`) and check the folder permissions, then try again.',
        path: from,
        cause: err,
      });
    }
    throw err;
  }
}

async function findBundleRoot(root: string, archive: string): Promise<string> {
  if (await exists(path.join(root, MANIFEST_FILE))) return root;
  const entries = (await readdir(root, { withFileTypes: true })).filter((e) => !e.name.startsWith('.') && e.name !== '__MACOSX');
  if (entries.length === 1 && entries[0].isDirectory()) {
    const inner = path.join(root, entries[0].name);
    if (await exists(path.join(inner, MANIFEST_FILE))) return inner;
  }
  throw new SegEarthError('MODEL_INVALID', `${path.basename(archive)} does not contain a model bundle: no ${MANIFEST_FILE} at its top level or in a single top-level folder.`, {
    hint: 'Pack the bundle folder itself, e.g. `tar czf my-bundle.tar.gz -C models my-bundle`.',
    path: archive,
  });
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

function mapWriteError(err: unknown, where: string): unknown {
  if ((err as NodeJS.ErrnoException).code === 'ENOSPC') {
    return new SegEarthError('DISK_FULL', `The disk filled up while installing into ${where}; nothing was installed.`, {
      hint: 'Free some space and try again.',
      path: where,
      cause: err,
    });
  }
  if ((err as Error).name === 'AbortError') {
    return new SegEarthError('CANCELLED', 'The import was cancelled; nothing was installed.', { cause: err });
  }
  return err;
}
