/**
 * @module shared/api/client
 * Turns a transport (anything that can send a request and deliver events) into a typed {@link ApiClient}:
 * `client.workspace.openRaster({path})`. Arguments are validated before they leave, results and events are
 * validated when they arrive, and errors come back as {@link SegEarthError} instances.
 */
import { fromErrorPayload, SegEarthError } from '../errors.js';
import { api, apiEvents, isEventName, type ApiClient, type EventName, type EventPayload, type MethodSpec } from './contract.js';
import { RpcResponseSchema, type RpcEvent, type RpcRequest, type RpcResponse } from './rpc.js';

export interface ClientTransport {
  /** Sends one request and resolves with the raw response (validated here). */
  request(req: RpcRequest): Promise<unknown>;
  /** Delivers every event; returns an unsubscribe function. */
  subscribe(listener: (event: RpcEvent) => void): () => void;
}

export function createApiClient(transport: ClientTransport): ApiClient {
  let nextId = 1;
  const listeners = new Map<EventName, Set<(payload: unknown) => void>>();
  let unsubscribeTransport: (() => void) | null = null;

  const onTransportEvent = (evt: RpcEvent): void => {
    if (!isEventName(evt.event)) return;
    const set = listeners.get(evt.event);
    if (!set || set.size === 0) return;
    const parsed = apiEvents[evt.event].safeParse(evt.payload);
    if (!parsed.success) {
      console.warn(`SegEarth: dropped malformed ${evt.event} event`, parsed.error.issues);
      return;
    }
    for (const listener of [...set]) listener(parsed.data);
  };

  const client: Record<string, unknown> = {};
  for (const [service, methods] of Object.entries(api)) {
    const stub: Record<string, (args: unknown) => Promise<unknown>> = {};
    for (const [name, spec] of Object.entries(methods as Record<string, MethodSpec>)) {
      stub[name] = async (args: unknown) => {
        const input = spec.input.safeParse(args ?? {});
        if (!input.success) {
          throw new SegEarthError('BAD_ARGUMENT', `${service}.${name}: ${input.error.issues[0]?.message ?? 'invalid argument'}`);
        }
        const raw = await transport.request({ id: nextId++, service, method: name, args: args ?? {} });
        const response: RpcResponse = RpcResponseSchema.parse(raw);
        if (!response.ok) throw fromErrorPayload(response.error);
        const output = spec.output.safeParse(response.result);
        if (!output.success) {
          throw new SegEarthError('INTERNAL', `${service}.${name}: the backend answered with an unexpected shape`, {
            hint: output.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
          });
        }
        return output.data;
      };
    }
    client[service] = stub;
  }
  client.on = <E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): (() => void) => {
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    const wrapped = listener as (payload: unknown) => void;
    set.add(wrapped);
    if (!unsubscribeTransport) unsubscribeTransport = transport.subscribe(onTransportEvent);
    return () => {
      set.delete(wrapped);
    };
  };
  return client as ApiClient;
}
