/**
 * @module test/support/localHub
 * A local HTTP server that behaves like the Hugging Face hub for what `segearth models get` (and the app's
 * Get button) use, plus a second server on another port playing the CDN that LFS downloads redirect to:
 *
 * - `GET /api/models/{org}/{name}[/revision/{rev}][?blobs=true]`: `sha` (the commit) and `siblings` with
 *   `rfilename`, `size`, `blobId` and, for LFS files (`*.safetensors`, or files over 100 KiB), `lfs.sha256`;
 * - `HEAD|GET /{org}/{name}/resolve/{rev}/{path}`: `X-Repo-Commit`, `X-Linked-Etag`, `X-Linked-Size`, `ETag`;
 *   plain files are served here, LFS files answer 302 to `http://127.0.0.1:<cdn>/blobs/<sha256>` (another origin:
 *   a client must not send its token there — every request's headers are recorded to check that);
 * - errors with the hub's `X-Error-Code`: `RepoNotFound`, `RevisionNotFound`, `EntryNotFound`, and `GatedRepo`
 *   (file downloads: 401 without a token, 403 with a wrong one; the model info stays public, as on the hub) for
 *   repositories served with `gated: true`, and `RepoNotFound` (401) for everything of a `private: true` one
 *   without the token;
 * - Range and If-Range on both servers; fault injection: cut the connection after N bytes of a file, serve
 *   wrong bytes for a file, or stall.
 *
 * Repositories are served from folders on disk (read once, at start).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { sendRange } from './rangeResponse.js';

export interface HubRepoSpec {
  /** Folder whose files are the repository's (recursively; `/`-separated names). */
  readonly dir: string;
  /** File downloads need `Authorization: Bearer <token>` (the hub's gated repositories; model info stays public). */
  readonly gated?: boolean;
  /** Every request needs the token; without it the repository does not exist (401 RepoNotFound, as the hub answers). */
  readonly private?: boolean;
  /** Extra branch/tag names pointing to the same commit (besides `main`). */
  readonly refs?: readonly string[];
}

export interface HubRequest {
  readonly server: 'hub' | 'cdn';
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** Body bytes sent in answer. */
  sent: number;
}

interface ServedFile {
  readonly path: string;
  readonly content: Buffer;
  readonly sha256: string;
  readonly gitBlobId: string;
  readonly lfs: boolean;
}

interface ServedRepo {
  readonly id: string;
  readonly commit: string;
  readonly gated: boolean;
  readonly private: boolean;
  readonly refs: ReadonlySet<string>;
  readonly files: ReadonlyMap<string, ServedFile>;
}

export interface LocalHub {
  /** `http://127.0.0.1:<port>`: the value for HF_ENDPOINT. */
  readonly endpoint: string;
  /** Origin of the CDN server (`http://127.0.0.1:<port>`). */
  readonly cdn: string;
  /** The token gated and private repositories accept. */
  readonly token: string;
  readonly requests: HubRequest[];
  /** The commit of `repo` (40 hex). */
  commit(repo: string): string;
  /** What the hub lists for a file: size and sha256. */
  file(repo: string, file: string): { size: number; sha256: string; lfs: boolean };
  /** Cut the next `count` body responses of `file` (any repo) after `afterBytes` bytes (socket destroyed). */
  cutNext(file: string, afterBytes: number, count?: number): void;
  /** Serve `file` with one byte changed (same size) until reset. */
  corrupt(file: string, on?: boolean): void;
  /** Stall the next body response of `file` after `afterBytes` bytes: the connection stays open, nothing more comes. */
  stallNext(file: string, afterBytes: number): void;
  /** Requests for file bodies (GET on resolve or the CDN) whose path ends with `file`. */
  bodyRequests(file?: string): HubRequest[];
  close(): Promise<void>;
}

export const HUB_TEST_TOKEN = 'hf_localHubTestToken';

/** Starts the hub and its CDN on 127.0.0.1 (random ports) serving `repos` (id → folder). */
export async function startLocalHub(repos: Readonly<Record<string, HubRepoSpec>>): Promise<LocalHub> {
  const served = new Map<string, ServedRepo>();
  const bySha = new Map<string, ServedFile>();
  for (const [id, spec] of Object.entries(repos)) {
    const files = new Map<string, ServedFile>();
    const names = (await readdir(spec.dir, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => path.relative(spec.dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
      .sort();
    for (const name of names) {
      const content = await readFile(path.join(spec.dir, ...name.split('/')));
      const sha256 = hex('sha256', content);
      const lfs = name.endsWith('.safetensors') || content.length > 100 * 1024;
      const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${content.length}\n`;
      const f = { path: name, content, sha256, gitBlobId: gitBlobId(lfs ? Buffer.from(pointer) : content), lfs };
      files.set(name, f);
      bySha.set(sha256, f);
    }
    const commit = hex('sha1', Buffer.from(id + [...files.values()].map((f) => `${f.path}:${f.gitBlobId}`).join('\n')));
    served.set(id, { id, commit, gated: spec.gated ?? false, private: spec.private ?? false, refs: new Set(['main', ...(spec.refs ?? [])]), files });
  }

  const requests: HubRequest[] = [];
  const cuts = new Map<string, { afterBytes: number; count: number }>();
  const corrupted = new Set<string>();
  const stalls = new Map<string, number>();
  let cdnOrigin = '';

  const sendBody = (req: IncomingMessage, res: ServerResponse, f: ServedFile, entry: HubRequest, extra: Record<string, string>): void => {
    let body = f.content;
    if (corrupted.has(f.path)) {
      body = Buffer.from(body);
      body[Math.floor(body.length / 2)]! ^= 0xff;
    }
    const stall = req.method === 'HEAD' ? undefined : stalls.get(f.path);
    if (stall !== undefined) stalls.delete(f.path);
    const cut = cuts.get(f.path);
    const cutNow = stall === undefined && req.method !== 'HEAD' && cut !== undefined && cut.count > 0;
    if (cutNow) cut.count--;
    entry.sent = sendRange(req, res, body, {
      contentType: 'application/octet-stream',
      etag: `"${f.lfs ? f.sha256 : f.gitBlobId}"`,
      headers: extra,
      ...(stall !== undefined ? { stallAfter: stall } : {}),
      ...(cutNow ? { cutAfter: cut.afterBytes } : {}),
    });
  };

  const error = (res: ServerResponse, status: number, code: string, message: string, commit?: string): void => {
    res.writeHead(status, {
      'content-type': 'application/json',
      'x-error-code': code,
      'x-error-message': message,
      ...(commit ? { 'x-repo-commit': commit } : {}),
    });
    res.end(JSON.stringify({ error: message }));
  };

  /** Checks access to a gated (`files`) or private repository; answers and returns false when refused. */
  const allowed = (req: IncomingMessage, res: ServerResponse, repo: ServedRepo, what: 'info' | 'files'): boolean => {
    const auth = req.headers.authorization;
    if (auth === `Bearer ${HUB_TEST_TOKEN}`) return true;
    if (repo.private) {
      error(res, 401, 'RepoNotFound', 'Repository not found');
      return false;
    }
    if (!repo.gated || what === 'info') return true;
    const msg = `Access to model ${repo.id} is restricted. You must have access to it and be authenticated to access it. Please log in.`;
    error(res, auth ? 403 : 401, 'GatedRepo', msg);
    return false;
  };

  const hub = createServer((req, res) => {
    const entry: HubRequest = { server: 'hub', method: req.method ?? 'GET', url: req.url ?? '', headers: req.headers, sent: 0 };
    requests.push(entry);
    const url = new URL(req.url ?? '/', 'http://hub');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] === 'api' && parts[1] === 'models') {
      const repo = served.get(`${parts[2]}/${parts[3]}`);
      if (!repo) return error(res, 404, 'RepoNotFound', 'Repository not found');
      if (!allowed(req, res, repo, 'info')) return;
      const rev = parts[4] === 'revision' ? parts.slice(5).join('/') : 'main';
      if (!repo.refs.has(rev) && rev !== repo.commit) return error(res, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
      const blobs = url.searchParams.get('blobs') === 'true';
      const siblings = [...repo.files.values()].map((f) =>
        blobs
          ? {
              rfilename: f.path,
              size: f.content.length,
              blobId: f.gitBlobId,
              ...(f.lfs ? { lfs: { size: f.content.length, sha256: f.sha256, pointerSize: 130 } } : {}),
            }
          : { rfilename: f.path },
      );
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ _id: 'x', id: repo.id, modelId: repo.id, sha: repo.commit, private: repo.private, gated: repo.gated ? 'manual' : false, siblings }));
      return;
    }
    const resolveAt = parts.indexOf('resolve');
    if (resolveAt === 2) {
      const repo = served.get(`${parts[0]}/${parts[1]}`);
      if (!repo) return error(res, 404, 'RepoNotFound', 'Repository not found');
      if (!allowed(req, res, repo, 'files')) return;
      const rev = parts[3] ?? '';
      if (!repo.refs.has(rev) && rev !== repo.commit) return error(res, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
      const f = repo.files.get(parts.slice(4).join('/'));
      if (!f) return error(res, 404, 'EntryNotFound', 'Entry not found', repo.commit);
      const meta = {
        'x-repo-commit': repo.commit,
        'x-linked-etag': `"${f.lfs ? f.sha256 : f.gitBlobId}"`,
        'x-linked-size': String(f.content.length),
      };
      if (f.lfs) {
        res.writeHead(302, { ...meta, location: `${cdnOrigin}/blobs/${f.sha256}?X-Amz-Signature=local` }).end();
        return;
      }
      return sendBody(req, res, f, entry, meta);
    }
    error(res, 404, 'NotFound', 'Not found');
  });

  const cdn = createServer((req, res) => {
    const entry: HubRequest = { server: 'cdn', method: req.method ?? 'GET', url: req.url ?? '', headers: req.headers, sent: 0 };
    requests.push(entry);
    const m = /^\/blobs\/([0-9a-f]{64})/.exec(req.url ?? '');
    const f = m ? bySha.get(m[1]!) : undefined;
    if (!f) {
      res.writeHead(404).end('NoSuchKey');
      return;
    }
    sendBody(req, res, f, entry, {});
  });

  const listen = (s: Server): Promise<number> =>
    new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
  const endpoint = `http://127.0.0.1:${await listen(hub)}`;
  cdnOrigin = `http://127.0.0.1:${await listen(cdn)}`;
  const repoOf = (id: string): ServedRepo => {
    const r = served.get(id);
    if (!r) throw new Error(`the local hub does not serve ${id}`);
    return r;
  };
  const fileName = (r: HubRequest): string | undefined => {
    if (r.method !== 'GET') return undefined;
    if (r.server === 'cdn') return bySha.get(/^\/blobs\/([0-9a-f]{64})/.exec(r.url)?.[1] ?? '')?.path;
    const parts = new URL(r.url, 'http://hub').pathname.split('/').map(decodeURIComponent);
    return parts[3] === 'resolve' ? parts.slice(5).join('/') : undefined;
  };
  return {
    endpoint,
    cdn: cdnOrigin,
    token: HUB_TEST_TOKEN,
    requests,
    commit: (id) => repoOf(id).commit,
    file: (id, name) => {
      const f = repoOf(id).files.get(name);
      if (!f) throw new Error(`${id} has no ${name}`);
      return { size: f.content.length, sha256: f.sha256, lfs: f.lfs };
    },
    cutNext: (file, afterBytes, count = 1) => void cuts.set(file, { afterBytes, count }),
    corrupt: (file, on = true) => void (on ? corrupted.add(file) : corrupted.delete(file)),
    stallNext: (file, afterBytes) => void stalls.set(file, afterBytes),
    bodyRequests: (file) =>
      requests.filter((r) => {
        const name = fileName(r);
        if (name === undefined) return false;
        // A resolve of an LFS file is only the redirect: the body comes from the CDN.
        if (r.server === 'hub' && [...served.values()].some((s) => s.files.get(name)?.lfs)) return false;
        return file === undefined || name === file;
      }),
    close: async () => {
      for (const s of [hub, cdn]) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    },
  };
}

function hex(algorithm: 'sha1' | 'sha256', data: Buffer): string {
  return createHash(algorithm).update(data).digest('hex');
}

/** git's blob id: sha1 of `blob <size>\0` + content. */
export function gitBlobId(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}
