/**
 * @module shared/api/bridge
 * The one object the Electron preload exposes to the renderer as `window.segearth`: a request channel and an
 * event subscription for the API, nothing else (plus the path of a dropped file, which the sandboxed renderer
 * cannot read itself).
 */
import type { RpcEvent, RpcRequest } from './rpc.js';

export interface SegEarthBridge {
  invoke(request: RpcRequest): Promise<unknown>;
  /** Subscribes to API events; returns an unsubscribe function. */
  on(listener: (event: RpcEvent) => void): () => void;
  /** Filesystem path of a file dropped on the window ('' when it has none). */
  pathForFile(file: File): string;
}
