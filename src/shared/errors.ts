/**
 * @module shared/errors
 * Typed, serialisable errors. Every error that reaches an analyst carries a stable `code`, a message that
 * says what was wrong, and a `hint` that says what to do. They cross process boundaries as plain objects
 * (see `toErrorPayload` / `fromErrorPayload`) and are rebuilt on the other side; their zod schema, for the
 * messages that carry them, is `shared/errorPayloadSchema` (kept apart so that a process that only throws
 * errors, such as the CLI, does not load zod at start-up).
 */

export const ERROR_CODES = [
  'NOT_FOUND',
  'IS_DIRECTORY',
  'NOT_A_RASTER',
  'CORRUPT_RASTER',
  'RASTER_TOO_LARGE',
  'NOT_GEOREFERENCED',
  'BAD_ARGUMENT',
  'OUTPUT_EXISTS',
  /** The output folder holds a batch already: resume it or choose another folder. */
  'BATCH_EXISTS',
  'OUTPUT_NOT_WRITABLE',
  'UNSUPPORTED_FORMAT',
  'CRS_ERROR',
  'MODEL_NOT_FOUND',
  'MODEL_INVALID',
  'MODEL_VERSION',
  'INFERENCE_FAILED',
  'CANCELLED',
  'UNAUTHORIZED',
  'FORBIDDEN_PATH',
  'INTERNAL',
  // Model manager (download / import of model bundles).
  'DOWNLOAD_FAILED',
  'CHECKSUM_MISMATCH',
  'DISK_FULL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class SegEarthError extends Error {
  override readonly name = 'SegEarthError';
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly path: string | undefined;

  constructor(code: ErrorCode, message: string, options: { hint?: string; path?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.path = options.path;
  }

  /** Message and hint in one line, for CLI output and status bars. */
  describe(): string {
    return this.hint ? `${this.message} ${this.hint}` : this.message;
  }
}

/** An error as a plain object (validated by `ErrorPayloadSchema` in `shared/errorPayloadSchema`). */
export interface ErrorPayload {
  code: ErrorCode;
  message: string;
  hint?: string | undefined;
  path?: string | undefined;
}

export function toErrorPayload(err: unknown): ErrorPayload {
  if (err instanceof SegEarthError) {
    return {
      code: err.code,
      message: err.message,
      ...(err.hint !== undefined ? { hint: err.hint } : {}),
      ...(err.path !== undefined ? { path: err.path } : {}),
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'INTERNAL', message, hint: 'This is a bug in SegEarth Desktop; please report it with the log file.' };
}

export function fromErrorPayload(payload: ErrorPayload): SegEarthError {
  return new SegEarthError(payload.code, payload.message, {
    ...(payload.hint !== undefined ? { hint: payload.hint } : {}),
    ...(payload.path !== undefined ? { path: payload.path } : {}),
  });
}

export function isSegEarthError(err: unknown, code?: ErrorCode): err is SegEarthError {
  return err instanceof SegEarthError && (code === undefined || err.code === code);
}
