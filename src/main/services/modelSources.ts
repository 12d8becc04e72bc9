/**
 * @module main/services/modelSources
 * Where the Get flow's work is done, as the model service needs it: the model hub client
 * (`inference/hub`: model info, the precision for this machine, download + convert + install with resume)
 * and the checkpoint converter (`inference/conversion`). The service programs against these two small
 * interfaces; {@link defaultModelSources} binds them to the real modules (tests use the same binding against
 * a local hub).
 */
import type { ModelStore } from '../../inference/models/ModelStore.js';
import type { HubProgress } from '../../inference/hub/hubProgress.js';
import { ConversionStageSchema, type ConversionStage, type DeviceReport, type ModelProgress, type ProgressListener } from '../../shared/api/modelDto.js';
import type { ConversionPrecision } from '../../shared/api/modelReleaseDto.js';

export interface SourceTaskOptions {
  readonly store: ModelStore;
  readonly signal: AbortSignal;
  readonly onProgress: ProgressListener;
}

export interface ModelHub {
  /** Bytes to download for `repo` (the sum of its files' sizes in the hub's model info). */
  downloadBytes(repo: string, signal: AbortSignal): Promise<number>;
  /** The precision to convert to for this machine's best execution provider, and why. */
  recommendedPrecision(): Promise<{ precision: ConversionPrecision; reason: string }>;
  /**
   * Downloads `repo` (resuming partial files left by an earlier call), converts it and installs the bundle;
   * resolves with the installed bundle's id. Aborting keeps the partial files.
   */
  get(repo: string, precision: ConversionPrecision, options: SourceTaskOptions): Promise<string>;
  /** Removes the partial files (`.incomplete`) an unfinished `get` of `repo` left; complete files stay in the shared cache. */
  discard(repo: string): Promise<void>;
}

/** Converts a checkpoint folder and installs the bundle; resolves with its id. */
export type ConvertFolder = (checkpointDir: string, precision: ConversionPrecision, options: SourceTaskOptions & { replace: boolean }) => Promise<string>;

export interface ModelSources {
  readonly hub: ModelHub;
  readonly convert: ConvertFolder;
}

/** The converter's progress as a model task's (`convert` phase, its stage named). */
export function conversionProgress(p: { stage: ConversionStage; done: number; total: number; message?: string | undefined }): ModelProgress {
  return { phase: 'convert', stage: p.stage, done: p.done, total: p.total, ...(p.message !== undefined ? { message: p.message } : {}) };
}

/** `inference/conversion`, installing into the model store. */
export const convertFolder: ConvertFolder = async (checkpointDir, precision, { store, replace, signal, onProgress }) => {
  const { convertCheckpoint } = await import('../../inference/conversion/convertCheckpoint.js');
  const { manifest } = await convertCheckpoint({ checkpointDir, precision, store, replace, signal, onProgress: (p) => onProgress(conversionProgress(p)) });
  return manifest.id;
};

/** The hub client's progress as a model task's (download bytes count the whole checkpoint, resumed parts included). */
export function hubProgress(p: HubProgress): ModelProgress {
  const message = p.message ?? (p.stage === 'downloading' || p.stage === 'verifying' ? p.detail : undefined);
  const extra = message !== undefined ? { message } : {};
  switch (p.stage) {
    case 'resolving':
    case 'downloading':
      return { phase: 'download', done: p.done, total: p.total, bytesPerSecond: p.bytesPerSecond, etaSeconds: p.etaSeconds, ...extra };
    case 'verifying':
      return { phase: 'hash', done: p.done, total: p.total, ...extra };
    case 'converting':
    case 'installing': {
      const stage = ConversionStageSchema.safeParse(p.detail);
      return conversionProgress({ stage: stage.success ? stage.data : p.stage === 'installing' ? 'installing' : 'checking', done: p.done, total: p.total ?? 1, message: p.message });
    }
  }
}

/**
 * The real hub client (`inference/hub`) and converter, loaded when first used (they pull in onnxruntime and
 * the HTTP client). `devices` gives the execution providers of this machine, probed once by the model
 * service: the precision follows the one Automatic uses (`hub/precisionChoice`), without probing again.
 */
export function defaultModelSources(options: { devices: () => Promise<DeviceReport> }): ModelSources {
  /** Checkpoint bytes per repository (one model-info call each per process; a revision does not change). */
  const sizes = new Map<string, number>();
  const downloadBytes = async (repo: string, signal?: AbortSignal): Promise<number> => {
    const known = sizes.get(repo);
    if (known !== undefined) return known;
    const [{ fetchRepoSnapshot }, { selectCheckpointFiles }, { resolveHubConfig }] = await Promise.all([
      import('../../inference/hub/hubApi.js'),
      import('../../inference/hub/checkpointFiles.js'),
      import('../../inference/hub/hubConfig.js'),
    ]);
    const snapshot = await fetchRepoSnapshot(repo, 'main', { config: resolveHubConfig(), ...(signal ? { signal } : {}) });
    const bytes = selectCheckpointFiles(snapshot.files, snapshot).reduce((n, f) => n + f.size, 0);
    sizes.set(repo, bytes);
    return bytes;
  };
  return {
    hub: {
      downloadBytes,
      async recommendedPrecision() {
        const [{ precisionFor }, report] = await Promise.all([import('../../inference/hub/precisionChoice.js'), options.devices()]);
        const best = report.providers.find((d) => d.works && d.label === report.auto) ?? report.providers.find((d) => d.provider === 'cpu');
        const choice = precisionFor(best?.provider ?? 'cpu');
        return { precision: choice.precision, reason: choice.reason };
      },
      async get(repo, precision, { store, signal, onProgress }) {
        const { getModelFromHub } = await import('../../inference/hub/getModel.js');
        const got = await getModelFromHub({ source: repo, precision, store }, { signal, onProgress: (p) => onProgress(hubProgress(p)) });
        return got.model.id;
      },
      async discard(repo) {
        const { discardPartialDownloads } = await import('../../inference/hub/snapshotDownload.js');
        await discardPartialDownloads(repo); // only our own partial files, and none another process is writing
      },
    },
    convert: convertFolder,
  };
}
