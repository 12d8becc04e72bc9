/**
 * @module main/dispatch
 * The transport-agnostic dispatcher: takes an untrusted request (from IPC, HTTP or a test), validates the
 * envelope and the arguments against the contract, calls the service, validates the result, and answers
 * with a wire response. Errors never escape as exceptions: they become serialised {@link SegEarthError}s.
 */
import { getMethodSpec, type ApiImplementation, type CallContext } from '../shared/api/contract.js';
import { RpcRequestSchema, type RpcResponse } from '../shared/api/rpc.js';
import { SegEarthError, toErrorPayload } from '../shared/errors.js';

export interface Dispatcher {
  dispatch(raw: unknown, ctx: CallContext): Promise<RpcResponse>;
}

export interface DispatcherOptions {
  /** Called for failures that are bugs (INTERNAL), for the log file. */
  onInternalError?: (err: unknown, where: string) => void;
}

export function createDispatcher(impl: ApiImplementation, options: DispatcherOptions = {}): Dispatcher {
  return {
    async dispatch(raw, ctx) {
      const envelope = RpcRequestSchema.safeParse(raw);
      if (!envelope.success) {
        return { id: 0, ok: false, error: toErrorPayload(new SegEarthError('BAD_ARGUMENT', 'Malformed API request.')) };
      }
      const { id, service, method, args } = envelope.data;
      const where = `${service}.${method}`;
      const spec = getMethodSpec(service, method);
      if (!spec) {
        return { id, ok: false, error: toErrorPayload(new SegEarthError('BAD_ARGUMENT', `Unknown API method ${where}.`)) };
      }
      const input = spec.input.safeParse(args);
      if (!input.success) {
        const issue = input.error.issues[0];
        const field = issue && issue.path.length > 0 ? ` (${issue.path.join('.')})` : '';
        const err = new SegEarthError('BAD_ARGUMENT', `${issue?.message ?? 'Invalid argument'}${field}.`, {
          hint: `Check the arguments of ${where}.`,
        });
        return { id, ok: false, error: toErrorPayload(err) };
      }
      try {
        const serviceImpl = impl[service as keyof ApiImplementation] as Record<string, (a: unknown, c: CallContext) => Promise<unknown>>;
        const result = await serviceImpl[method]!(input.data, ctx);
        const output = spec.output.safeParse(result);
        if (!output.success) {
          throw new Error(`${where} returned a value that does not match the contract: ${output.error.message}`);
        }
        return { id, ok: true, result: output.data };
      } catch (err) {
        const payload = toErrorPayload(err);
        if (payload.code === 'INTERNAL') options.onInternalError?.(err, where);
        return { id, ok: false, error: payload };
      }
    },
  };
}
