/**
 * @module main/events
 * The backend's event bus: services publish `<service>.<event>` payloads (validated against the contract),
 * transports subscribe and forward them to their clients (IPC windows, WebSocket connections).
 */
import { apiEvents, type EventName, type EventPayload } from '../shared/api/contract.js';
import type { RpcEvent } from '../shared/api/rpc.js';

export interface EventBus {
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void;
  subscribe(listener: (event: RpcEvent) => void): () => void;
}

export function createEventBus(): EventBus {
  const listeners = new Set<(event: RpcEvent) => void>();
  return {
    emit(event, payload) {
      const checked = apiEvents[event].parse(payload);
      for (const listener of [...listeners]) {
        try {
          listener({ event, payload: checked });
        } catch (err) {
          console.error(`event listener for ${event} failed`, err);
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
