/**
 * @module test/models/helpers
 * Fixtures for the model-manager tests: small fake bundles (a manifest with the real sha256 of each file),
 * a temporary store, and a local HTTP server that honours Range requests and can cut connections.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { create as tarCreate } from 'tar';
import { resolveModelLocations, type ModelLocations } from '../../src/inference/models/locations.js';
import { sendRange } from '../support/rangeResponse.js';

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface FakeBundle {
  readonly id: string;
  readonly variant?: 'earthreason' | 'rrsis-d' | 'refsegrs' | 'tiny-test';
  readonly precision?: 'fp32' | 'fp16' | 'int8-weight-only';
  /** Overrides / extra files (path -> content); the ten files a manifest references always exist. */
  readonly files?: Record<string, Buffer | string>;
}

/** Deterministic pseudo-random bytes (so sizes and hashes are stable). */
export function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

const HIDDEN = 8;

function graph(file: string, precision: string): Record<string, unknown> {
  return {
    file,
    externalData: [`${file}.data`],
    opset: 17,
    precision,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1] }],
  };
}

/**
 * Writes `<parent>/<id>/` with a manifest that passes the runtime's ManifestSchema and the files it lists
 * (random bytes: the model manager never parses them). Returns the bundle folder.
 */
export async function writeBundle(parent: string, spec: FakeBundle): Promise<string> {
  const dir = path.join(parent, spec.id);
  const precision = spec.precision ?? 'fp32';
  const files: Record<string, Buffer | string> = {
    'image.onnx': bytes(3000, 7),
    'image.onnx.data': bytes(5000, 9),
    'llm.onnx': bytes(1000, 11),
    'llm.onnx.data': bytes(4000, 13),
    'head.onnx': bytes(900, 15),
    'head.onnx.data': bytes(700, 17),
    'embed_tokens.bin': bytes(16 * HIDDEN * 4, 19),
    'prefix_kv.safetensors': bytes(300, 21),
    'tokenizer.json': '{"model":{}}',
    'weights.json': '{"formatVersion":1,"unused":[],"entries":[]}',
    ...spec.files,
  };
  await mkdir(dir, { recursive: true });
  const listed = [];
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(dir, ...rel.split('/'));
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
    listed.push({ path: rel, sha256: sha256(content), bytes: Buffer.byteLength(content) });
  }
  const variant = spec.variant ?? 'earthreason';
  const manifest = {
    formatVersion: 1,
    id: spec.id,
    name: `Test bundle ${spec.id}`,
    testFixture: variant === 'tiny-test',
    source: {
      checkpoint: variant === 'rrsis-d' ? 'earth-insights/SegEarth-R1-RRSIS-D' : 'earth-insights/SegEarth-R1-EarthReason',
      files: [{ name: 'model.safetensors', sha256: sha256('checkpoint') }],
      exporter: { name: 'test', version: '0' },
    },
    variant,
    prompt: { chunks: [{ kind: 'text', text: 'sys' }, { kind: 'image' }, { kind: 'refer' }], referPrefix: ' ', prefixChunks: 1 },
    tokenizer: { file: 'tokenizer.json', vocabSize: 16, addSpecialTokens: false, specialTokens: { seg: { content: '[SEG]', id: 15 } } },
    image: {
      size: 1024,
      channels: 'RGB',
      mean: [123.675, 116.28, 103.53],
      std: [58.395, 57.12, 57.375],
      letterbox: { resize: 'longest-side', interpolation: 'bilinear', pad: 'center', padValue: 0 },
    },
    architecture: { hiddenSize: HIDDEN, numLayers: 1, numHeads: 1, numKeyValueHeads: 1, headDim: 8, imageTokens: 64, maskSize: 256, maskThreshold: 0, maxPositions: 512 },
    graphs: { image: graph('image.onnx', 'fp32'), llm: graph('llm.onnx', precision), head: graph('head.onnx', 'fp32') },
    embeddings: { file: 'embed_tokens.bin', dtype: 'float32', shape: [16, HIDDEN] },
    kvCache: {
      pastKey: 'past_key_values.{i}.key',
      pastValue: 'past_key_values.{i}.value',
      presentKey: 'present.{i}.key',
      presentValue: 'present.{i}.value',
      layout: 'batch,heads,seq,headDim',
      dtype: 'float32',
    },
    prefixCache: { file: 'prefix_kv.safetensors', tokenIds: [1, 2], length: 2 },
    weightMap: 'weights.json',
    files: listed,
  };
  await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return dir;
}

/** `tar czf <out> -C <parent> <id>` (or the bundle's contents at the top level with `flat`). */
export async function packBundle(bundleDir: string, out: string, options: { gzip?: boolean; flat?: boolean } = {}): Promise<string> {
  const gzip = options.gzip ?? true;
  if (options.flat) {
    const { readdir } = await import('node:fs/promises');
    await tarCreate({ gzip, file: out, cwd: bundleDir, portable: true }, await readdir(bundleDir));
  } else {
    await tarCreate({ gzip, file: out, cwd: path.dirname(bundleDir), portable: true }, [path.basename(bundleDir)]);
  }
  return out;
}

export interface TempStore {
  readonly root: string;
  readonly locations: ModelLocations;
  cleanup(): Promise<void>;
}

/** A store under a fresh temp folder: data dir, one install folder, and a read-only "shipped" folder. */
export async function tempStore(): Promise<TempStore> {
  const root = await mkdtemp(path.join(tmpdir(), 'segearth-models-'));
  const locations = resolveModelLocations({
    env: { SEGEARTH_DATA_DIR: path.join(root, 'data') },
    platform: process.platform,
    shippedDir: path.join(root, 'shipped'),
  });
  return { root, locations, cleanup: () => rm(root, { recursive: true, force: true }) };
}

export interface ServedRequest {
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
}

export interface FileServer {
  readonly url: string;
  readonly requests: ServedRequest[];
  /** Bytes of body written per request. */
  readonly sent: number[];
  /** Cut the next `count` responses after `afterBytes` bytes of body (socket destroyed). */
  cutNext(count: number, afterBytes: number): void;
  /** Stall the next response after `afterBytes` bytes of body: the connection stays open, nothing more is sent. */
  stallNext(afterBytes: number): void;
  /** Replace the served content (and its ETag). */
  setContent(content: Buffer): void;
  close(): Promise<void>;
}

export interface FileServerOptions {
  /** Ignore Range headers and always answer 200 with the whole file. */
  readonly ignoreRange?: boolean;
  readonly etag?: boolean;
}

/** A local HTTP server for one file at /bundle.tar.gz (and /latest redirecting to it), honouring Range and If-Range like a CDN. */
export async function serveFile(content: Buffer, options: FileServerOptions = {}): Promise<FileServer> {
  let body = content;
  let etag = `"${sha256(body).slice(0, 16)}"`;
  const requests: ServedRequest[] = [];
  const sent: number[] = [];
  let cuts = 0;
  let cutAfter = 0;
  let stallAfter: number | null = null;
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? 'GET', headers: req.headers });
    const idx = sent.push(0) - 1;
    if (req.url === '/latest') {
      res.writeHead(302, { location: '/bundle.tar.gz' }).end();
      return;
    }
    if (req.url !== '/bundle.tar.gz') {
      res.writeHead(404).end('not found');
      return;
    }
    const stall = stallAfter ?? undefined;
    stallAfter = null;
    const cut = stall === undefined && cuts > 0 ? cutAfter : undefined;
    if (cut !== undefined) cuts--;
    sent[idx] = sendRange(req, res, body, {
      contentType: 'application/gzip',
      ...(options.etag !== false ? { etag } : {}),
      ...(options.ignoreRange ? { ignoreRange: true } : {}),
      ...(stall !== undefined ? { stallAfter: stall } : {}),
      ...(cut !== undefined ? { cutAfter: cut } : {}),
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/bundle.tar.gz`,
    requests,
    sent,
    cutNext(count, afterBytes) {
      cuts = count;
      cutAfter = afterBytes;
    },
    stallNext(afterBytes) {
      stallAfter = afterBytes;
    },
    setContent(c) {
      body = c;
      etag = `"${sha256(body).slice(0, 16)}"`;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Python's zipfile: an independent zip writer for the reader's tests (Debian's python3 is a test dependency). */
export const PYTHON = process.env.SEGEARTH_PYTHON ?? '/usr/bin/python3';

/**
 * Zips `bundleDir` (as a top folder) with Python's zipfile. `zip64` lowers zipfile's ZIP64 limit so that
 * every field takes the ZIP64 path; `stored` lists files written without compression; `symlink` adds a
 * symbolic-link entry.
 */
export async function zipWithPython(
  bundleDir: string,
  out: string,
  options: { zip64?: boolean; stored?: string[]; symlink?: string } = {},
): Promise<string> {
  const script = `
import os, sys, zipfile, json
src, out, opts = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
if opts.get('zip64'):
    zipfile.ZIP64_LIMIT = 100
base = os.path.basename(src)
with zipfile.ZipFile(out, 'w', compression=zipfile.ZIP_DEFLATED) as zf:
    zf.writestr(zipfile.ZipInfo(base + '/'), b'')
    for name in sorted(os.listdir(src)):
        comp = zipfile.ZIP_STORED if name in opts.get('stored', []) else zipfile.ZIP_DEFLATED
        zf.write(os.path.join(src, name), base + '/' + name, compress_type=comp)
    if opts.get('symlink'):
        info = zipfile.ZipInfo(base + '/' + opts['symlink'])
        info.create_system = 3
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, '/etc/passwd')
`;
  const { execFileSync } = await import('node:child_process');
  execFileSync(PYTHON, ['-c', script, bundleDir, out, JSON.stringify(options)], { stdio: 'inherit' });
  return out;
}
