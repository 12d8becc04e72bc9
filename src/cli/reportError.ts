/**
 * @module cli/reportError
 * Prints an error the way every `segearth` command does — `error: <message>` then `  hint: <hint>` on
 * stderr — and returns the exit status for it (`cli/exitCodes`).
 */
import { isSegEarthError, toErrorPayload } from '../shared/errors.js';
import { EXIT, exitCodeFor, type ExitCode } from './exitCodes.js';

export function reportError(err: unknown, write: (text: string) => void): ExitCode {
  const payload = toErrorPayload(err);
  write(`error: ${payload.message}\n`);
  if (payload.hint) write(`  hint: ${payload.hint}\n`);
  const code = exitCodeFor(err);
  if (code === EXIT.INTERNAL && !isSegEarthError(err) && err instanceof Error && process.env.SEGEARTH_DEBUG) {
    write(`${err.stack ?? ''}\n`);
  }
  return code;
}
