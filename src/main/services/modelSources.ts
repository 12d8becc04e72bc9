/**
 * @module main/services/modelSources
 * Where the Get flow's work is done, as the model service needs it: the model hub client
 * (`inference/hub`: model info, the precision for this machine, download + convert + install with resume)
 * and the checkpoint converter (`inference/conversion`). The service programs against these two small
 * interfaces; {@link defaultModelSources} binds them to the real modules (tests use the same binding against
 * a local hub).
 */
import type { ModelStore } from '../../inference/models/ModelStore.js';
import type { ConversionStage, DeviceReport, ModelProgress, ProgressListener } from '../../shared/api/modelDto.js';
import { SegEarthError } from '../../shared/errors.js';
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
  /** Removes the partial files an unfinished `get` of `repo` left. */
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

/**
 * The real hub client and converter, loaded when first used (they pull in onnxruntime and the HTTP client).
 * `devices` gives the execution providers of this machine: the precision follows the one Automatic uses.
 */
export function defaultModelSources(_options: { devices: () => Promise<DeviceReport> }): ModelSources {
  const unavailable = (): never => {
    throw new SegEarthError('INTERNAL', 'Getting models from the hub is not built into this version yet.');
  };
  return {
    hub: {
      downloadBytes: async () => unavailable(),
      recommendedPrecision: async () => unavailable(),
      get: async () => unavailable(),
      discard: async () => unavailable(),
    },
    convert: convertFolder,
  };
}
