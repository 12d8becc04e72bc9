/**
 * @module inference/hub/hubCache
 * The download cache, in the layout of Hugging Face's own client (huggingface_hub `file_download.py`), so a
 * checkpoint fetched by `huggingface-cli download` / `hf download` is reused and ours is reused by them:
 *
 * ```
 * <HF_HUB_CACHE>/models--earth-insights--SegEarth-R1-EarthReason/
 *   blobs/<sha256 or git blob id>            file contents, named by the hub's etag
 *   blobs/<sha256>.incomplete                a download in progress (ours; resumed by the next run)
 *   snapshots/<commit>/<path>                links to ../../blobs/<etag>
 *   refs/main                                the commit "main" pointed to
 *   .locks/models--…/<etag>.segearth.lock    our per-file lock (huggingface_hub's own `<etag>.lock` is a flock we leave alone)
 * ```
 *
 * Snapshot entries are relative symbolic links, as huggingface_hub makes them. Where a symbolic link cannot be
 * made (Windows without Developer Mode or admin rights, some network drives) the entry is a hard link to the
 * blob instead — no extra disk space, and still a regular file for every reader — and a copy only where hard
 * links fail too (FAT32/exFAT). huggingface_hub itself moves or copies the blob in that case; its readers only
 * look at `snapshots/`, so both layouts read the same.
 */
import { copyFile, link, lstat, mkdir, readFile, realpath, rm, stat, symlink } from 'node:fs/promises';
import { writeTextAtomic } from '../models/atomicJson.js';
import path from 'node:path';

export interface RepoCache {
  /** `<cache>/models--org--name`. */
  readonly dir: string;
  blob(etag: string): string;
  incomplete(etag: string): string;
  lock(etag: string): string;
  snapshotDir(commit: string): string;
  /** `snapshots/<commit>/<path>` for a `/`-separated repository path. */
  pointer(commit: string, file: string): string;
  ref(revision: string): string;
}

/** huggingface_hub's `repo_folder_name`: `models--` + the id with `/` replaced by `--`. */
export function repoFolderName(repo: string): string {
  return `models--${repo.split('/').join('--')}`;
}

export function repoCache(cacheDir: string, repo: string): RepoCache {
  const name = repoFolderName(repo);
  const dir = path.join(cacheDir, name);
  return {
    dir,
    blob: (etag) => path.join(dir, 'blobs', etag),
    incomplete: (etag) => path.join(dir, 'blobs', `${etag}.incomplete`),
    lock: (etag) => path.join(cacheDir, '.locks', name, `${etag}.segearth.lock`),
    snapshotDir: (commit) => path.join(dir, 'snapshots', commit),
    pointer: (commit, file) => path.join(dir, 'snapshots', commit, ...file.split('/')),
    ref: (revision) => path.join(dir, 'refs', ...revision.split('/')),
  };
}

/** Records that `revision` (a branch or tag) points to `commit`, atomically; nothing for a commit hash. */
export async function writeRef(cache: RepoCache, revision: string, commit: string): Promise<void> {
  if (revision === commit) return;
  const file = cache.ref(revision);
  if ((await readRef(cache, revision)) === commit) return;
  await writeTextAtomic(file, commit);
}

/** The commit a revision points to in the cache (a 40-hex revision is its own commit); null when unknown. */
export async function readRef(cache: RepoCache, revision: string): Promise<string | null> {
  if (/^[0-9a-f]{40}$/.test(revision)) return revision;
  try {
    const commit = (await readFile(cache.ref(revision), 'utf8')).trim();
    return /^[0-9a-f]{40}$/.test(commit) ? commit : null;
  } catch {
    return null;
  }
}

/** Whether `file` exists and is a regular file of `size` bytes (following a link). */
export async function hasFile(file: string, size: number): Promise<boolean> {
  try {
    const st = await stat(file);
    return st.isFile() && st.size === size;
  } catch {
    return false;
  }
}

/**
 * Makes `pointer` refer to `blob`: a relative symbolic link, else a hard link, else a copy (see the module
 * comment). An existing pointer that already resolves to the blob is kept.
 */
export async function linkPointer(blob: string, pointer: string): Promise<'symlink' | 'hardlink' | 'copy'> {
  await mkdir(path.dirname(pointer), { recursive: true });
  try {
    const st = await lstat(pointer);
    if (st.isSymbolicLink() && (await realpath(pointer).catch(() => '')) === (await realpath(blob))) return 'symlink';
    await rm(pointer, { force: true });
  } catch {
    // No pointer yet.
  }
  try {
    await symlink(path.relative(path.dirname(pointer), blob), pointer);
    return 'symlink';
  } catch {
    // EPERM on Windows without the symlink privilege; some network drives.
  }
  try {
    await link(blob, pointer);
    return 'hardlink';
  } catch {
    await copyFile(blob, pointer);
    return 'copy';
  }
}
