/**
 * @module bench/cold-start.bench
 * `npm run bench:cold -- <bundle-dir> [variant…]` — not a test. Why the first questions after a model is
 * loaded are slow, and what makes the first one as fast as a warm one. Each variant runs in a fresh process (a
 * fresh heap, as when the app starts), loads the bundle's image graph on the CPU and runs it `RUNS` times on
 * the same synthetic 1024² input, printing the load time and each run's time:
 *
 * - `default`: the runtime's session options (`sessionOptions`: CPU arena + memory pattern);
 * - `no-pattern`: memory pattern off (the second run reuses the arena's blocks instead of a new pattern buffer);
 * - `no-arena`: CPU arena off (every tensor from malloc);
 * - `no-arena-no-pattern`: both off.
 *
 * Then the runtime's road (`SegEarthPipeline`, as in the worker): `runtime` loads the bundle and asks three
 * first questions on three new views and a follow-up on the last, with the image graph time of each;
 * `warm-up` does the same after `SegEarthPipeline.warmUp` (what the app runs in the background once a model is
 * loaded), its time counted in the load column and reported apart.
 * Results also in bench/out/cold-start.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { loadBundle } from '../src/inference/bundle/loadBundle.js';
import { defaultThreads, sessionOptions, spinFor } from '../src/inference/providers/executionProvider.js';
import { SegEarthPipeline } from '../src/inference/pipeline/pipeline.js';

const RUNS = 4;
const VARIANTS = {
  default: {},
  'no-pattern': { enableMemPattern: false },
  'no-arena': { enableCpuMemArena: false },
  'no-arena-no-pattern': { enableCpuMemArena: false, enableMemPattern: false },
} satisfies Record<string, ort.InferenceSession.SessionOptions>;
type Variant = keyof typeof VARIANTS | 'runtime' | 'warm-up';

interface VariantResult {
  variant: Variant;
  loadMs: number;
  runsMs: number[];
  /** `runtime`, `warm-up`: graph times of each question. */
  graphs?: Array<{ image: number; llm: number; head: number }>;
  /** `warm-up`: the warm-up's own time (included in loadMs). */
  warmUpMs?: number;
}

const args = process.argv.slice(2);
const childAt = args.indexOf('--child');
const bundle = resolve(args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--child') ?? '.cache/bench-full-cpu-l2');
if (!existsSync(join(bundle, 'manifest.json'))) {
  console.error(
    `No bundle at ${bundle}. Make one: /usr/bin/python3 -m tools.export.tiny_bundle --preset full --llm-layers 2 ` +
      `--image-weights int8 --llm-weights int8 --out .cache/bench-full-cpu-l2`,
  );
  process.exit(2);
}
const rgbOf = (size: number, seed: number) => new Uint8Array(size * size * 3).map((_, i) => ((i + seed) * 2654435761) >>> 24);

async function graphVariant(variant: keyof typeof VARIANTS): Promise<VariantResult> {
  const { manifest, dir } = await loadBundle(bundle);
  const size = manifest.image.size;
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(join(dir, manifest.graphs.image.file), {
    ...sessionOptions('cpu', defaultThreads(), spinFor('image')),
    ...VARIANTS[variant],
  });
  const loadMs = performance.now() - t0;
  const pixels = new ort.Tensor('float32', Float32Array.from(rgbOf(size, 0), (v) => v / 255 - 0.5), [1, 3, size, size]);
  const runsMs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t = performance.now();
    await session.run({ pixel_values: pixels });
    runsMs.push(performance.now() - t);
  }
  await session.release();
  return { variant, loadMs, runsMs };
}

async function runtimeVariant(warmUp: boolean): Promise<VariantResult> {
  const t0 = performance.now();
  const pipeline = await SegEarthPipeline.create(bundle, { ep: 'cpu' });
  const warmUpMs = warmUp ? (await pipeline.warmUp()).ms : undefined;
  const loadMs = performance.now() - t0;
  const size = pipeline.model.manifest.image.size;
  const runsMs: number[] = [];
  const graphs: Array<{ image: number; llm: number; head: number }> = [];
  const questions = ['Where could a helicopter land safely in this area?', 'Which buildings would be flooded first?'];
  const ask = async (view: number, question: string) => {
    const before = pipeline.model.stats;
    const t = performance.now();
    await pipeline.predict(`view-${view}`, async () => ({ rgb: rgbOf(size, view), width: size, height: size }), question);
    runsMs.push(performance.now() - t);
    const after = pipeline.model.stats;
    graphs.push({ image: after.image.ms - before.image.ms, llm: after.llm.ms - before.llm.ms, head: after.head.ms - before.head.ms });
  };
  for (let v = 0; v < RUNS - 1; v++) await ask(v, questions[0]!);
  await ask(RUNS - 2, questions[1]!); // follow-up on the last view
  await pipeline.dispose();
  return { variant: warmUp ? 'warm-up' : 'runtime', loadMs, runsMs, graphs, ...(warmUpMs !== undefined ? { warmUpMs } : {}) };
}

if (childAt >= 0) {
  const variant = args[childAt + 1] as Variant;
  const result = variant === 'runtime' || variant === 'warm-up' ? await runtimeVariant(variant === 'warm-up') : await graphVariant(variant);
  console.log(`RESULT ${JSON.stringify(result)}`);
} else {
  const asked = args.filter((a) => a in VARIANTS || a === 'runtime' || a === 'warm-up') as Variant[];
  const variants: Variant[] = asked.length > 0 ? asked : [...(Object.keys(VARIANTS) as Variant[]), 'runtime', 'warm-up'];
  const results: VariantResult[] = [];
  const self = fileURLToPath(import.meta.url);
  for (const variant of variants) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', self, bundle, '--child', variant], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) {
      console.error(`variant ${variant} failed (exit ${r.status})`);
      continue;
    }
    results.push(JSON.parse(line.slice(7)) as VariantResult);
  }
  console.log(`cold start; bundle ${bundle}; ${os.cpus().length} CPU(s), load average ${os.loadavg()[0]!.toFixed(1)}`);
  console.log('| variant | load ms | run 1 ms | run 2 ms | run 3 ms | run 4 ms | run 1 ÷ run 4 |\n|---|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const cells = r.runsMs.map((ms, i) => (r.graphs ? `${ms.toFixed(0)} (image ${r.graphs[i]!.image.toFixed(0)})` : ms.toFixed(0)));
    const ratio = r.graphs ? r.runsMs[0]! / r.runsMs[2]! : r.runsMs[0]! / r.runsMs[RUNS - 1]!;
    const load = r.warmUpMs !== undefined ? `${r.loadMs.toFixed(0)} (warm-up ${r.warmUpMs.toFixed(0)})` : r.loadMs.toFixed(0);
    console.log(`| ${r.variant} | ${load} | ${cells.join(' | ')} | ${ratio.toFixed(2)} |`);
  }
  console.log('(runtime, warm-up: runs 1–3 are first questions on three new views, run 4 a follow-up on view 3; ratio: view 1 ÷ view 3)');
  mkdirSync('bench/out', { recursive: true });
  writeFileSync('bench/out/cold-start.json', JSON.stringify({ bundle, load1: os.loadavg()[0], results }, null, 2));
}
