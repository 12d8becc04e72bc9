/**
 * @module renderer/errorPayload
 * Any error the UI catches → what it shows: the backend's code, message and hint (the API client rebuilds
 * them from the payload), or INTERNAL for anything else. The one normaliser of the renderer; decisions are
 * taken on `code`, never on the message text.
 */
import { toErrorPayload, type ErrorPayload } from '../shared/errors';

export function errorPayloadOf(err: unknown): ErrorPayload {
  if (err && typeof err === 'object' && 'code' in err && 'message' in err) {
    const e = err as { code: ErrorPayload['code']; message: string; hint?: string };
    return { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
  }
  return toErrorPayload(err);
}
