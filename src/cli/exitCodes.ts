/**
 * @module cli/exitCodes
 * The one place where `segearth` exit statuses are defined and errors are mapped to them.
 *
 * | status | meaning |
 * |-------:|---------|
 * | 0   | success |
 * | 1   | internal error (a bug, or an unexpected failure) |
 * | 2   | usage error: unknown command/option, bad option value |
 * | 3   | input error: missing/unreadable raster, bad CRS, model missing/invalid/not downloadable |
 * | 4   | output error: output exists, folder not writable, disk full, unsupported output format |
 * | 130 | cancelled (Ctrl-C) |
 */
import type { ErrorCode } from '../shared/errors.js';
import { isSegEarthError } from '../shared/errors.js';

export const EXIT = {
  OK: 0,
  INTERNAL: 1,
  USAGE: 2,
  INPUT: 3,
  OUTPUT: 4,
  CANCELLED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const BY_ERROR_CODE: Record<ErrorCode, ExitCode> = {
  NOT_FOUND: EXIT.INPUT,
  IS_DIRECTORY: EXIT.INPUT,
  NOT_A_RASTER: EXIT.INPUT,
  CORRUPT_RASTER: EXIT.INPUT,
  RASTER_TOO_LARGE: EXIT.INPUT,
  NOT_GEOREFERENCED: EXIT.INPUT,
  CRS_ERROR: EXIT.INPUT,
  MODEL_NOT_FOUND: EXIT.INPUT,
  MODEL_INVALID: EXIT.INPUT,
  MODEL_VERSION: EXIT.INPUT,
  DOWNLOAD_FAILED: EXIT.INPUT,
  CHECKSUM_MISMATCH: EXIT.INPUT,
  DISK_FULL: EXIT.OUTPUT,
  BAD_ARGUMENT: EXIT.USAGE,
  OUTPUT_EXISTS: EXIT.OUTPUT,
  BATCH_EXISTS: EXIT.OUTPUT,
  OUTPUT_NOT_WRITABLE: EXIT.OUTPUT,
  UNSUPPORTED_FORMAT: EXIT.OUTPUT,
  CANCELLED: EXIT.CANCELLED,
  INFERENCE_FAILED: EXIT.INTERNAL,
  UNAUTHORIZED: EXIT.INTERNAL,
  FORBIDDEN_PATH: EXIT.INTERNAL,
  INTERNAL: EXIT.INTERNAL,
};

/** Exhaustive on purpose: a new ErrorCode does not compile until its exit status is chosen here. */
export function exitCodeFor(err: unknown): ExitCode {
  return isSegEarthError(err) ? (BY_ERROR_CODE[err.code] ?? EXIT.INTERNAL) : EXIT.INTERNAL;
}
