/**
 * @module bench/gpu.bench
 * `npm run bench:gpu [-- <bundle-dir>] [--llm-layers N] [--repeat N] [--ep cuda,webgpu]` — not a test. The full-size model on the
 * GPU execution providers, self-contained and in under 5 minutes on a GPU machine:
 *
 * 1. probes WebGPU and CUDA (the runtime's own probe, `selectExecutionProvider`) and says why each one that
 *    does not work here does not (then stops: nothing else to measure without a GPU);
 * 2. takes the bundle given, or makes the full-size random-weight fp32 bundle once with the exporter
 *    (`tools.export.tiny_bundle --preset full`, all 24 LLM layers unless `--llm-layers`) in `.cache/bench-gpu-full`;
 * 3. runs one first question and one follow-up on the CPU as the reference, then on each working GPU provider:
 *    model load, the cold first question, `--repeat` (default 5) first questions on new views and follow-ups
 *    (medians), the graph times of each stage, and the largest difference of the mask logits from the CPU's;
 * 4. prints them beside the official PyTorch figures on an H200 (random weights, eager, fp32), quoted in issue
 *    14: Swin-B + connector 37.0 ms, pixel decoder + description projection + decoder 57.6 ms, Phi-1.5 body over
 *    170 tokens 25.2 ms, ≈ 120 ms a question — PyTorch recomputes everything per question; we cache the view.
 *
 * Results also in bench/out/gpu.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { EP_LABEL, selectExecutionProvider, type EpChoice, type ExecutionProvider } from '../src/inference/providers/executionProvider.js';
import { SegEarthPipeline } from '../src/inference/pipeline/pipeline.js';

/** Official PyTorch eager figures on an H200 (ms), issue 14. */
const PYTORCH_H200 = { imageBackbone: 37.0, decoderAndHead: 57.6, llm: 25.2, question: 120 };

const args = process.argv.slice(2);
const flag = (name: string): number | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : undefined;
};
const llmLayers = flag('--llm-layers');
const repeat = flag('--repeat') ?? 5;
// `--ep cpu` measures the CPU as if it were a GPU provider: checks the harness where there is no GPU.
const epAt = args.indexOf('--ep');
const GPU_PROVIDERS = (epAt >= 0 ? args[epAt + 1]!.split(',') : ['cuda', 'webgpu']) as ExecutionProvider[];
const given = args.find((a, i) => !a.startsWith('--') && !['--llm-layers', '--repeat', '--ep'].includes(args[i - 1] ?? ''));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// 1. Which GPU providers work here, and why the others do not.
const working: EpChoice[] = [];
console.log(`GPU benchmark; ${os.cpus().length} CPU(s), node ${process.version}`);
for (const provider of GPU_PROVIDERS) {
  try {
    working.push(await selectExecutionProvider({ request: provider }));
    console.log(`  ${EP_LABEL[provider]}: works`);
  } catch (err) {
    console.log(`  ${EP_LABEL[provider]}: unavailable — ${err instanceof Error ? err.message : String(err)}`);
  }
}
if (working.length === 0) {
  console.log('No GPU execution provider works on this machine: nothing to measure (not run). See the reasons above.');
  process.exit(0);
}

// 2. The bundle.
const bundle = resolve(given ?? `.cache/bench-gpu-full${llmLayers ? `-l${llmLayers}` : ''}`);
if (!existsSync(join(bundle, 'manifest.json'))) {
  const python = process.env.SEGEARTH_PYTHON ?? '/usr/bin/python3';
  const exportArgs = ['-m', 'tools.export.tiny_bundle', '--preset', 'full', '--threads', String(os.availableParallelism()), '--out', bundle];
  if (llmLayers) exportArgs.push('--llm-layers', String(llmLayers));
  console.log(`Making the full-size random-weight bundle: ${python} ${exportArgs.join(' ')}`);
  const t = performance.now();
  const made = spawnSync(python, exportArgs, { stdio: 'inherit' });
  if (made.status !== 0) {
    console.error(`The exporter failed (exit ${made.status}); it needs Python 3 with torch, numpy and onnx (README, "Installing the model").`);
    process.exit(1);
  }
  console.log(`  made in ${((performance.now() - t) / 1000).toFixed(0)} s`);
}

// 3. CPU reference, then each GPU provider.
interface EpRun {
  provider: string;
  loadMs: number;
  coldFirstMs: number;
  firstMs: number;
  followUpMs: number;
  imageMs: number;
  llmViewMs: number;
  llmQuestionMs: number;
  headMs: number;
  maxDiffFirst: number | null;
  maxDiffFollowUp: number | null;
}
const questions = ['Where could a helicopter land safely in this area?', 'Which buildings would be flooded first?'];

async function measure(choice: EpChoice, views: number, reference: { first: Float32Array; follow: Float32Array } | null) {
  const t0 = performance.now();
  const pipeline = await SegEarthPipeline.create(bundle, { epChoice: choice });
  const loadMs = performance.now() - t0;
  const size = pipeline.model.manifest.image.size;
  const read = (seed: number) => async () => ({ rgb: new Uint8Array(size * size * 3).map((_, i) => ((i + seed) * 2654435761) >>> 24), width: size, height: size });
  const last = (graph: 'image' | 'llm' | 'head', n = 1) => pipeline.model.recentRuns(graph).slice(-n);
  const first: number[] = [];
  const follow: number[] = [];
  const stages = { image: [] as number[], llmView: [] as number[], llmQuestion: [] as number[], head: [] as number[] };
  let logitsFirst: Float32Array | null = null;
  let logitsFollow: Float32Array | null = null;
  for (let v = 0; v < views; v++) {
    let t = performance.now();
    const p1 = await pipeline.predict(`view-${v}`, read(0), questions[0]!); // same pixels every view: comparable logits
    first.push(performance.now() - t);
    const [llmView] = last('llm', 2);
    stages.image.push(last('image')[0]!);
    stages.llmView.push(llmView!);
    t = performance.now();
    const p2 = await pipeline.predict(`view-${v}`, read(0), questions[1]!);
    follow.push(performance.now() - t);
    stages.llmQuestion.push(last('llm')[0]!);
    stages.head.push(last('head')[0]!);
    logitsFirst = p1.logits;
    logitsFollow = p2.logits;
  }
  await pipeline.dispose();
  const maxDiff = (a: Float32Array | null, b: Float32Array | undefined) => (a && b ? a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0) : null);
  const warm = (xs: number[]) => median(xs.length > 1 ? xs.slice(1) : xs);
  const run: EpRun = {
    provider: EP_LABEL[choice.provider],
    loadMs,
    coldFirstMs: first[0]!,
    firstMs: warm(first),
    followUpMs: warm(follow),
    imageMs: warm(stages.image),
    llmViewMs: warm(stages.llmView),
    llmQuestionMs: warm(stages.llmQuestion),
    headMs: warm(stages.head),
    maxDiffFirst: maxDiff(logitsFirst, reference?.first),
    maxDiffFollowUp: maxDiff(logitsFollow, reference?.follow),
  };
  return { run, logits: { first: logitsFirst!, follow: logitsFollow! } };
}

const cpu = await measure(await selectExecutionProvider({ request: 'cpu' }), 1, null);
const runs: EpRun[] = [cpu.run];
for (const choice of working) {
  try {
    runs.push((await measure(choice, repeat + 1, cpu.logits)).run);
  } catch (err) {
    console.log(`  ${EP_LABEL[choice.provider]} failed on the model: ${err instanceof Error ? err.message : String(err)}`);
  }
}

// 4. The table.
const f = (x: number | null, d = 1) => (x === null ? '—' : x.toFixed(d));
console.log(`\nbundle ${bundle}; first question / follow-up: medians of ${repeat} after the cold one (CPU: one run)\n`);
console.log('| provider | load ms | first question, cold ms | first question ms | follow-up ms | image ms | LLM view ms | LLM question ms | head ms | max |Δ logits| first / follow-up |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
for (const r of runs) {
  console.log(
    `| ${r.provider} | ${f(r.loadMs, 0)} | ${f(r.coldFirstMs)} | ${f(r.firstMs)} | ${f(r.followUpMs)} | ${f(r.imageMs)} | ${f(r.llmViewMs)} | ${f(r.llmQuestionMs)} | ${f(r.headMs)} | ` +
      `${r.maxDiffFirst === null ? 'reference' : `${r.maxDiffFirst.toExponential(2)} / ${r.maxDiffFollowUp!.toExponential(2)}`} |`,
  );
}
console.log(
  `| PyTorch eager, H200 (official) | | | ${PYTORCH_H200.question} | ${PYTORCH_H200.question} (recomputes all) | ${PYTORCH_H200.imageBackbone} (Swin-B + connector) | ` +
    `${PYTORCH_H200.llm} (Phi body, 170 tokens) | | ${PYTORCH_H200.decoderAndHead} (pixel decoder + projection + decoder) | |`,
);
console.log('(our image graph = Swin-B + connector + pixel decoder; our head = description projection + decoder)');
mkdirSync('bench/out', { recursive: true });
writeFileSync('bench/out/gpu.json', JSON.stringify({ bundle, runs, pytorchH200: PYTORCH_H200 }, null, 2));
