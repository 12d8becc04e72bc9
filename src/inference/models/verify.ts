/**
 * @module inference/models/verify
 * Checks every file of a bundle against the sha256 its manifest records. Hashes are streamed (bundles hold
 * multi-gigabyte weight files) and cached by path + size + mtime in a JSON file in the data folder, so
 * listing a bundle that was verified before costs one `stat` per file. An edit that keeps both size and
 * mtime is only caught by a forced re-hash (`segearth models verify --force`).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { BundleFacts, FileProblem, ProgressListener, VerifyReport } from './types.js';
import { writeJsonAtomic } from './atomicJson.js';

/** sha256 of a file, streamed; `onBytes` receives each chunk's length. */
export function sha256File(file: string, onBytes?: (n: number) => void, signal?: AbortSignal): Promise<string> {
  return fileDigest(file, { algorithm: 'sha256', ...(onBytes ? { onBytes } : {}), ...(signal ? { signal } : {}) });
}

/**
 * Hex digest of `prefix` followed by the file's bytes, streamed (e.g. a git blob id: sha1 of
 * `blob <size>\0` + content).
 */
export async function fileDigest(
  file: string,
  options: { algorithm: 'sha256' | 'sha1'; prefix?: string; onBytes?: (n: number) => void; signal?: AbortSignal },
): Promise<string> {
  const hash = createHash(options.algorithm);
  if (options.prefix !== undefined) hash.update(options.prefix);
  const stream = createReadStream(file, { highWaterMark: 1 << 20, ...(options.signal ? { signal: options.signal } : {}) });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    options.onBytes?.(chunk.length);
  }
  return hash.digest('hex');
}

const CacheEntry = z.object({ size: z.number(), mtimeMs: z.number(), sha256: z.string() });
const CacheFile = z.object({ version: z.literal(1), entries: z.record(z.string(), CacheEntry) });
type CacheEntry = z.infer<typeof CacheEntry>;

/** sha256 results keyed by absolute path, valid while size and mtime are unchanged. */
export class HashCache {
  private entries = new Map<string, CacheEntry>();
  private loaded = false;
  private dirty = false;

  constructor(private readonly file: string | null) {}

  async lookup(file: string, size: number, mtimeMs: number): Promise<string | undefined> {
    await this.load();
    const e = this.entries.get(file);
    return e && e.size === size && e.mtimeMs === mtimeMs ? e.sha256 : undefined;
  }

  async store(file: string, size: number, mtimeMs: number, sha256: string): Promise<void> {
    await this.load();
    this.entries.set(file, { size, mtimeMs, sha256 });
    this.dirty = true;
  }

  /** Forgets every entry under `dir` (after a bundle is removed or replaced). */
  async forgetDir(dir: string): Promise<void> {
    await this.load();
    const prefix = dir.endsWith(path.sep) ? dir : dir + path.sep;
    for (const key of this.entries.keys()) {
      if (key.startsWith(prefix)) {
        this.entries.delete(key);
        this.dirty = true;
      }
    }
  }

  /** Writes the cache atomically (`./atomicJson`). A cache that cannot be written is not an error. */
  async flush(): Promise<void> {
    if (!this.file || !this.dirty) return;
    try {
      await writeJsonAtomic(this.file, { version: 1, entries: Object.fromEntries(this.entries) });
      this.dirty = false;
    } catch {
      // Read-only data folder: verification still works, it is just not remembered.
    }
  }


  /**
   * Picks up entries another process (the CLI next to the app) wrote since this cache was loaded; entries
   * held in memory win. Call it at the start of an operation on a long-lived store.
   */
  async refresh(): Promise<void> {
    if (!this.loaded) return this.load();
    for (const [key, entry] of await this.readFile()) if (!this.entries.has(key)) this.entries.set(key, entry);
  }

  private async load(): Promise<void> {
    if (this.loaded) return;
    this.loaded = true;
    this.entries = await this.readFile();
  }

  private async readFile(): Promise<Map<string, CacheEntry>> {
    if (!this.file) return new Map();
    try {
      const parsed = CacheFile.safeParse(JSON.parse(await readFile(this.file, 'utf8')));
      if (parsed.success) return new Map(Object.entries(parsed.data.entries));
    } catch {
      // Missing or damaged cache: start empty.
    }
    return new Map();
  }
}

export interface VerifyOptions {
  /** Hash files that are not in the cache (default true). False only reads the cache: a quick state for lists. */
  readonly hash?: boolean;
  /** Ignore cached results and hash everything again (catches edits that kept size and mtime). */
  readonly force?: boolean;
  readonly onProgress?: ProgressListener;
  readonly signal?: AbortSignal;
}

/** Checks `facts.files` inside `dir`. `state` is `unverified` only when `hash: false` left files unchecked. */
export async function verifyBundle(
  dir: string,
  facts: Pick<BundleFacts, 'files'>,
  cache: HashCache,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const { hash = true, force = false, onProgress, signal } = options;
  const problems: FileProblem[] = [];
  let hashedFiles = 0;
  let unknown = 0;
  const total = facts.files.reduce((s, f) => s + (f.bytes ?? 0), 0);
  let done = 0;
  for (const f of facts.files) {
    signal?.throwIfAborted();
    const file = path.join(dir, ...f.path.split('/'));
    let st;
    try {
      st = await stat(file);
    } catch {
      problems.push({ path: f.path, problem: 'missing', detail: `${f.path} is missing` });
      continue;
    }
    if (!st.isFile()) {
      problems.push({ path: f.path, problem: 'missing', detail: `${f.path} is not a regular file` });
      continue;
    }
    if (f.bytes !== undefined && st.size !== f.bytes) {
      problems.push({ path: f.path, problem: 'size', detail: `${f.path} has ${st.size} bytes, the manifest says ${f.bytes}` });
      continue;
    }
    let digest = force ? undefined : await cache.lookup(file, st.size, st.mtimeMs);
    if (digest === undefined) {
      if (!hash) {
        unknown++;
        continue;
      }
      digest = await sha256File(
        file,
        (n) => {
          done += n;
          onProgress?.({ phase: 'verify', done, total: total || null, message: f.path });
        },
        signal,
      );
      hashedFiles++;
      await cache.store(file, st.size, st.mtimeMs, digest);
    } else {
      done += st.size;
    }
    if (digest !== f.sha256) {
      problems.push({ path: f.path, problem: 'sha256', detail: `${f.path} has sha256 ${digest}, the manifest says ${f.sha256}` });
    }
  }
  await cache.flush();
  const state = problems.length > 0 ? 'failed' : unknown > 0 ? 'unverified' : 'verified';
  return { state, hashedFiles, checkedFiles: facts.files.length - unknown, problems };
}
