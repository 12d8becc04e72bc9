/**
 * @module bench/graph-profile.bench
 * `npm run bench:profile -- <bundle-dir> [image|llm|head] [--dims T=20,P=129] [--nodes 20]` — not a test. Runs one graph of a bundle on CPU with
 * onnxruntime's own profiler and prints where the time goes, per operator type (total ms, share, node count),
 * so a slow stage in `npm run bench:model` can be traced to its kernels. Inputs are synthetic, shaped from the
 * manifest (symbolic dimensions: the image-token count for the LLM's sequence, 0 for past caches).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadBundle } from '../src/inference/bundle/loadBundle.js';
import type { GraphName, TensorSpec } from '../src/inference/bundle/manifest.js';

const bundle = resolve(process.argv[2] ?? '.cache/bench-full-l2');
const graph = (process.argv[3] && !process.argv[3].startsWith('--') ? process.argv[3] : 'image') as GraphName;
if (!existsSync(join(bundle, 'manifest.json'))) {
  console.error(`No bundle at ${bundle}.`);
  process.exit(2);
}
const { manifest } = await loadBundle(bundle);
const spec = manifest.graphs[graph];
const threads = Number(process.env.SEGEARTH_BENCH_THREADS ?? os.availableParallelism());

// Symbolic dimensions: `--dims T=20,P=129` (T new tokens, P past length, L description length); defaults: the
// image-token count for T and L, 0 for P.
const dimArg = process.argv.indexOf('--dims');
const given = new Map(
  (dimArg > 0 ? process.argv[dimArg + 1]! : '').split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]).map(([k, v]) => [k, Number(v)] as const),
);
function dims(t: TensorSpec): number[] {
  return t.shape.map((d) => (typeof d === 'number' ? d : given.get(d) ?? (d === 'P' ? 0 : manifest.architecture.imageTokens)));
}
function synthetic(t: TensorSpec): ort.Tensor {
  const shape = dims(t);
  const n = shape.reduce((a, b) => a * b, 1);
  if (t.dtype === 'int64') return new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(i % shape[shape.length - 1]!)), shape);
  if (t.dtype === 'float32') return new ort.Tensor('float32', Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 0.5), shape);
  throw new Error(`no synthetic input for ${t.name} (${t.dtype})`);
}

const dir = mkdtempSync(join(os.tmpdir(), 'segearth-profile-'));
const session = await ort.InferenceSession.create(join(bundle, spec.file), {
  graphOptimizationLevel: 'all',
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  enableProfiling: true,
  profileFilePrefix: join(dir, graph),
});
const feeds = Object.fromEntries(spec.inputs.map((t) => [t.name, synthetic(t)]));
// Two warm-up runs: the first allocates per tensor, the second lays out onnxruntime's memory pattern; both touch
// fresh pages (in this VM ~2× the steady run). The third is the one profiled.
const RUNS = 3;
for (let i = 1; i < RUNS; i++) await session.run(feeds);
const t0 = performance.now();
await session.run(feeds);
const wallMs = performance.now() - t0;
session.endProfiling();
await session.release();

type Event = { cat: string; name: string; dur: number; args?: { op_name?: string; output_type_shape?: unknown } };
const file = readdirOne(dir);
const events = JSON.parse(readFileSync(file, 'utf8')) as Event[];
// The profile holds every run; keep the last (the timed one).
const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
const lastRunDur = runs.at(-1)?.dur ?? 0;
const nodes = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'));
const half = nodes.slice((nodes.length / RUNS) * (RUNS - 1));
const byOp = new Map<string, { us: number; count: number }>();
for (const e of half) {
  const op = e.args?.op_name ?? '?';
  const cur = byOp.get(op) ?? { us: 0, count: 0 };
  cur.us += e.dur;
  cur.count++;
  byOp.set(op, cur);
}
const total = [...byOp.values()].reduce((s, v) => s + v.us, 0);
const rows = [...byOp.entries()]
  .sort((a, b) => b[1].us - a[1].us)
  .map(([op, v]) => ({ op, ms: +(v.us / 1000).toFixed(1), share: `${((v.us / total) * 100).toFixed(1)}%`, nodes: v.count }));
console.log(`${graph} graph of ${bundle}: run ${wallMs.toFixed(0)} ms wall (${(lastRunDur / 1000).toFixed(0)} ms in onnxruntime), ${threads} threads, kernels ${(total / 1000).toFixed(0)} ms`);
console.table(rows.slice(0, 20));
// `--nodes N`: the N slowest single nodes, with their output shapes (which reshuffle or matmul is slow).
const nodeArg = process.argv.indexOf('--nodes');
if (nodeArg > 0) {
  const top = [...half].sort((a, b) => b.dur - a.dur).slice(0, Number(process.argv[nodeArg + 1] ?? 20));
  console.table(top.map((e) => ({ node: e.name.replace(/_kernel_time$/, ''), op: e.args?.op_name, ms: +(e.dur / 1000).toFixed(2), out: JSON.stringify(e.args?.output_type_shape ?? '') })));
}
rmSync(dir, { recursive: true, force: true });

function readdirOne(d: string): string {
  const names = readdirSync(d);
  if (names.length !== 1) throw new Error(`expected one profile in ${d}, found ${names.length}`);
  return join(d, names[0]!);
}
