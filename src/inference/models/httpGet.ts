/**
 * @module inference/models/httpGet
 * A GET over node:http / node:https that follows redirects and returns an {@link HttpResponse}, whose
 * `saveTo` writes the body to a file and reports exactly how many bytes reached the file, even when the
 * connection drops.
 *
 * Why not `fetch`: when a connection is cut, a WHATWG ReadableStream (and a destroyed Node Readable) drops
 * the chunks it had queued but not yet handed over, so "bytes received" and "bytes on disk" disagree.
 * Here every chunk goes from the `data` event into a write stream, whose `bytesWritten` is what a resume
 * continues from.
 */
import { createWriteStream } from 'node:fs';
import { get as httpGetRaw, type IncomingMessage } from 'node:http';
import { get as httpsGetRaw } from 'node:https';

export interface GetOptions {
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
  /** Milliseconds without any data before the request is abandoned (default 60 s). */
  readonly idleTimeoutMs?: number;
  readonly maxRedirects?: number;
}

/** Resolves with the final response (after redirects); its body is not consumed yet. */
export async function httpGet(url: string, options: GetOptions = {}): Promise<HttpResponse> {
  let current = new URL(url);
  for (let hop = 0; ; hop++) {
    const res = await getOnce(current, options);
    const location = res.headers.location;
    if (res.statusCode !== undefined && [301, 302, 303, 307, 308].includes(res.statusCode) && location) {
      res.resume(); // discard the redirect's body
      if (hop >= (options.maxRedirects ?? 5)) throw new Error(`too many redirects (last: ${location})`);
      current = new URL(location, current);
      continue;
    }
    return new HttpResponse(res);
  }
}

function getOnce(url: URL, options: GetOptions): Promise<IncomingMessage> {
  const get = url.protocol === 'https:' ? httpsGetRaw : httpGetRaw;
  return new Promise((resolve, reject) => {
    const req = get(url, { headers: { ...options.headers }, ...(options.signal ? { signal: options.signal } : {}) }, resolve);
    req.setTimeout(options.idleTimeoutMs ?? 60_000, () => req.destroy(new Error('no data received for too long')));
    req.on('error', reject);
  });
}

export interface SaveResult {
  /** Bytes of the body that are now in the file. */
  readonly written: number;
  /** Why the body stopped early (connection lost, disk error), if it did. */
  readonly error?: unknown;
  /** True when the body ended normally (not necessarily at Content-Length). */
  readonly complete: boolean;
}

/** Bytes held in memory while the caller decides what to do with a body (e.g. checks free space). */
const EARLY_BUFFER_LIMIT = 8 << 20;

/**
 * A response whose body is captured from the first byte: the chunks that arrive before {@link saveTo} are
 * held in memory (a Node stream would discard them if the connection dropped meanwhile), then written first.
 */
export class HttpResponse {
  readonly status: number;
  readonly statusMessage: string;
  private readonly early: Buffer[] = [];
  private earlyBytes = 0;
  private ended = false;
  private closed = false;
  private bodyError: unknown;
  private sink: ((chunk: Buffer) => void) | undefined;
  private onClosed: (() => void) | undefined;

  constructor(private readonly res: IncomingMessage) {
    this.status = res.statusCode ?? 0;
    this.statusMessage = res.statusMessage ?? '';
    res.on('data', (chunk: Buffer) => {
      if (this.sink) return this.sink(chunk);
      this.early.push(chunk);
      this.earlyBytes += chunk.length;
      if (this.earlyBytes > EARLY_BUFFER_LIMIT) res.pause();
    });
    res.on('end', () => {
      this.ended = true;
    });
    res.on('error', (err) => {
      this.bodyError ??= err;
    });
    res.on('close', () => {
      if (!this.ended) this.bodyError ??= new Error('connection closed before the end of the body');
      this.closed = true;
      this.onClosed?.();
    });
  }

  /** A response header (the first value when repeated), or null. */
  header(name: string): string | null {
    const v = this.res.headers[name.toLowerCase()];
    return typeof v === 'string' ? v : Array.isArray(v) ? (v[0] ?? null) : null;
  }

  /** Drops the body and the connection. */
  discard(): void {
    this.res.destroy();
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
        if (!out.write(chunk, () => onBytes(out.bytesWritten))) this.res.pause();
      };
      const endOut = (): void => {
        if (!out.writableEnded && !out.destroyed) out.end();
      };
      out.on('drain', () => this.res.resume());
      out.on('error', (err) => {
        writeError = err;
        this.res.destroy();
      });
      out.on('close', () =>
        resolve({
          written: out.bytesWritten,
          complete: this.ended && writeError === undefined,
          error: writeError ?? this.bodyError,
        }),
      );
      for (const chunk of this.early.splice(0)) write(chunk);
      this.sink = write;
      if (this.closed) endOut();
      else {
        this.onClosed = endOut;
        this.res.resume();
      }
    });
  }
}
