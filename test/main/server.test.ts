/**
 * Server mode: token authentication on every API request, resource and the WebSocket; file access
 * confined to the allowed roots (`..`, symbolic links, absolute paths outside); a typed round trip through
 * the same client the renderer uses.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createApiClient } from '../../src/shared/api/client.js';
import type { RpcEvent } from '../../src/shared/api/rpc.js';
import { createDispatcher } from '../../src/main/dispatch.js';
import { loadResource } from '../../src/main/resources.js';
import { createBackend, type Backend } from '../../src/main/services/createApi.js';
import { startServer, type RunningServer } from '../../src/main/transport/server.js';
import { isSegEarthError } from '../../src/shared/errors.js';
import { fakeGeo, noRuntime } from './fakes.js';

let dir: string;
let root: string;
let outside: string;
let server: RunningServer;
let backend: Backend;
const calls: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'segearth-server-'));
  root = join(dir, 'root');
  outside = join(dir, 'outside');
  await mkdir(join(root, 'sub'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(root, 'sub', 'scene.tif'), 'x');
  await writeFile(join(outside, 'secret.tif'), 'x');
  await symlink(join(outside, 'secret.tif'), join(root, 'link.tif'));
  await symlink(outside, join(root, 'linkdir'));
  backend = await createBackend({
    mode: 'server', appVersion: 'test', roots: [root], dataDir: join(dir, 'data'), logsDir: null,
    geo: fakeGeo(calls), runtime: noRuntime(), testHooks: false,
  });
  server = await startServer({
    dispatcher: createDispatcher(backend.api),
    events: backend.events,
    resource: (p) => loadResource(p, backend),
    staticDir: null,
  });
});

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true, maxRetries: 5 });
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`http://127.0.0.1:${server.port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
interface Body {
  ok: boolean;
  result?: { mode?: string };
  error: { code: string; message: string };
}
const json = async (res: Response): Promise<Body> => (await res.json()) as Body;
const auth = (): Record<string, string> => ({ authorization: `Bearer ${server.token}` });

function httpClient() {
  return createApiClient({
    async request(req) {
      const res = await post(`/api/${req.service}/${req.method}`, req.args, auth());
      return { ...(await json(res)), id: req.id };
    },
    subscribe: () => () => {},
  });
}

describe('server mode: authentication', () => {
  it('prints a URL with a long random token on 127.0.0.1', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
    expect(server.token.length).toBeGreaterThanOrEqual(32);
  });

  it('refuses an API call without the token, or with a wrong one (401)', async () => {
    const none = await post('/api/system/info', {});
    expect(none.status).toBe(401);
    expect((await json(none)).error.code).toBe('UNAUTHORIZED');
    expect((await post('/api/system/info', {}, { authorization: 'Bearer nope' })).status).toBe(401);
    expect((await post(`/api/system/info?token=${server.token}x`, {})).status).toBe(401);
  });

  it('answers with the token in the header or the query', async () => {
    const viaHeader = await post('/api/system/info', {}, auth());
    expect(viaHeader.status).toBe(200);
    expect((await json(viaHeader)).result?.mode).toBe('server');
    expect((await post(`/api/system/info?token=${server.token}`, {})).status).toBe(200);
  });

  it('refuses tiles without the token', async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/api/res/tiles/abc/0/0/0.png`);
    expect(res.status).toBe(401);
  });

  it('refuses the WebSocket without the token and accepts it with', async () => {
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/events`);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => {});
    });
    expect(refused).toBe(401);

    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/events?token=${server.token}`);
    const events: RpcEvent[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (data) => {
        events.push(JSON.parse(String(data)) as RpcEvent);
        if (events.some((e) => e.event === 'settings.changed')) resolve();
        else if (events.length === 1) void httpClient().settings.update({ basemap: true });
      });
      ws.on('error', reject);
    });
    ws.close();
    const changed = events.find((e) => e.event === 'settings.changed')!;
    expect((changed.payload as { basemap: boolean }).basemap).toBe(true);
  });

  it('refuses a foreign Host header (DNS rebinding) and cross-origin calls', async () => {
    const http = await import('node:http');
    const status = await new Promise<number>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: server.port, path: '/api/system/info', method: 'POST', headers: { host: 'evil.example:80', authorization: `Bearer ${server.token}` } }, (res) => resolve(res.statusCode ?? 0));
      req.end('{}');
    });
    expect(status).toBe(421);
    const cross = await post('/api/system/info', {}, { ...auth(), origin: 'http://evil.example' });
    expect(cross.status).toBe(403);
  });
});

describe('server mode: file access stays inside the roots', () => {
  const client = () => httpClient();

  it('opens a raster inside the root, by relative or absolute path', async () => {
    const layer = await client().workspace.openRaster({ path: 'sub/scene.tif' });
    expect(layer.path).toBe(join(backend.guard.roots[0]!, 'sub', 'scene.tif'));
    expect(layer.info.crs?.code).toBe('EPSG:32633');
    const again = await client().workspace.openRaster({ path: join(root, 'sub', 'scene.tif') });
    expect(again.name).toBe('scene.tif');
  });

  for (const [label, path] of [
    ['.. out of the root', '../outside/secret.tif'],
    ['.. hidden in the middle', 'sub/../../outside/secret.tif'],
    ['an absolute path outside', '/etc/passwd'],
    ['a symlinked file that points outside', 'link.tif'],
    ['a file below a symlinked folder', 'linkdir/secret.tif'],
  ] as const) {
    it(`refuses ${label}`, async () => {
      const before = calls.length;
      const err = await client().workspace.openRaster({ path }).catch((e: unknown) => e);
      expect(isSegEarthError(err, 'FORBIDDEN_PATH')).toBe(true);
      expect(calls.length).toBe(before); // the geo engine never saw the path
    });
  }

  it('refuses to list a folder outside and lists the root', async () => {
    const err = await client().files.list({ dir: outside }).catch((e: unknown) => e);
    expect(isSegEarthError(err, 'FORBIDDEN_PATH')).toBe(true);
    const listing = await client().files.list({});
    expect(listing.entries.map((e) => `${e.kind}:${e.name}`)).toContain('directory:sub');
    const sub = await client().files.list({ dir: listing.entries.find((e) => e.name === 'sub')!.path });
    expect(sub.entries).toEqual([expect.objectContaining({ name: 'scene.tif', kind: 'raster' })]);
  });

  it('refuses an export path outside the root before writing anything', async () => {
    const err = await client().export.results({ resultIds: ['nope'], format: 'geojson', path: join(outside, 'out.geojson') }).catch((e: unknown) => e);
    expect(isSegEarthError(err, 'FORBIDDEN_PATH')).toBe(true);
  });
});

describe('server mode: round trip', () => {
  it('opens, lists, serves a tile and removes a layer', async () => {
    const c = httpClient();
    const layer = await c.workspace.openRaster({ path: 'sub/scene.tif' });
    expect((await c.workspace.listLayers({})).map((l) => l.id)).toContain(layer.id);
    const tile = await fetch(`http://127.0.0.1:${server.port}/api/res/tiles/${layer.id}/1/2/3.png?token=${server.token}`);
    expect(tile.status).toBe(200);
    expect(tile.headers.get('content-type')).toBe('image/png');
    expect([...new Uint8Array(await tile.arrayBuffer())]).toEqual([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    const beyond = await fetch(`http://127.0.0.1:${server.port}/api/res/tiles/${layer.id}/9/0/0.png?token=${server.token}`);
    expect(beyond.status).toBe(400);
    await c.workspace.removeLayer({ layerId: layer.id });
    expect((await c.workspace.listLayers({})).map((l) => l.id)).not.toContain(layer.id);
  });

  it('answers a bad argument with a typed error that names the field', async () => {
    const res = await post('/api/workspace/openRaster', { path: '' }, auth());
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error.code).toBe('BAD_ARGUMENT');
    expect(body.error.message).toContain('a file path is required');
  });

  it('says plainly that no model is installed when asked a question', async () => {
    const c = httpClient();
    const layer = await c.workspace.openRaster({ path: 'sub/scene.tif' });
    const err = await c.inference.ask({ layerId: layer.id, question: 'where are the roads?', aoi: { kind: 'scene' } }).catch((e: unknown) => e);
    expect(isSegEarthError(err, 'MODEL_NOT_FOUND')).toBe(true);
  });

  it('rejects unknown methods', async () => {
    const res = await post('/api/workspace/format', {}, auth());
    expect(res.status).toBe(400);
    expect((await json(res)).error.message).toContain('Unknown API method workspace.format');
  });
});
