/**
 * @module inference/net/httpGet
 * The app's HTTP client (model downloads, the model hub): a GET or HEAD through undici and the shared
 * proxy-aware agent (`httpAgent`), following redirects, returning an {@link HttpResponse} whose `saveTo`
 * writes the body to a file and reports exactly how many bytes reached the file, even when the connection drops.
 *
 * Redirects are followed here rather than by undici so that the rule is visible and tested: a redirect to
 * another origin (the model hub's CDN) drops `Authorization`, as browsers and the hub's own client do —
 * a signed CDN URL needs no token and must never receive it.
 *
 * A resume continues from the bytes on disk (`written`), never from the bytes received: chunks still queued
 * in the stream when a connection is cut are lost, and only the file is the truth.
 */
import { createWriteStream } from 'node:fs';
import { request, type Dispatcher } from 'undici';
import { defaultHttpAgent } from './httpAgent.js';

export interface GetOptions {
  readonly method?: 'GET' | 'HEAD';
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
  /** Milliseconds without any data (headers or body) before the request is abandoned (default 60 s). */
  readonly idleTimeoutMs?: number;
  readonly maxRedirects?: number;
  /** Connection pool / proxy settings (default: the process-wide agent for `process.env`). */
  readonly agent?: Dispatcher;
  /** Called for every redirect followed (from, to), e.g. to log the CDN host. */
  readonly onRedirect?: (from: URL, to: URL) => void;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Resolves with the final response (after redirects); its body is not consumed yet. */
export async function httpGet(url: string, options: GetOptions = {}): Promise<HttpResponse> {
  let current = new URL(url);
  let headers: Record<string, string> = { ...options.headers };
  for (let hop = 0; ; hop++) {
    const res = await requestOnce(current, headers, options);
    const location = res.header('location');
    if (REDIRECTS.has(res.status) && location) {
      res.discard();
      if (hop >= (options.maxRedirects ?? 5)) throw new Error(`too many redirects (last: ${location})`);
      const next = new URL(location, current);
      if (next.origin !== current.origin) headers = withoutAuthorization(headers);
      options.onRedirect?.(current, next);
      current = next;
      continue;
    }
    return res;
  }
}

function withoutAuthorization(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
}

async function requestOnce(url: URL, headers: Record<string, string>, options: GetOptions): Promise<HttpResponse> {
  const idle = options.idleTimeoutMs ?? 60_000;
  const res = await request(url, {
    method: options.method ?? 'GET',
    headers,
    dispatcher: options.agent ?? defaultHttpAgent(),
    headersTimeout: idle,
    bodyTimeout: idle,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return new HttpResponse(url, res);
}

export interface SaveResult {
  /** Bytes of the body that are now in the file. */
  readonly written: number;
  /** Why the body stopped early (connection lost, disk error, abort), if it did. */
  readonly error?: unknown;
  /** True when the body ended normally (not necessarily at Content-Length). */
  readonly complete: boolean;
}

/** Bytes held in memory while the caller decides what to do with a body (e.g. checks free space). */
const EARLY_BUFFER_LIMIT = 8 << 20;

/**
 * A response of {@link httpGet}. Its body is captured from the first byte: chunks that arrive before
 * {@link saveTo} are held in memory (a stream destroyed by a cut connection would discard what it had queued),
 * then written first.
 */
export class HttpResponse {
  readonly status: number;
  readonly statusMessage: string;
  /** The URL that gave this response (after redirects). */
  readonly url: URL;
  private readonly headers: Dispatcher.ResponseData['headers'];
  private readonly body: Dispatcher.ResponseData['body'];
  private readonly early: Buffer[] = [];
  private earlyBytes = 0;
  private ended = false;
  private closed = false;
  private bodyError: unknown;
  private sink: ((chunk: Buffer) => void) | undefined;
  private onClosed: (() => void) | undefined;

  constructor(url: URL, res: Dispatcher.ResponseData) {
    this.url = url;
    this.status = res.statusCode;
    this.statusMessage = res.statusText ?? '';
    this.headers = res.headers;
    this.body = res.body;
    this.body.on('data', (chunk: Buffer) => {
      if (this.sink) return this.sink(chunk);
      this.early.push(chunk);
      this.earlyBytes += chunk.length;
      if (this.earlyBytes > EARLY_BUFFER_LIMIT) this.body.pause();
    });
    this.body.on('end', () => {
      this.ended = true;
    });
    this.body.on('error', (err) => {
      this.bodyError ??= err;
    });
    this.body.on('close', () => {
      if (!this.ended) this.bodyError ??= new Error('connection closed before the end of the body');
      this.closed = true;
      this.onClosed?.();
    });
  }

  /** A response header (the first value when repeated), or null. */
  header(name: string): string | null {
    const v = this.headers[name.toLowerCase()];
    return typeof v === 'string' ? v : Array.isArray(v) ? (v[0] ?? null) : null;
  }

  /** Drops the body and the connection. */
  discard(): void {
    this.body.destroy();
  }

  /** The whole body as text (for small API answers); rejects when the connection drops first. */
  text(): Promise<string> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        if (this.ended) resolve(Buffer.concat(this.early.splice(0)).toString('utf8'));
        else reject(this.bodyError instanceof Error ? this.bodyError : new Error(String(this.bodyError)));
      };
      if (this.closed) return done();
      this.onClosed = done;
      this.body.resume();
    });
  }

  /**
   * Writes the body to `file` (`flags` 'w' to start over, 'a' to append), calling `onBytes` with the running
   * count of bytes written. Never rejects: a lost connection or a disk error is returned in `error`, and
   * `written` is what actually reached the file.
   */
  saveTo(file: string, flags: 'w' | 'a', onBytes: (written: number) => void): Promise<SaveResult> {
    return new Promise((resolve) => {
      const out = createWriteStream(file, { flags, highWaterMark: 8 << 20 });
      let writeError: unknown;
      const write = (chunk: Buffer): void => {
        if (!out.write(chunk, () => onBytes(out.bytesWritten))) this.body.pause();
      };
      const endOut = (): void => {
        if (!out.writableEnded && !out.destroyed) out.end();
      };
      out.on('drain', () => this.body.resume());
      out.on('error', (err) => {
        writeError = err;
        this.body.destroy();
      });
      out.on('close', () =>
        resolve({ written: out.bytesWritten, complete: this.ended && writeError === undefined, error: writeError ?? this.bodyError }),
      );
      for (const chunk of this.early.splice(0)) write(chunk);
      this.sink = write;
      if (this.closed) endOut();
      else {
        this.onClosed = endOut;
        this.body.resume();
      }
    });
  }
}
