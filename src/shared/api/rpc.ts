/**
 * @module shared/api/rpc
 * Wire messages of the API, the same over Electron IPC, HTTP and WebSocket: a request names a service and a
 * method; a response carries either the result or a serialised {@link SegEarthError}; events are pushed with
 * their `<service>.<event>` name. Each transport validates what it receives with these schemas before looking
 * inside.
 */
import { z } from 'zod';
import { ErrorPayloadSchema } from '../errorPayloadSchema.js';

export const RpcRequestSchema = z.object({
  id: z.number().int().nonnegative(),
  service: z.string().min(1).max(64),
  method: z.string().min(1).max(64),
  args: z.unknown(),
});
export type RpcRequest = z.infer<typeof RpcRequestSchema>;

export const RpcResponseSchema = z.discriminatedUnion('ok', [
  z.object({ id: z.number().int().nonnegative(), ok: z.literal(true), result: z.unknown() }),
  z.object({ id: z.number().int().nonnegative(), ok: z.literal(false), error: ErrorPayloadSchema }),
]);
export type RpcResponse = z.infer<typeof RpcResponseSchema>;

export const RpcEventSchema = z.object({
  event: z.string().min(1).max(64),
  payload: z.unknown(),
});
export type RpcEvent = z.infer<typeof RpcEventSchema>;

/** Electron IPC channel names; the preload refuses every channel without the prefix. */
export const IPC_PREFIX = 'segearth:';
export const IPC_INVOKE_CHANNEL = 'segearth:invoke';
export const IPC_EVENT_CHANNEL = 'segearth:event';
