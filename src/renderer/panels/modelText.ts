/**
 * @module renderer/panels/modelText
 * How the Model & device dialog words model tasks: phase names, a progress line with bytes, rate and time
 * left, and what went wrong in plain words with what to do — chosen by the error's code, never by matching
 * its message.
 */
import type { ConversionStage, InstalledModel, ModelProgress } from '../../shared/api/modelDto';
import type { ErrorCode } from '../../shared/errors';
import { formatBytes, formatDuration } from '../format';

export const PHASE_LABELS: Record<ModelProgress['phase'], string> = {
  download: 'Downloading',
  hash: 'Checking the checksum',
  extract: 'Unpacking',
  copy: 'Copying',
  verify: 'Checking files against the manifest',
  install: 'Installing',
  convert: 'Converting',
};

export const STAGE_LABELS: Record<ConversionStage, string> = {
  checking: 'Converting: checking the checkpoint',
  weights: 'Converting: writing the weights',
  tokenizer: 'Converting: the tokenizer',
  'prefix-cache': 'Converting: computing the prompt cache',
  hashing: 'Converting: checksums',
  installing: 'Installing',
};

export const LOCATION_LABELS: Record<InstalledModel['location'], string> = {
  env: 'SEGEARTH_MODELS_DIR',
  user: 'your model folder',
  shipped: 'shipped with the app (read-only)',
};

/** A task's phase (or conversion step) in words. */
export function progressLabel(p: ModelProgress): string {
  return p.phase === 'convert' && p.stage ? STAGE_LABELS[p.stage] : PHASE_LABELS[p.phase];
}

/** Fraction done (null when the total is unknown). */
export function progressFraction(p: ModelProgress): number | null {
  return p.total ? Math.min(1, p.done / p.total) : null;
}

/** "Downloading — 1.2 GB of 6.1 GB (20 %) · 12.3 MB/s · 6 min 40 s left". */
export function progressText(p: ModelProgress): string {
  const unit = p.phase === 'verify' ? (n: number) => `${n} files` : p.phase === 'convert' ? (n: number) => `${n}` : (n: number) => formatBytes(n);
  const amount = p.total ? `${unit(p.done)} of ${unit(p.total)} (${Math.floor((p.done / p.total) * 100)} %)` : unit(p.done);
  const parts = [`${progressLabel(p)} — ${amount}`];
  if (p.bytesPerSecond) parts.push(`${formatBytes(p.bytesPerSecond)}/s`);
  if (p.etaSeconds !== undefined && p.etaSeconds !== null) parts.push(`${formatDuration(p.etaSeconds)} left`);
  if (p.message) parts.push(p.message);
  return parts.join(' · ');
}

/** What an error from the backend carries. */
export interface ProblemLike {
  code?: ErrorCode | string;
  message?: string;
  hint?: string;
}

/** The headline of a failed Get / conversion, by error code. */
const PROBLEM_TITLES: Partial<Record<ErrorCode, string>> = {
  DOWNLOAD_FAILED: 'The download from the model hub failed.',
  UNAUTHORIZED: 'The model hub refused access to this checkpoint.',
  DISK_FULL: 'There is not enough free disk space.',
  CHECKSUM_MISMATCH: 'A downloaded file was damaged (its checksum did not match the hub’s).',
  MODEL_INVALID: 'The checkpoint cannot be converted.',
  OUTPUT_EXISTS: 'This model is already installed.',
  OUTPUT_NOT_WRITABLE: 'The model folder cannot be written.',
  FORBIDDEN_PATH: 'That folder is outside the folders this server may read.',
};

/** What to do when the backend gave no hint. */
const PROBLEM_ADVICE: Partial<Record<ErrorCode, string>> = {
  DOWNLOAD_FAILED: 'Check the network (behind a proxy, set HTTPS_PROXY before starting the app), then press Try again: the download continues where it stopped. Offline? Copy the checkpoint folder here and use “Convert a checkpoint folder…”.',
  UNAUTHORIZED: 'Accept the checkpoint’s terms on the hub with your account, then start the app with HF_TOKEN set to an access token of that account.',
  DISK_FULL: 'Free space on the disk of the model folder (or set SEGEARTH_MODELS_DIR to a larger disk), then press Resume.',
  CHECKSUM_MISMATCH: 'The damaged file was removed; press Resume to download it again.',
};

/** A problem in plain words: a headline, the backend's message and what to do. */
export function describeProblem(err: unknown): { title: string | null; message: string; advice: string | null } {
  const e = (err ?? {}) as ProblemLike;
  const code = e.code as ErrorCode | undefined;
  const message = e.message ?? String(err);
  return {
    title: (code && PROBLEM_TITLES[code]) ?? null,
    message,
    advice: e.hint ?? (code ? (PROBLEM_ADVICE[code] ?? null) : null),
  };
}

/** The same in one line (status texts). */
export function problemText(err: unknown): string {
  const d = describeProblem(err);
  return [d.title, d.message, d.advice].filter(Boolean).join(' ');
}
