/**
 * @module test/support/rangeResponse
 * Answers a GET or HEAD for one body the way a CDN does — `Range: bytes=N-` (206 with Content-Range, 416
 * beyond the end), `If-Range` against the ETag (a mismatch gets the whole body, 200) — with the faults the
 * download tests inject: a stall (some bytes, then silence) or a cut (some bytes, then the socket destroyed).
 * Shared by the bundle-archive server (test/models/helpers) and the local hub (test/support/localHub).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface RangeAnswer {
  /** Strong ETag sent and compared with If-Range (omitted when undefined). */
  readonly etag?: string;
  /** Ignore Range and always answer 200 with the whole body. */
  readonly ignoreRange?: boolean;
  readonly contentType: string;
  /** More response headers. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Send this many bytes of the answer, then nothing more (the connection stays open). */
  readonly stallAfter?: number;
  /** Send this many bytes of the answer, then destroy the socket. */
  readonly cutAfter?: number;
}

/** Writes the answer; returns the body bytes sent. */
export function sendRange(req: IncomingMessage, res: ServerResponse, body: Buffer, o: RangeAnswer): number {
  let start = 0;
  let status = 200;
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const ifRange = req.headers['if-range'];
  if (range && !o.ignoreRange && (ifRange === undefined || ifRange === o.etag)) {
    start = Number(range[1]);
    if (start >= body.length) {
      res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      return 0;
    }
    status = 206;
  }
  const headers: Record<string, string | number> = {
    ...o.headers,
    'content-type': o.contentType,
    'content-length': body.length - start,
    'accept-ranges': 'bytes',
  };
  if (o.etag !== undefined) headers.etag = o.etag;
  if (status === 206) headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
  res.writeHead(status, headers);
  if (req.method === 'HEAD') {
    res.end();
    return 0;
  }
  const slice = body.subarray(start);
  if (o.stallAfter !== undefined) {
    res.write(slice.subarray(0, o.stallAfter));
    return Math.min(o.stallAfter, slice.length); // never ends: the client has to give up
  }
  if (o.cutAfter !== undefined) {
    const part = slice.subarray(0, o.cutAfter);
    // Give the bytes a moment to leave, then drop the connection mid-body.
    res.write(part, () => setImmediate(() => res.socket?.destroy()));
    return part.length;
  }
  res.end(slice);
  return slice.length;
}
