/**
 * @module bench/model.bench
 * `npm run bench:model [-- <bundle-dir>]` — not a test. Times the SegEarth-R1 runtime stage by stage on CPU
 * (image graph, LLM over the view, LLM over the question, head, vectorize), first question on a new view vs a
 * follow-up, our overhead over the graph times, and — in the same run — PyTorch eager on the same random
 * weights (`bench/model_eager.py`, Debian torch) and this machine's limits (measured float32 matmul peak and
 * memory bandwidth → per-stage floor = max(FLOPs / peak, weight bytes / bandwidth)).
 *
 * The bundle defaults to `.cache/bench-full` (a full-size random-weight bundle made once with
 * `/usr/bin/python3 -m tools.export.tiny_bundle --preset full --out .cache/bench-full`, never committed);
 * `--llm-layers N` bundles work too, and the LLM numbers are then also scaled to the real 24 layers.
 * Results go to stdout and bench/out/model.json. `SEGEARTH_BENCH_EAGER=0` stops after the onnxruntime side
 * (bench/out/model-ort.json), e.g. to compare precisions of one bundle layout.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import gdal from 'gdal-async';
import * as ort from 'onnxruntime-node';
import { maskToPolygons } from '../src/geo/maskToPolygons.js';
import { SegEarthPipeline } from '../src/inference/pipeline/pipeline.js';

const bundle = resolve(process.argv[2] ?? process.env.SEGEARTH_BENCH_BUNDLE ?? '.cache/bench-full');
if (!existsSync(join(bundle, 'manifest.json'))) {
  console.error(`No bundle at ${bundle}. Make one: /usr/bin/python3 -m tools.export.tiny_bundle --preset full --out .cache/bench-full`);
  process.exit(2);
}
const threads = Number(process.env.SEGEARTH_BENCH_THREADS ?? os.availableParallelism());
const repeat = Number(process.env.SEGEARTH_BENCH_REPEAT ?? 3);
const python = process.env.SEGEARTH_PYTHON ?? '/usr/bin/python3';
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const pipeline = await SegEarthPipeline.create(bundle, { ep: 'cpu', threads: { intraOp: threads } });
const m = pipeline.model.manifest;
const size = m.image.size;
const rgb = new Uint8Array(size * size * 3).map((_, i) => (i * 2654435761) >>> 24);
const questions = ['Where could a helicopter land safely in this area?', 'Which buildings would be flooded first?', 'Where are the sports fields?'];

// Warm-up (first session run allocates arenas).
await pipeline.predict('warm', async () => ({ rgb, width: size, height: size }), questions[0]!);
pipeline.clearViews();

const first: Array<{ total: number; image: number; llmView: number; llmQuestion: number; head: number }> = [];
const follow: Array<{ total: number; llmQuestion: number; head: number }> = [];
const last = (graph: 'image' | 'llm' | 'head', n = 1): number[] => pipeline.model.recentRuns(graph).slice(-n);
for (let r = 0; r < repeat; r++) {
  pipeline.clearViews();
  const t0 = performance.now();
  await pipeline.predict(`view-${r}`, async () => ({ rgb, width: size, height: size }), questions[0]!);
  const t1 = performance.now();
  const [llmView, llmQ] = last('llm', 2) as [number, number];
  first.push({ total: t1 - t0, image: last('image')[0]!, llmView, llmQuestion: llmQ, head: last('head')[0]! });
  const t2 = performance.now();
  await pipeline.predict(`view-${r}`, async () => ({ rgb, width: size, height: size }), questions[1 + (r % 2)]!);
  const t3 = performance.now();
  follow.push({ total: t3 - t2, llmQuestion: last('llm')[0]!, head: last('head')[0]! });
}

// Vectorize: the last answer's probability raster (1024²) → polygons.
const dir = mkdtempSync(join(os.tmpdir(), 'segearth-bench-'));
const prediction = await pipeline.predict('view-0', async () => ({ rgb, width: size, height: size }), questions[0]!);
const logits = SegEarthPipeline.toGrid(prediction, size, size);
const probPath = join(dir, 'p.tif');
const ds = gdal.open(probPath, 'w', 'GTiff', size, size, 1, gdal.GDT_Float32);
ds.geoTransform = [500000, 1, 0, 4000000, 0, -1];
ds.srs = gdal.SpatialReference.fromEPSG(32618);
ds.bands.get(1).pixels.write(0, 0, size, size, logits.map((l) => 1 / (1 + Math.exp(-l))));
ds.close();
const vec: number[] = [];
let featureCount = 0;
for (let r = 0; r < repeat; r++) {
  const t = performance.now();
  featureCount = (await maskToPolygons({ kind: 'file', path: probPath }, { threshold: 0.5 })).features.length;
  vec.push(performance.now() - t);
}
rmSync(dir, { recursive: true, force: true });

const plan = pipeline.model.prompt.plan;
const questionTokens = pipeline.model.prompt.referIds(questions[1]!).length;
const ours = {
  bundle,
  llmLayers: m.architecture.numLayers,
  threads,
  firstQuestionMs: median(first.map((f) => f.total)),
  followUpMs: median(follow.map((f) => f.total)),
  imageMs: median(first.map((f) => f.image)),
  llmViewMs: median(first.map((f) => f.llmView)),
  llmQuestionMs: median(follow.map((f) => f.llmQuestion)),
  headMs: median(follow.map((f) => f.head)),
  vectorizeMs: median(vec),
  featureCount,
  tokens: { prefix: plan.prefixIds.length, view: plan.viewLength, question: questionTokens },
};
const graphFirst = median(first.map((f) => f.image + f.llmView + f.llmQuestion + f.head));
const graphFollow = median(follow.map((f) => f.llmQuestion + f.head));
await pipeline.dispose();

// This machine's single-precision peak as onnxruntime's own matmul kernel reaches it (2048³, same threads).
async function ortMatmulPeakGflops(n = 2048): Promise<number> {
  const dir = mkdtempSync(join(os.tmpdir(), 'segearth-peak-'));
  const path = join(dir, 'matmul.onnx');
  const made = spawnSync(python, ['bench/matmul_graph.py', path, '--n', String(n)], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`bench/matmul_graph.py failed: ${made.stderr}`);
  const session = await ort.InferenceSession.create(path, { intraOpNumThreads: threads, interOpNumThreads: 1 });
  const a = new ort.Tensor('float32', Float32Array.from({ length: n * n }, (_, i) => ((i * 7919) % 17) / 17), [n, n]);
  const times: number[] = [];
  for (let r = 0; r < 6; r++) {
    const t = performance.now();
    await session.run({ A: a, B: a });
    times.push(performance.now() - t);
  }
  await session.release();
  rmSync(dir, { recursive: true, force: true });
  return (2 * n ** 3) / (Math.min(...times.slice(1)) / 1000) / 1e9; // a peak: the best run
}
const ortPeak = await ortMatmulPeakGflops();

// The onnxruntime side first, so it is kept even when the (much slower) eager side is interrupted.
mkdirSync('bench/out', { recursive: true });
writeFileSync('bench/out/model-ort.json', JSON.stringify({ ours, graphFirst, graphFollow, ortPeak, load1: os.loadavg()[0] }, null, 2));
console.error(JSON.stringify({ ours, graphFirst, graphFollow }));
const scale = 24 / m.architecture.numLayers;
const scaledTo24Layers =
  m.architecture.numLayers < 24
    ? {
        firstQuestionMs: +(ours.firstQuestionMs + (ours.llmViewMs + ours.llmQuestionMs) * (scale - 1)).toFixed(0),
        followUpMs: +(ours.followUpMs + ours.llmQuestionMs * (scale - 1)).toFixed(0),
      }
    : null;
const precisions = Object.fromEntries(Object.entries(m.graphs).map(([k, g]) => [k, g.precision]));
if (process.env.SEGEARTH_BENCH_EAGER === '0') {
  console.log(JSON.stringify({ precisions, ours, graphFirst, graphFollow, ortPeak, scaledTo24Layers }, null, 2));
  process.exit(0);
}
console.error('PyTorch eager on the same weights…');
// Debian's torch links the reference BLAS unless another is selected (tests keep that one); the peer runs on
// OpenBLAS when libopenblas0-pthread is installed, so it is a fair peer, without changing the system default.
const openblas = '/usr/lib/x86_64-linux-gnu/openblas-pthread';
const eagerBlas = existsSync(join(openblas, 'libblas.so.3')) ? 'OpenBLAS (pthread)' : 'system libblas.so.3';
console.error(`PyTorch eager BLAS: ${eagerBlas}`);
const eager = spawnSync(
  python,
  ['bench/model_eager.py', bundle, '--view-tokens', String(plan.viewLength), '--question-tokens', String(questionTokens), '--prefix', String(plan.prefixIds.length), '--threads', String(threads), '--repeat', String(repeat)],
  {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    env: eagerBlas.startsWith('OpenBLAS') ? { ...process.env, LD_LIBRARY_PATH: [openblas, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') } : process.env,
  },
);
type Stage = { eagerMs: number; flops: number; weightBytes: number };
let torch: Record<string, Stage | number> | null = null;
if (eager.status === 0) torch = JSON.parse(eager.stdout.trim().split('\n').pop()!) as Record<string, Stage | number>;
else console.error(`eager side failed: ${eager.stderr.slice(-2000)}`);

const rows: Array<[string, number, Stage | undefined]> = [
  ['image', ours.imageMs, torch?.image as Stage | undefined],
  ['llm (view tokens)', ours.llmViewMs, torch?.llm_view as Stage | undefined],
  ['llm (question tokens)', ours.llmQuestionMs, torch?.llm_question as Stage | undefined],
  ['head', ours.headMs, torch?.head as Stage | undefined],
];
const torchPeak = (torch?.matmulPeakGflops as number | undefined) ?? NaN;
const peak = Number.isFinite(torchPeak) ? Math.max(torchPeak, ortPeak) : ortPeak;
const bw = (torch?.bandwidthGBs as number | undefined) ?? NaN;
const table = rows.map(([name, ms, st]) => {
  const floorMs = st ? Math.max(st.flops / (peak * 1e9), st.weightBytes / (bw * 1e9)) * 1000 : NaN;
  return { stage: name, onnxruntimeMs: +ms.toFixed(1), eagerMs: st ? +st.eagerMs.toFixed(1) : null, gflop: st ? +(st.flops / 1e9).toFixed(2) : null, weightMB: st ? +(st.weightBytes / 2 ** 20).toFixed(1) : null, floorMs: +floorMs.toFixed(1), xFloor: +(ms / floorMs).toFixed(2) };
});
const result = {
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? '', load1: os.loadavg()[0], matmulPeakGflops: +peak.toFixed(1), ortMatmulPeakGflops: +ortPeak.toFixed(1), torchMatmulPeakGflops: +torchPeak.toFixed(1), eagerBlas, bandwidthGBs: bw },
  ours,
  stages: table,
  overhead: {
    firstQuestionPct: +(((ours.firstQuestionMs - graphFirst) / graphFirst) * 100).toFixed(1),
    followUpPct: +(((ours.followUpMs - graphFollow) / graphFollow) * 100).toFixed(1),
  },
  scaledTo24Layers,
  precisions,
};
console.table(table);
console.log(JSON.stringify(result, null, 2));
mkdirSync('bench/out', { recursive: true });
writeFileSync('bench/out/model.json', JSON.stringify(result, null, 2));
