/**
 * @module inference/models/ModelStore
 * The model manager as one plain-Node service, used by `segearth models …` and by the app's Model & device
 * dialog: list installed bundles, verify them, import (folder or archive), download (resumable, checked),
 * remove, and choose the default bundle per variant.
 *
 * ```ts
 * const store = new ModelStore();                       // folders from resolveModelLocations()
 * const { models } = await store.list();
 * await store.import('/data/segearth-r1-earthreason-fp32.tar.gz', { onProgress: console.log });
 * const bundle = await store.resolveDefault('earthreason'); // what the runtime should load, or null (the app and the CLI both use it)
 * ```
 */
import { lstat, mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { makeTempFolder } from '../../geo/tempFolders.js';
import { SegEarthError } from '../../shared/errors.js';
import { readBundleFacts } from './bundleFacts.js';
import { ensureFreeSpace, type FreeSpaceProbe, statfsFreeSpace } from './diskSpace.js';
import { downloadVerified } from './download.js';
import {
  commitStaged,
  discardStaged,
  ensureDir,
  makeWorkDir,
  moveBundle,
  stageFromArchive,
  stageFromFolder,
  type StagedBundle,
} from './install.js';
import { type ModelLocations, type ModelSearchDir, resolveModelLocations } from './locations.js';
import { readModelSettings, writeModelSettings } from './settings.js';
import type { BrokenModel, BundleFacts, InstalledModel, ModelSettings, ProgressListener, Variant } from './types.js';
import { VARIANTS } from './types.js';
import { HashCache, verifyBundle } from './verify.js';

export interface ModelStoreOptions {
  readonly locations?: ModelLocations;
  /** Free-space probe (tests inject one to simulate a full disk). */
  readonly freeSpace?: FreeSpaceProbe;
}

export interface ModelListing {
  /** Visible bundles, in precedence order (search folder, then id). */
  readonly models: InstalledModel[];
  /** Folders in the model locations that are not readable bundles, with the reason. */
  readonly broken: BrokenModel[];
}

export interface TaskOptions {
  readonly onProgress?: ProgressListener;
  readonly signal?: AbortSignal;
}

export interface InstallOptions extends TaskOptions {
  /** Overwrite an installed bundle with the same id (default false: OUTPUT_EXISTS). */
  readonly replace?: boolean;
}

export interface DownloadBundleOptions extends InstallOptions {
  /** sha256 of the archive, published with it. Required: a download is only installed when it matches. */
  readonly sha256: string;
  readonly retries?: number;
  readonly retryDelayMs?: number;
}

interface Found {
  readonly dir: string;
  readonly where: ModelSearchDir;
  readonly facts: BundleFacts;
  readonly shadows: string[];
}

export class ModelStore {
  readonly locations: ModelLocations;
  private readonly freeSpace: FreeSpaceProbe;
  private readonly cache: HashCache;

  constructor(options: ModelStoreOptions = {}) {
    this.locations = options.locations ?? resolveModelLocations();
    this.freeSpace = options.freeSpace ?? statfsFreeSpace;
    this.cache = new HashCache(this.locations.verifyCacheFile);
  }

  /**
   * Lists the installed bundles. By default the verified state comes from the hash cache only (cheap); with
   * `verify: true` files never hashed before are hashed now.
   */
  async list(options: { verify?: boolean } & TaskOptions = {}): Promise<ModelListing> {
    await this.cache.refresh();
    const { found, broken } = await this.scan();
    let defaults: Record<Variant, string | null>;
    try {
      defaults = await this.effectiveDefaults(found);
    } catch (err) {
      // A damaged settings file must not hide the installed models: list them with automatic defaults.
      if (!(err instanceof SegEarthError)) throw err;
      broken.push({ dir: this.locations.settingsFile, location: 'user', reason: err.describe() });
      defaults = await this.effectiveDefaults(found, { version: 1, defaults: {} });
    }
    const models: InstalledModel[] = [];
    for (const f of found) {
      const report = await verifyBundle(f.dir, f.facts, this.cache, {
        hash: options.verify ?? false,
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      models.push({
        id: f.facts.id,
        name: f.facts.name,
        dir: f.dir,
        location: f.where.kind,
        writable: f.where.writable,
        variant: f.facts.variant,
        testFixture: f.facts.testFixture,
        precision: f.facts.precision,
        sourceCheckpoint: f.facts.sourceCheckpoint,
        formatVersion: f.facts.formatVersion,
        sizeBytes: await folderSize(f.dir),
        verify: report,
        isDefault: defaults[f.facts.variant] === f.facts.id,
        shadows: f.shadows,
      });
    }
    return { models, broken };
  }

  /** One installed bundle by id; MODEL_NOT_FOUND (listing what is installed) otherwise. */
  async get(id: string): Promise<InstalledModel> {
    const { models } = await this.list();
    const m = models.find((x) => x.id === id);
    if (!m) throw await this.notFound(id);
    return m;
  }

  /** Hashes every file of bundle `id` (cached results reused unless `force`) and returns the report. */
  async verify(id: string, options: { force?: boolean } & TaskOptions = {}): Promise<InstalledModel> {
    const found = await this.find(id);
    await this.cache.refresh();
    const report = await verifyBundle(found.dir, found.facts, this.cache, { hash: true, ...options });
    return { ...(await this.get(id)), verify: report };
  }

  /** Installs a bundle from a folder (copied) or a `.tar.gz` / `.tar` / `.zip` archive (unpacked), atomically. */
  async import(source: string, options: InstallOptions = {}): Promise<InstalledModel> {
    const abs = path.resolve(source);
    let st;
    try {
      st = await stat(abs);
    } catch (err) {
      throw new SegEarthError('NOT_FOUND', `${abs} does not exist.`, {
        hint: 'Give the folder written by the exporter, or a .tar.gz of it.',
        path: abs,
        cause: err,
      });
    }
    const stage = { stagingDir: this.locations.stagingDir, freeSpace: this.freeSpace, ...taskOpts(options) };
    await this.assertWritableInstallDir();
    const staged = st.isDirectory()
      ? await stageFromFolder(abs, stage)
      : await stageFromArchive(abs, { ...stage, cache: this.cache });
    return this.commit(staged, options.replace ?? false);
  }

  /**
   * Downloads a bundle archive (resumable; see `download.ts`), checks its sha256, then installs it like
   * {@link import}. The archive is deleted afterwards; a failed download keeps its `.partial` for resuming,
   * except on a checksum mismatch, where it is deleted.
   */
  async download(url: string, options: DownloadBundleOptions): Promise<InstalledModel> {
    await this.assertWritableInstallDir();
    const archive = await downloadVerified({
      url,
      sha256: options.sha256,
      stagingDir: this.locations.stagingDir,
      freeSpace: this.freeSpace,
      // Unpacking needs about as much again as the archive.
      extraBytes: (total) => total,
      ...(options.retries !== undefined ? { retries: options.retries } : {}),
      ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
      ...taskOpts(options),
    });
    let keepArchive = false;
    try {
      const staged = await stageFromArchive(archive, {
        stagingDir: this.locations.stagingDir,
        // Space for the unpacked bundle was checked with the download.
        freeSpace: async () => Number.MAX_SAFE_INTEGER,
        cache: this.cache,
        ...taskOpts(options),
      });
      return await this.commit(staged, options.replace ?? false);
    } catch (err) {
      // Only a bundle that is already installed keeps the (good) archive: `--replace` then needs no new download.
      if (err instanceof SegEarthError && err.code === 'OUTPUT_EXISTS') {
        keepArchive = true;
        throw new SegEarthError(err.code, err.message, {
          hint: 'Run the same download with --replace to overwrite it (the downloaded archive is kept, so it will not be fetched again).',
          ...(err.path !== undefined ? { path: err.path } : {}),
        });
      }
      throw err;
    } finally {
      if (!keepArchive) await rm(archive, { force: true });
    }
  }

  /**
   * Installs a bundle that `build` writes into an empty staging folder (the checkpoint converter), atomically
   * like {@link import}: checked for `needBytes` of free space first, renamed into place only when `build`
   * succeeds, deleted otherwise (after a kill, by a later call: `geo/tempFolders`).
   */
  async installBuilt(
    build: (dir: string) => Promise<void>,
    options: InstallOptions & { readonly needBytes: number; readonly what: string },
  ): Promise<InstalledModel> {
    await this.assertWritableInstallDir();
    await ensureFreeSpace(this.freeSpace, this.locations.installDir, options.needBytes, options.what);
    await ensureDir(this.locations.stagingDir);
    const work = await makeTempFolder(this.locations.stagingDir, 'convert-');
    let staged: StagedBundle;
    try {
      const dir = path.join(work, 'bundle');
      await mkdir(dir);
      await build(dir);
      options.signal?.throwIfAborted();
      const facts = await readBundleFacts(dir);
      // The builder hashed every file it wrote: those are the manifest's sha256.
      staged = { work, dir, facts, digests: new Map(facts.files.map((f) => [f.path, f.sha256])) };
    } catch (err) {
      await discardStaged(work);
      throw err;
    }
    return this.commit(staged, options.replace ?? false);
  }

  /** Deletes bundle `id` from a writable folder; bundles shipped with the app are refused. */
  async remove(id: string): Promise<void> {
    const found = await this.find(id);
    if (!found.where.writable) {
      throw new SegEarthError('OUTPUT_NOT_WRITABLE', `"${id}" is shipped with the app (${found.dir}) and cannot be removed.`, {
        hint: 'Install another bundle and make it the default with `segearth models default <id>` instead.',
        path: found.dir,
      });
    }
    // Move aside first (atomic), then delete: a half-deleted bundle never shows up as installed.
    const trash = await makeWorkDir(path.join(path.dirname(found.dir), '.staging'), 'remove');
    try {
      await moveBundle(found.dir, path.join(trash, id));
    } catch (err) {
      await rm(trash, { recursive: true, force: true });
      throw err;
    }
    await rm(trash, { recursive: true, force: true });
    await this.cache.forgetDir(found.dir);
    await this.cache.flush();
    const settings = await readModelSettings(this.locations.settingsFile);
    if (settings.defaults[found.facts.variant] === id) {
      delete settings.defaults[found.facts.variant];
      await writeModelSettings(this.locations.settingsFile, settings);
    }
  }

  /** Makes bundle `id` the default for its variant; returns that variant. */
  async setDefault(id: string): Promise<Variant> {
    const found = await this.find(id);
    const settings = await readModelSettings(this.locations.settingsFile);
    settings.defaults[found.facts.variant] = id;
    await writeModelSettings(this.locations.settingsFile, settings);
    return found.facts.variant;
  }

  /** Forgets the chosen default of `variant` (the first installed bundle of it is used again). */
  async clearDefault(variant: Variant): Promise<void> {
    const settings = await readModelSettings(this.locations.settingsFile);
    delete settings.defaults[variant];
    await writeModelSettings(this.locations.settingsFile, settings);
  }

  /** The default bundle id per variant (null when none is installed). */
  async defaults(): Promise<Record<Variant, string | null>> {
    const { found } = await this.scan();
    return this.effectiveDefaults(found);
  }

  /**
   * The bundle the runtime should load for `variant` (any variant when omitted, in the order earthreason, rrsis-d, refsegrs, tiny-test): the
   * chosen default if it is installed, otherwise the first installed bundle of that variant; null when none.
   */
  async resolveDefault(variant?: Variant): Promise<InstalledModel | null> {
    const { models } = await this.list();
    const order = variant ? [variant] : VARIANTS;
    for (const v of order) {
      const m = models.find((x) => x.variant === v && x.isDefault);
      if (m) return m;
    }
    return null;
  }

  /**
   * Deletes leftovers of interrupted imports and removals, and finished downloads whose install was interrupted
   * (never `.partial` downloads, which resume).
   */
  async cleanStaging(): Promise<string[]> {
    const removed: string[] = [];
    let entries: string[];
    try {
      entries = await readdir(this.locations.stagingDir);
    } catch {
      return removed;
    }
    for (const name of entries) {
      const orphanArchive = name.endsWith('.archive') && !entries.includes(name.replace(/\.archive$/, '.lock'));
      if (/^(import|unpack|remove|convert)-/.test(name) || orphanArchive) {
        await rm(path.join(this.locations.stagingDir, name), { recursive: true, force: true });
        removed.push(name);
      }
    }
    return removed;
  }

  private async commit(staged: StagedBundle, replace: boolean): Promise<InstalledModel> {
    const target = await commitStaged(staged, this.locations.installDir, replace);
    // Renames keep size and mtime, so the hashes computed while staging stay valid for the final paths.
    await this.cache.forgetDir(target);
    for (const [rel, digest] of staged.digests) {
      const file = path.join(target, ...rel.split('/'));
      const st = await stat(file);
      await this.cache.store(file, st.size, st.mtimeMs, digest);
    }
    await this.cache.flush();
    const { models } = await this.list();
    const installed = models.find((m) => m.dir === target);
    if (!installed) throw new SegEarthError('INTERNAL', `Installed ${target} but cannot list it.`);
    return installed;
  }

  private async assertWritableInstallDir(): Promise<void> {
    const first = this.locations.searchDirs[0];
    if (!first?.writable) {
      throw new SegEarthError('OUTPUT_NOT_WRITABLE', 'There is no writable model folder to install into.', {
        hint: 'Set SEGEARTH_MODELS_DIR to a writable folder.',
      });
    }
  }

  private async find(id: string): Promise<Found> {
    const { found } = await this.scan();
    const f = found.find((x) => x.facts.id === id);
    if (!f) throw await this.notFound(id);
    return f;
  }

  private async notFound(id: string): Promise<SegEarthError> {
    const { found } = await this.scan();
    const ids = found.map((f) => f.facts.id);
    return new SegEarthError('MODEL_NOT_FOUND', `No installed model bundle is called "${id}".`, {
      hint: ids.length > 0 ? `Installed: ${ids.join(', ')}.` : 'No bundle is installed yet; see `segearth models import --help`.',
    });
  }

  /** Reads every bundle folder in precedence order; an id seen earlier shadows later ones. */
  private async scan(): Promise<{ found: Found[]; broken: BrokenModel[] }> {
    const found: Found[] = [];
    const broken: BrokenModel[] = [];
    for (const where of this.locations.searchDirs) {
      let names: string[];
      try {
        names = (await readdir(where.dir, { withFileTypes: true }))
          .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
          .map((e) => e.name)
          .sort();
      } catch {
        continue; // folder not created yet
      }
      for (const name of names) {
        const dir = path.join(where.dir, name);
        let facts: BundleFacts;
        try {
          facts = await readBundleFacts(dir);
        } catch (err) {
          // A folder without any manifest (e.g. the repository's models/README's neighbours) is not reported.
          if (err instanceof SegEarthError && err.code === 'MODEL_NOT_FOUND') continue;
          broken.push({ dir, location: where.kind, reason: err instanceof SegEarthError ? err.message : String(err) });
          continue;
        }
        const earlier = found.find((f) => f.facts.id === facts.id);
        if (earlier) earlier.shadows.push(dir);
        else found.push({ dir, where, facts, shadows: [] });
      }
    }
    return { found, broken };
  }

  private async effectiveDefaults(found: readonly Found[], given?: ModelSettings): Promise<Record<Variant, string | null>> {
    const settings = given ?? (await readModelSettings(this.locations.settingsFile));
    const out = {} as Record<Variant, string | null>;
    for (const v of VARIANTS) {
      const chosen = settings.defaults[v];
      const ok = chosen !== undefined && found.some((f) => f.facts.id === chosen && f.facts.variant === v);
      out[v] = ok ? chosen : (found.find((f) => f.facts.variant === v)?.facts.id ?? null);
    }
    return out;
  }
}

/** Sum of the sizes of all regular files under `dir` (links are not followed). */
export async function folderSize(dir: string): Promise<number> {
  let total = 0;
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await folderSize(p);
    else if (e.isFile()) total += (await lstat(p)).size;
  }
  return total;
}

function taskOpts(o: TaskOptions): TaskOptions {
  return { ...(o.onProgress ? { onProgress: o.onProgress } : {}), ...(o.signal ? { signal: o.signal } : {}) };
}
