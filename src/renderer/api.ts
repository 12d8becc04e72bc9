/**
 * @module renderer/api
 * The renderer's only way to the backend: a typed {@link ApiClient} over Electron IPC when the preload's
 * `window.segearth` bridge exists, otherwise over HTTP + WebSocket to server mode (token taken from the page
 * URL once, then kept in session storage and removed from the address bar). Also builds URLs of map
 * resources (tiles, heatmaps) for either transport.
 */
import { createApiClient, type ClientTransport } from '../shared/api/client';
import type { ApiClient } from '../shared/api/contract';
import type { SegEarthBridge } from '../shared/api/bridge';
import { RpcEventSchema, type RpcEvent } from '../shared/api/rpc';
import { TILE_PROTOCOL } from '../shared/api/resources';

declare global {
  interface Window {
    segearth?: SegEarthBridge;
  }
}

export interface Connection {
  client: ApiClient;
  /** URL the map loads a resource (`tiles/...`, `results/...`) from. */
  resourceUrl(path: string): string;
  /** Path of a dropped file (desktop only; '' in the browser). */
  pathForFile(file: File): string;
  kind: 'ipc' | 'http';
}

const TOKEN_KEY = 'segearth.token';

function takeToken(): string {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    window.history.replaceState(null, '', url.pathname + url.search + url.hash);
    return fromUrl;
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

function httpTransport(token: string): ClientTransport {
  const listeners = new Set<(event: RpcEvent) => void>();
  let socket: WebSocket | null = null;
  let retry = 0;

  const connect = (): void => {
    const wsUrl = new URL('/api/events', window.location.href);
    wsUrl.protocol = wsUrl.protocol === 'https:' ? 'wss:' : 'ws:';
    wsUrl.searchParams.set('token', token);
    socket = new WebSocket(wsUrl);
    socket.onmessage = (msg) => {
      retry = 0;
      let data: unknown;
      try {
        data = JSON.parse(String(msg.data));
      } catch {
        return;
      }
      const parsed = RpcEventSchema.safeParse(data);
      if (parsed.success) for (const l of [...listeners]) l(parsed.data);
    };
    socket.onclose = () => {
      socket = null;
      if (listeners.size > 0) window.setTimeout(connect, Math.min(5000, 250 * 2 ** retry++));
    };
  };

  return {
    async request(req) {
      const res = await fetch(`/api/${req.service}/${req.method}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: JSON.stringify(req.args ?? {}),
      });
      let body: unknown;
      try {
        body = await res.json();
      } catch {
        body = { ok: false, error: { code: 'INTERNAL', message: `The server answered ${res.status} ${res.statusText}.` } };
      }
      return { ...(body as object), id: req.id };
    },
    subscribe(listener) {
      listeners.add(listener);
      if (!socket) connect();
      return () => listeners.delete(listener);
    },
  };
}

function ipcTransport(bridge: SegEarthBridge): ClientTransport {
  return {
    request: (req) => bridge.invoke(req),
    subscribe: (listener) => bridge.on(listener),
  };
}

export function connect(): Connection {
  const bridge = window.segearth;
  if (bridge) {
    return {
      client: createApiClient(ipcTransport(bridge)),
      resourceUrl: (path) => `${TILE_PROTOCOL}://app/${path}`,
      pathForFile: (file) => bridge.pathForFile(file),
      kind: 'ipc',
    };
  }
  const token = takeToken();
  return {
    client: createApiClient(httpTransport(token)),
    resourceUrl: (path) => `/api/res/${path}?token=${encodeURIComponent(token)}`,
    pathForFile: () => '',
    kind: 'http',
  };
}
