/**
 * @module shared/errorPayloadSchema
 * The zod schema of an error crossing a process boundary (`ErrorPayload` of `shared/errors`), for the
 * messages that carry one (API, worker protocol, batch journal).
 */
import { z } from 'zod';
import { ERROR_CODES, type ErrorPayload } from './errors.js';

export const ErrorPayloadSchema = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  hint: z.string().optional(),
  path: z.string().optional(),
}) satisfies z.ZodType<ErrorPayload>;
