/**
 * @module bench/responsiveness.bench
 * `npm run bench:responsiveness [-- <bundle-dir>] [--size 12000] [--view-size 4096] [--label text]` — not a
 * test. Does the server keep answering while it asks (issue 15.5)? Server mode in this process (the backend and
 * the HTTP server, as `npm run serve` starts them) with the tiny test bundle by default; a client in a worker
 * thread (its own event loop, so a blocked server loop cannot hide its own delay) calls `files.list` over HTTP
 * every ~50 ms on one keep-alive connection while the server
 *
 * 1. is idle,
 * 2. answers a `tiled` question on a `--size`² scene (tiled, DEFLATE, overviews: as analysts' scenes are),
 * 3. answers a `view` question on a `--view-size`² scene,
 *
 * and prints, per phase (and per job stage within the asks, e.g. `vectorizing`): files.list latency p50 / p95 /
 * p99 / max, the server loop's event-loop delay (`perf_hooks.monitorEventLoopDelay`) p99 / max, and the
 * longest garbage-collection pause of the server's thread, and the keep-alive errors (requests that failed:
 * connection reset, …). The scenes are made once in the OS temp
 * folder. Set `UV_THREADPOOL_SIZE` on the command line to compare thread-pool sizes (it must be set before the
 * pool starts). Results also in bench/out/responsiveness.json.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import gdal from 'gdal-async';
import { startServerApp } from '../src/main/serverApp.js';
import { ModelStore } from '../src/inference/models/ModelStore.js';
import { createRuntimeAdapter } from '../src/main/services/runtimeAdapter.js';
import type { JobEvent } from '../src/shared/api/dto.js';
import { ensureTinyBundle } from '../test/support/tinyBundle.js';
import { makeRiverScene } from '../e2e/support/riverScene.js';

const args = process.argv.slice(2);
const VALUED = ['--size', '--view-size', '--label'];
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const size = Number(option('--size') ?? 12000);
const viewSize = Number(option('--view-size') ?? 4096);
const label = option('--label') ?? '';
const givenBundle = args.find((a, i) => !a.startsWith('--') && !VALUED.includes(args[i - 1] ?? ''));
const bundle = givenBundle ? resolve(givenBundle) : await ensureTinyBundle();
if (!existsSync(join(bundle, 'manifest.json'))) {
  console.error(`No bundle at ${bundle}.`);
  process.exit(2);
}

/** A `side`² river scene, tiled, DEFLATE, with overviews, made once. */
function ensureScene(side: number): string {
  const dir = join(os.tmpdir(), 'segearth-bench-responsiveness');
  const path = join(dir, `scene_${side}.tif`);
  if (existsSync(path)) return path;
  mkdirSync(dir, { recursive: true });
  const raw = join(dir, `raw_${side}.tif`);
  makeRiverScene(raw, {
    size: side, originX: 300000, centreY: side / 3, amplitude: side / 10, period: side / 8, phase: 0,
    halfWidth: side / 30, fieldX: side * 0.6, fieldY: side * 0.6,
  });
  const src = gdal.open(raw);
  const partial = `${path}.partial.tif`;
  const out = gdal.drivers.get('GTiff').createCopy(partial, src, { TILED: 'YES', COMPRESS: 'DEFLATE' });
  src.close();
  out.buildOverviews('AVERAGE', [2, 4, 8, 16, 32]);
  out.close();
  rmSync(raw);
  gdal.drivers.get('GTiff').rename(path, partial);
  return path;
}

/** The client: plain JavaScript in a worker thread, one keep-alive connection, a request every ~50 ms. */
const CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const body = JSON.stringify({ dir: workerData.dir });
const samples = [];
let stop = false;
parentPort.on('message', (m) => { if (m === 'stop') stop = true; });
function once() {
  return new Promise((done) => {
    const start = performance.timeOrigin + performance.now();
    const req = http.request({ host: '127.0.0.1', port: workerData.port, path: '/api/files/list', method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: 'Bearer ' + workerData.token } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => { text += c; });
        res.on('end', () => {
          const ok = res.statusCode === 200 && JSON.parse(text).ok === true;
          samples.push({ at: start, ms: performance.timeOrigin + performance.now() - start, error: ok ? null : 'HTTP ' + res.statusCode });
          done();
        });
        res.on('error', (e) => { samples.push({ at: start, ms: performance.timeOrigin + performance.now() - start, error: e.code || e.message }); done(); });
      });
    req.on('error', (e) => { samples.push({ at: start, ms: performance.timeOrigin + performance.now() - start, error: e.code || e.message }); done(); });
    req.end(body);
  });
}
(async () => {
  while (!stop) {
    const t = performance.now();
    await once();
    const wait = 50 - (performance.now() - t);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  parentPort.postMessage(samples);
})();
`;

interface Sample {
  at: number;
  ms: number;
  error: string | null;
}
interface Span {
  name: string;
  from: number;
  to: number;
  loop: IntervalHistogram;
}

const DIRECT = { transport: 'direct' } as const;
const now = (): number => performance.timeOrigin + performance.now();
const bigScene = ensureScene(size);
const viewScene = ensureScene(viewSize);
const sceneDir = join(os.tmpdir(), 'segearth-bench-responsiveness');
const dataDir = mkdtempSync(join(os.tmpdir(), 'segearth-responsiveness-data-'));
const runtime = createRuntimeAdapter({ store: new ModelStore(), defaultModelDir: bundle });
const app = await startServerApp({ roots: [sceneDir], dataDir, runtime, staticDir: null });

/** Garbage-collection pauses of the server's thread: [start, ms]. */
const gcPauses: Array<[number, number]> = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcPauses.push([performance.timeOrigin + e.startTime, e.duration]);
}).observe({ entryTypes: ['gc'] });

/** Spans: the phases, and each job stage within an ask (each with its own event-loop delay histogram). */
const spans: Span[] = [];
const open = (name: string): Span => {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const span = { name, from: now(), to: Infinity, loop };
  spans.push(span);
  return span;
};
const close = (span: Span | null): void => {
  if (!span || span.to !== Infinity) return;
  span.to = now();
  span.loop.disable();
};

let stageSpan: Span | null = null;
let phase = '';
let jobDone: ((e: JobEvent) => void) | null = null;
app.backend.events.subscribe(({ event, payload }) => {
  if (event !== 'inference.job') return;
  const e = payload as JobEvent;
  if (e.type === 'progress') {
    const name = `${phase}: ${e.stage}`;
    if (stageSpan?.name !== name) {
      close(stageSpan);
      stageSpan = open(name);
    }
    return;
  }
  close(stageSpan);
  stageSpan = null;
  jobDone?.(e);
});

async function ask(name: string, path: string, strategy: 'tiled' | 'view'): Promise<void> {
  const layer = await app.backend.api.workspace.openRaster({ path }, DIRECT);
  phase = name;
  const span = open(name);
  const ended = new Promise<JobEvent>((r) => (jobDone = r));
  await app.backend.api.inference.ask({ layerId: layer.id, question: 'where could flood water spread?', aoi: { kind: 'scene' }, strategy, threshold: 0.5, minAreaM2: 0 }, DIRECT);
  const end = await ended;
  close(span);
  if (end.type === 'error') throw new Error(`${name} failed: ${end.error.message}`);
  console.error(`${name}: ${((span.to - span.from) / 1000).toFixed(1)} s, ${end.type === 'result' ? end.result.featureCount : 0} polygons`);
}

const client = new Worker(CLIENT, { eval: true, workerData: { port: app.server.port, token: app.server.token, dir: sceneDir } });
const samples = new Promise<Sample[]>((r) => client.once('message', r));
let failed: unknown = null;
try {
  // Load the model first (as the app does at start): the asks then measure asking, not loading.
  await runtime.prepare?.({ modelDir: null, executionProvider: 'auto' });
  const idle = open('idle');
  await new Promise((r) => setTimeout(r, 3000));
  close(idle);
  await ask(`tiled ask, ${size}²`, bigScene, 'tiled');
  await ask(`view ask, ${viewSize}²`, viewScene, 'view');
} catch (err) {
  failed = err;
} finally {
  client.postMessage('stop');
}
const all = await samples;
await client.terminate();
await app.close();
rmSync(dataDir, { recursive: true, force: true });
if (failed) throw failed;

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
const rows = spans.map((s) => {
  // A request belongs to the span it started in.
  const inside = all.filter((x) => x.at >= s.from && x.at < s.to);
  const ms = inside.filter((x) => !x.error).map((x) => x.ms).sort((a, b) => a - b);
  return {
    span: s.name,
    seconds: +((s.to - s.from) / 1000).toFixed(1),
    requests: inside.length,
    p50: +pct(ms, 50).toFixed(1),
    p95: +pct(ms, 95).toFixed(1),
    p99: +pct(ms, 99).toFixed(1),
    max: +(ms[ms.length - 1] ?? NaN).toFixed(1),
    loopP99: +(s.loop.percentile(99) / 1e6).toFixed(1),
    loopMax: +(s.loop.max / 1e6).toFixed(1),
    gcMax: +Math.max(0, ...gcPauses.filter(([at]) => at >= s.from && at < s.to).map(([, ms]) => ms)).toFixed(1),
    errors: inside.filter((x) => x.error).length,
  };
});
const errors = [...new Set(all.filter((x) => x.error).map((x) => x.error))];
console.log(
  `\nresponsiveness${label ? ` (${label})` : ''}: files.list every ~50 ms over keep-alive while asking; bundle ${bundle}; ` +
    `UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? '(default 4)'}; ${os.cpus().length} CPU(s), load average ${os.loadavg()[0]!.toFixed(1)}\n`,
);
console.log('| phase / job stage | s | requests | files.list p50 ms | p95 | p99 | max | event-loop delay p99 ms | max | longest GC pause ms | errors |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.span} | ${r.seconds} | ${r.requests} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.max} | ${r.loopP99} | ${r.loopMax} | ${r.gcMax} | ${r.errors} |`);
}
if (errors.length) console.log(`\nerrors: ${errors.join(', ')}`);
mkdirSync('bench/out', { recursive: true });
writeFileSync('bench/out/responsiveness.json', JSON.stringify({ label, bundle, size, viewSize, threadpool: process.env.UV_THREADPOOL_SIZE ?? null, load1: os.loadavg()[0], rows, errors }, null, 2));
