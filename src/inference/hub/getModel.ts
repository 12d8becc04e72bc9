/**
 * @module inference/hub/getModel
 * Get a released SegEarth-R1 model in one call, with no Python: download the checkpoint from the model hub
 * into the shared cache (`snapshotDownload`), convert it to a bundle in the precision that suits this machine
 * (`conversion/convertCheckpoint`, `precisionChoice`), install it atomically into the model store and make it
 * the default of its variant when none was chosen. Used by `segearth models get` and by the app's model
 * service (the Model & device dialog's Get button).
 *
 * ```ts
 * const got = await getModelFromHub({ source: 'earthreason' }, { onProgress: (p) => show(p), signal });
 * ```
 *
 * Aborting is pausing: a download stopped by the signal (or by the process ending) keeps its `.incomplete`
 * files in the hub cache, and the next call resumes from them; a conversion stopped midway installs nothing
 * and is redone from the complete download. Free space for the download AND the bundle is checked before the
 * first byte.
 */
import path from 'node:path';
import type { Dispatcher } from 'undici';
import { SegEarthError } from '../../shared/errors.js';
import { type ConversionPrecision, convertCheckpoint, defaultBundleId, estimateBundleBytes, guessVariant } from '../conversion/convertCheckpoint.js';
import { readGraphTemplate, templateDirFor } from '../conversion/graphTemplate.js';
import { formatBytes, type FreeSpaceProbe } from '../models/diskSpace.js';
import { CHECKPOINTS, findCheckpoint } from '../models/firstRun.js';
import { ModelStore } from '../models/ModelStore.js';
import type { InstalledModel } from '../models/types.js';
import { fetchRepoSnapshot, RepoIdSchema } from './hubApi.js';
import { repoCache } from './hubCache.js';
import { selectCheckpointFiles } from './checkpointFiles.js';
import { type HubConfig, resolveHubConfig } from './hubConfig.js';
import type { HubProgressListener } from './hubProgress.js';
import { choosePrecision, type PrecisionChoice } from './precisionChoice.js';
import { cacheState, downloadSnapshot } from './snapshotDownload.js';

export interface GetModelOptions {
  /** A repository id (`org/name`) or a released checkpoint's shortcut: `earthreason`, `rrsis-d`. */
  readonly source: string;
  /** Branch, tag or commit (default `main`). */
  readonly revision?: string;
  /** Precision profile; default: the one for this machine's best execution provider (`precisionChoice`). */
  readonly precision?: ConversionPrecision;
  /** A graph template folder for other model sizes (`--graphs`); replaces the shipped template of `precision`. */
  readonly templateDir?: string;
  /** Bundle id (default `segearth-r1-<variant>[-<profile>]`). */
  readonly id?: string;
  /** Overwrite an installed bundle with the same id. */
  readonly replace?: boolean;
  readonly store?: ModelStore;
  readonly config?: HubConfig;
  readonly agent?: Dispatcher;
  /** Free-space probe (tests simulate a full disk). */
  readonly freeSpace?: FreeSpaceProbe;
  readonly retries?: number;
  readonly retryDelayMs?: number;
}

export interface GetModelTask {
  readonly onProgress?: HubProgressListener;
  /** Abort = pause: the download resumes on the next call. */
  readonly signal?: AbortSignal;
  /** Told once the precision is chosen (before anything is downloaded), e.g. to print why. */
  readonly onPrecision?: (choice: { precision: string; reason: string }) => void;
}

export interface GotModel {
  readonly model: InstalledModel;
  readonly repo: string;
  readonly commit: string;
  /** The precision profile of the bundle (`fp32`, `cpu`, `fp16`, or a given template's). */
  readonly precision: string;
  readonly precisionReason: string;
  readonly downloadedBytes: number;
  readonly cachedBytes: number;
  /** True when it was made the default of its variant (none was chosen before). */
  readonly madeDefault: boolean;
  /** The checkpoint folder in the hub cache (`snapshots/<commit>`). */
  readonly checkpointDir: string;
}

/** A shortcut or repository id → the repository and the variant its prompts use. */
export function resolveModelSource(source: string): { repo: string; variant: 'earthreason' | 'rrsis-d' | 'refsegrs' } {
  const s = source.trim();
  const known = findCheckpoint(s);
  if (known) return { repo: known.repo, variant: known.variant === 'rrsis-d' ? 'rrsis-d' : known.variant === 'refsegrs' ? 'refsegrs' : 'earthreason' };
  const parsed = RepoIdSchema.safeParse(s);
  if (!parsed.success) {
    throw new SegEarthError('BAD_ARGUMENT', `"${source}" is neither a released checkpoint (${CHECKPOINTS.map((c) => c.variant).join(', ')}) nor a repository id (organisation/name).`, {
      hint: 'For example: segearth models get earthreason, or segearth models get earth-insights/SegEarth-R1-RRSIS-D.',
    });
  }
  return { repo: parsed.data, variant: guessVariant(parsed.data.split('/')[1]!) };
}

export interface ModelDownloadPlan {
  readonly repo: string;
  readonly variant: 'earthreason' | 'rrsis-d' | 'refsegrs';
  readonly commit: string;
  /** Bytes of the checkpoint files (what a fresh download fetches). */
  readonly totalBytes: number;
  /** Bytes already in the hub cache, whole files. */
  readonly cachedBytes: number;
  /** Bytes still to download (partial files counted as done). */
  readonly remainingBytes: number;
}

/**
 * What getting `source` would download, without downloading: one API call (for the app's cards: "size to
 * download", and "x % downloaded" after a pause or an app restart).
 */
export async function planModelDownload(
  options: Pick<GetModelOptions, 'source' | 'revision' | 'config' | 'agent'>,
  task: { signal?: AbortSignal } = {},
): Promise<ModelDownloadPlan> {
  const { repo, variant } = resolveModelSource(options.source);
  const config = options.config ?? resolveHubConfig();
  const snapshot = await fetchRepoSnapshot(repo, options.revision ?? 'main', {
    config,
    ...(options.agent ? { agent: options.agent } : {}),
    ...(task.signal ? { signal: task.signal } : {}),
  });
  const files = selectCheckpointFiles(snapshot.files, snapshot);
  const state = await cacheState(repoCache(config.cacheDir, repo), files);
  const totalBytes = files.reduce((n, f) => n + f.size, 0);
  return { repo, variant, commit: snapshot.commit, totalBytes, cachedBytes: state.cachedBytes, remainingBytes: state.remainingBytes };
}

/** Downloads, converts and installs; see the module comment. */
export async function getModelFromHub(options: GetModelOptions, task: GetModelTask = {}): Promise<GotModel> {
  const { repo, variant } = resolveModelSource(options.source);
  const { signal, onProgress } = task;
  const choice: Pick<PrecisionChoice, 'precision' | 'reason'> =
    options.precision || options.templateDir ? { precision: options.precision ?? 'fp32', reason: 'asked for' } : await choosePrecision();
  const templateOpts = { precision: choice.precision, ...(options.templateDir ? { templateDir: options.templateDir } : {}) };
  const template = await readGraphTemplate(templateDirFor(templateOpts));
  const precision = template.json.profile;
  task.onPrecision?.({ precision, reason: options.templateDir ? `the profile of the graph template ${options.templateDir}` : choice.reason });
  const config = options.config ?? resolveHubConfig();
  const store = options.store ?? new ModelStore(options.freeSpace ? { freeSpace: options.freeSpace } : {});
  const id = options.id ?? defaultBundleId(variant, template.json.profile);

  // Refuse an existing bundle before downloading gigabytes.
  const { models } = await store.list();
  const existing = models.find((m) => m.id === id);
  if (existing && !options.replace) {
    throw new SegEarthError('OUTPUT_EXISTS', `A bundle "${id}" is already installed (${existing.dir}, from ${existing.sourceCheckpoint}).`, {
      hint: 'Add --replace to download (if needed) and convert it again, or --precision for another profile.',
      path: existing.dir,
    });
  }
  const defaultsBefore = await store.defaults();
  const bundleBytes = await estimateBundleBytes(templateOpts);

  const snapshot = await downloadSnapshot({
    repo,
    ...(options.revision ? { revision: options.revision } : {}),
    config,
    ...(options.agent ? { agent: options.agent } : {}),
    select: selectCheckpointFiles,
    alsoNeeds: () => [{ dir: store.locations.stagingDir, bytes: bundleBytes, what: `its ${template.json.profile} bundle` }],
    ...(options.freeSpace ? { freeSpace: options.freeSpace } : {}),
    verifyCacheFile: store.locations.verifyCacheFile,
    ...(options.retries !== undefined ? { retries: options.retries } : {}),
    ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
    ...(onProgress ? { onProgress } : {}),
    ...(signal ? { signal } : {}),
  });

  const { manifest } = await convertCheckpoint({
    checkpointDir: snapshot.dir,
    ...templateOpts,
    variant,
    id,
    source: { checkpoint: repo, revision: snapshot.commit },
    store,
    replace: options.replace ?? false,
    ...(signal ? { signal } : {}),
    onProgress: (p) =>
      onProgress?.({
        stage: p.stage === 'installing' ? 'installing' : 'converting',
        detail: p.stage,
        done: p.done,
        total: p.total,
        bytesPerSecond: null,
        etaSeconds: null,
        ...(p.message !== undefined ? { message: p.message } : {}),
      }),
  });

  let madeDefault = false;
  if (defaultsBefore[manifest.variant] === null) {
    await store.setDefault(manifest.id);
    madeDefault = true;
  }
  const model = await store.get(manifest.id);
  return {
    model,
    repo,
    commit: snapshot.commit,
    precision,
    precisionReason: choice.reason,
    downloadedBytes: snapshot.downloadedBytes,
    cachedBytes: snapshot.cachedBytes,
    madeDefault,
    checkpointDir: snapshot.dir,
  };
}

/** One line for logs and the CLI: what was installed and from where. */
export function describeGotModel(got: GotModel): string {
  const fetched = got.downloadedBytes > 0 ? `downloaded ${formatBytes(got.downloadedBytes)}` : 'nothing downloaded';
  const reused = got.cachedBytes > 0 ? `, ${formatBytes(got.cachedBytes)} from the cache (${path.dirname(path.dirname(got.checkpointDir))})` : '';
  return `${got.repo}@${got.commit.slice(0, 10)}: ${fetched}${reused}`;
}
