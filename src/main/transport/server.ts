/**
 * @module main/transport/server
 * Server mode: the same dispatcher as the desktop app, over HTTP (`POST /api/<service>/<method>`, JSON body =
 * arguments) and a WebSocket for events (`/api/events`), plus the built renderer as static files. Listens on
 * 127.0.0.1 only. Every API request, resource and the WebSocket needs the random token printed at start
 * (`Authorization: Bearer <token>`, or `?token=` for images and the WebSocket); without it: 401. The Host
 * header must name this server (no DNS rebinding) and cross-origin API calls are refused.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { toErrorPayload, SegEarthError } from '../../shared/errors.js';
import type { RpcResponse } from '../../shared/api/rpc.js';
import type { Dispatcher } from '../dispatch.js';
import type { EventBus } from '../events.js';
import { httpStatusFor } from '../resources.js';

export interface ServerOptions {
  dispatcher: Dispatcher;
  events: EventBus;
  /** Resolves map resources (`tiles/...`, `results/...`) to PNG bytes. */
  resource: (path: string) => Promise<Uint8Array>;
  /** Built renderer (vite build output); null serves no UI (API only). */
  staticDir: string | null;
  /** 0 = a free port. */
  port?: number;
  token?: string;
  maxBodyBytes?: number;
}

export interface RunningServer {
  port: number;
  token: string;
  /** `http://127.0.0.1:<port>/?token=…`: open this in a browser. */
  url: string;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** The page's Content-Security-Policy: own origin only, plus the optional OpenStreetMap basemap tiles. */
export const SERVER_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob: https://tile.openstreetmap.org",
  "connect-src 'self' ws://127.0.0.1:*",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

function tokenMatches(expected: Buffer, given: string | null): boolean {
  if (given === null) return false;
  const candidate = Buffer.from(given);
  return candidate.length === expected.length && timingSafeEqual(candidate, expected);
}

function tokenOf(req: IncomingMessage, url: URL): string | null {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  return url.searchParams.get('token');
}

function send(res: ServerResponse, status: number, body: string | Uint8Array, type: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, {
    'Content-Type': type,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
    ...extra,
  });
  res.end(body);
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: RpcResponse | { ok: false; error: { code: string; message: string; hint?: string } },
  extra: Record<string, string> = {},
): void {
  send(res, status, JSON.stringify(body), 'application/json; charset=utf-8', extra);
}

function unauthorized(res: ServerResponse): void {
  sendJson(res, 401, {
    ok: false,
    error: { code: 'UNAUTHORIZED', message: 'Missing or wrong access token.', hint: 'Open the URL with ?token=… that the server printed at start.' },
  });
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      throw new SegEarthError('BAD_ARGUMENT', `Request too large (over ${limit} bytes).`, { hint: 'Send smaller requests; file contents never travel through the API, only paths.' });
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const expected = Buffer.from(token);
  const maxBody = options.maxBodyBytes ?? 1_000_000;
  const staticRoot = options.staticDir ? resolve(options.staticDir) : null;
  let port = 0;

  const hostAllowed = (req: IncomingMessage): boolean => {
    const host = req.headers.host ?? '';
    return host === `${HOST}:${port}` || host === `localhost:${port}`;
  };
  const originAllowed = (req: IncomingMessage): boolean => {
    const origin = req.headers.origin;
    return origin === undefined || origin === `http://${HOST}:${port}` || origin === `http://localhost:${port}`;
  };

  async function serveStatic(res: ServerResponse, pathname: string): Promise<void> {
    if (!staticRoot) {
      send(res, 404, 'This server was started without the user interface (run `npm run build:renderer`).', 'text/plain; charset=utf-8');
      return;
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      send(res, 400, 'Bad request: the path is not valid percent-encoding.', 'text/plain; charset=utf-8');
      return;
    }
    if (decoded.includes('\0')) {
      send(res, 400, 'Bad request: the path holds a NUL byte.', 'text/plain; charset=utf-8');
      return;
    }
    const rel = normalize(decoded).replace(/^([/\\])+/, '');
    let file = resolve(staticRoot, rel);
    if (file !== staticRoot && !file.startsWith(staticRoot + sep)) {
      send(res, 404, 'Not found', 'text/plain; charset=utf-8');
      return;
    }
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) file = join(staticRoot, 'index.html'); // single-page app
    const body = await readFile(file).catch(() => null);
    if (!body) {
      send(res, 404, 'The user interface is not built: run `npm run build:renderer`.', 'text/plain; charset=utf-8');
      return;
    }
    const type = MIME[extname(file)] ?? 'application/octet-stream';
    send(res, 200, body, type, type.startsWith('text/html') ? { 'Content-Security-Policy': SERVER_CSP, 'X-Frame-Options': 'DENY' } : {});
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostAllowed(req)) {
      send(res, 421, 'Wrong Host header.', 'text/plain; charset=utf-8');
      return;
    }
    const url = new URL(req.url ?? '/', `http://${HOST}:${port}`);
    if (!url.pathname.startsWith('/api/')) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        send(res, 405, 'Method not allowed', 'text/plain; charset=utf-8');
        return;
      }
      await serveStatic(res, url.pathname);
      return;
    }
    if (!tokenMatches(expected, tokenOf(req, url))) {
      unauthorized(res);
      return;
    }
    if (url.pathname.startsWith('/api/res/')) {
      try {
        const png = await options.resource(url.pathname.slice('/api/res/'.length));
        send(res, 200, png, 'image/png', { 'Cache-Control': 'private, max-age=300' });
      } catch (err) {
        const payload = toErrorPayload(err);
        sendJson(res, httpStatusFor(payload.code), { id: 0, ok: false, error: payload });
      }
      return;
    }
    const call = /^\/api\/([A-Za-z]+)\/([A-Za-z]+)$/.exec(url.pathname);
    if (!call || req.method !== 'POST') {
      sendJson(res, 404, { id: 0, ok: false, error: { code: 'NOT_FOUND', message: `No API endpoint ${req.method} ${url.pathname}.` } });
      return;
    }
    if (!originAllowed(req)) {
      sendJson(res, 403, { id: 0, ok: false, error: { code: 'UNAUTHORIZED', message: 'Cross-origin API calls are refused.' } });
      return;
    }
    let args: unknown;
    try {
      const text = await readBody(req, maxBody);
      args = text.length === 0 ? {} : JSON.parse(text);
    } catch (err) {
      const payload = err instanceof SegEarthError ? toErrorPayload(err) : { code: 'BAD_ARGUMENT' as const, message: 'The request body is not valid JSON.' };
      // A body refused half-read leaves the rest in the socket: close the connection so the client does not
      // reuse it (its next request would be read from the middle of this body, or reset).
      const unread = !req.complete;
      sendJson(res, 400, { id: 0, ok: false, error: payload }, unread ? { Connection: 'close' } : {});
      const socket = res.socket;
      if (unread) res.once('finish', () => socket?.destroy());
      return;
    }
    const response = await options.dispatcher.dispatch({ id: 0, service: call[1], method: call[2], args }, { transport: 'http' });
    sendJson(res, response.ok ? 200 : httpStatusFor(response.error.code), response);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      console.error('server error', err);
      if (!res.headersSent) sendJson(res, 500, { id: 0, ok: false, error: toErrorPayload(err) });
      else res.end();
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const sockets = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', `http://${HOST}:${port}`);
    const refuse = (status: string): void => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (!hostAllowed(req) || !originAllowed(req)) return refuse('403 Forbidden');
    if (url.pathname !== '/api/events') return refuse('404 Not Found');
    if (!tokenMatches(expected, tokenOf(req, url))) return refuse('401 Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      const unsubscribe = options.events.subscribe((event) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(event));
      });
      ws.on('close', () => {
        unsubscribe();
        sockets.delete(ws);
      });
      ws.send(JSON.stringify({ event: 'hello', payload: null }));
    });
  });

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, HOST, () => resolvePromise());
  });
  port = (server.address() as AddressInfo).port;

  return {
    port,
    token,
    url: `http://${HOST}:${port}/?token=${token}`,
    async close() {
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
