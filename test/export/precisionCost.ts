/**
 * @module test/export/precisionCost
 * What a bundle's precision (fp32, fp16, int8/int4 llm) costs on the parity fixtures, under onnxruntime-node
 * (CPU): the bundle's own graphs are run on the fixtures' inputs and compared with the official references and
 * with an fp32 bundle made from the same fixtures.
 *
 * - image: `pixel_values` → the image outputs, max |diff| vs the official tensors;
 * - official mask: the bundle's image features + the official `refer_hidden` (the fixture's stand-in LLM
 *   output) → head → `mask_logits_256`, vs the official mask logits (max |diff|, IoU of `logit > 0`);
 * - llm: the Phi fixture's `inputs_embeds` → `last_hidden_state`, vs transformers' PhiModel;
 * - end to end: image features + llm (its last 7 rows stand in for question + [SEG]) + head, vs the same run
 *   of the fp32 bundle (max |diff| of the mask logits, IoU of the masks).
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ManifestSchema, kvName, type Manifest } from '../../src/inference/bundle/manifest.js';
import type { SafetensorsFile } from '../../src/inference/bundle/safetensors.js';

const IMAGE_OUTPUTS = ['image_tokens', 'res5', 'mask_features', 'ms0', 'ms1', 'ms2'] as const;
const HEAD_IMAGE = ['res5', 'mask_features', 'ms0', 'ms1', 'ms2'] as const;
/** Rows of the llm output used as the description in the end-to-end run. */
const REFER_ROWS = 7;

const sessionOptions: ort.InferenceSession.SessionOptions = {
  executionProviders: ['cpu'],
  intraOpNumThreads: 2,
  interOpNumThreads: 1,
};

export interface Fixtures {
  official: SafetensorsFile;
  phi: SafetensorsFile;
}

/** Everything a bundle computes on the fixtures. */
export interface BundleRun {
  manifest: Manifest;
  /** Bytes of every file of the bundle (manifest.json included). */
  bundleBytes: number;
  llmDataBytes: number;
  image: Record<string, Float32Array>;
  hidden: Float32Array;
  /** head(own image features, official refer_hidden). */
  officialMask: Float32Array;
  /** head(own image features, own llm rows). */
  e2eMask: Float32Array;
}

export interface PrecisionCost {
  bundleBytes: number;
  llmDataBytes: number;
  /** max |diff| over all image outputs vs the official tensors. */
  imageMaxDiff: number;
  /** max |diff| of the llm's last hidden state vs transformers' PhiModel. */
  hiddenMaxDiff: number;
  /** max |diff| of mask_logits_256 vs the official mask logits (official refer_hidden). */
  maskVsOfficial: number;
  iouVsOfficial: number;
  /** End to end (image + llm + head) vs the fp32 bundle. */
  maskVsFp32: number;
  iouVsFp32: number;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** IoU of the masks `logit > 0`; 1 when both are empty. */
export function maskIou(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]! > 0;
    const y = b[i]! > 0;
    if (x && y) inter++;
    if (x || y) union++;
  }
  return union === 0 ? 1 : inter / union;
}

function f32(t: ort.Tensor | undefined, what: string): Float32Array {
  if (!t || t.type !== 'float32') throw new Error(`${what}: expected a float32 output, got ${t?.type}`);
  return t.data as Float32Array;
}

async function withSession<T>(path: string, fn: (s: ort.InferenceSession) => Promise<T>): Promise<T> {
  const s = await ort.InferenceSession.create(path, sessionOptions);
  try {
    return await fn(s);
  } finally {
    await s.release();
  }
}

/** Runs a bundle's three graphs on the fixtures (one session at a time). */
export async function runBundle(dir: string, fx: Fixtures): Promise<BundleRun> {
  const manifest = ManifestSchema.parse(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
  const sizes = await Promise.all([...manifest.files.map((f) => f.path), 'manifest.json'].map(async (p) => (await stat(join(dir, p))).size));
  const bundleBytes = sizes.reduce((a, b) => a + b, 0);
  const llmDataBytes = (await stat(join(dir, manifest.graphs.llm.externalData[0]!))).size;
  const pixels = new ort.Tensor('float32', fx.official.float32('pixel_values'), fx.official.info('pixel_values').shape);
  const imageOut = await withSession(join(dir, manifest.graphs.image.file), (s) => s.run({ pixel_values: pixels }));
  const image = Object.fromEntries(IMAGE_OUTPUTS.map((n) => [n, f32(imageOut[n], n)]));

  const hidden = await withSession(join(dir, manifest.graphs.llm.file), async (s) => (await runLlm(s, manifest, fx.phi, 0, undefined, [])).last);
  const t = fx.phi.info('inputs_embeds').shape[1]!;
  const h = manifest.architecture.hiddenSize;

  const [officialMask, e2eMask] = await withSession(join(dir, manifest.graphs.head.file), async (s) => {
    const features = Object.fromEntries(HEAD_IMAGE.map((n) => [n, imageOut[n]!]));
    const official = await s.run({
      ...features,
      refer_hidden: new ort.Tensor('float32', fx.official.float32('refer_hidden'), fx.official.info('refer_hidden').shape),
    });
    const own = await s.run({
      ...features,
      refer_hidden: new ort.Tensor('float32', hidden.slice((t - REFER_ROWS) * h), [1, REFER_ROWS, h]),
    });
    return [f32(official.mask_logits_256, 'mask_logits_256'), f32(own.mask_logits_256, 'mask_logits_256')];
  });
  return { manifest, bundleBytes, llmDataBytes, image, hidden, officialMask, e2eMask };
}

/**
 * Rows [start, end) of the Phi fixture's `inputs_embeds` through the llm graph on top of `past` (empty: a
 * fresh start); returns the last hidden states and the present cache.
 */
async function runLlm(
  s: ort.InferenceSession,
  m: Manifest,
  phi: SafetensorsFile,
  start: number,
  end: number | undefined,
  past: ort.Tensor[],
): Promise<{ last: Float32Array; present: ort.Tensor[] }> {
  const a = m.architecture;
  const h = a.hiddenSize;
  const stop = end ?? phi.info('inputs_embeds').shape[1]!;
  const feeds: Record<string, ort.Tensor> = {
    inputs_embeds: new ort.Tensor('float32', phi.float32('inputs_embeds').slice(start * h, stop * h), [1, stop - start, h]),
    position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: stop - start }, (_, i) => BigInt(start + i)), [1, stop - start]),
  };
  const empty = (): ort.Tensor => new ort.Tensor('float32', new Float32Array(0), [1, a.numKeyValueHeads, 0, a.headDim]);
  for (let i = 0; i < a.numLayers; i++) {
    feeds[kvName(m.kvCache.pastKey, i)] = past[2 * i] ?? empty();
    feeds[kvName(m.kvCache.pastValue, i)] = past[2 * i + 1] ?? empty();
  }
  const out = await s.run(feeds);
  const present = Array.from({ length: a.numLayers }, (_, i) => [out[kvName(m.kvCache.presentKey, i)]!, out[kvName(m.kvCache.presentValue, i)]!]).flat();
  return { last: f32(out.last_hidden_state, 'last_hidden_state'), present };
}

/** max |diff| between one llm pass over the Phi fixture and two chunks (cut at `cut`) through the KV cache. */
export async function chunkedVsSinglePass(dir: string, fx: Fixtures, cut = 20): Promise<number> {
  const m = ManifestSchema.parse(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
  return withSession(join(dir, m.graphs.llm.file), async (s) => {
    const single = await runLlm(s, m, fx.phi, 0, undefined, []);
    const first = await runLlm(s, m, fx.phi, 0, cut, []);
    const second = await runLlm(s, m, fx.phi, cut, undefined, first.present);
    const h = m.architecture.hiddenSize;
    return Math.max(maxAbsDiff(first.last, single.last.subarray(0, cut * h)), maxAbsDiff(second.last, single.last.subarray(cut * h)));
  });
}

/** The cost of `run`'s precision, with `fp32` the fp32 bundle's run on the same fixtures. */
export function precisionCost(run: BundleRun, fp32: BundleRun, fx: Fixtures): PrecisionCost {
  const officialMask = fx.official.float32('mask_logits_256');
  return {
    bundleBytes: run.bundleBytes,
    llmDataBytes: run.llmDataBytes,
    imageMaxDiff: Math.max(...IMAGE_OUTPUTS.map((n) => maxAbsDiff(run.image[n]!, fx.official.float32(n)))),
    hiddenMaxDiff: maxAbsDiff(run.hidden, fx.phi.float32('last_hidden_from_embeds')),
    maskVsOfficial: maxAbsDiff(run.officialMask, officialMask),
    iouVsOfficial: maskIou(run.officialMask, officialMask),
    maskVsFp32: maxAbsDiff(run.e2eMask, fp32.e2eMask),
    iouVsFp32: maskIou(run.e2eMask, fp32.e2eMask),
  };
}

/** One table row: `label | bundle | llm data | image | hidden | mask vs official (IoU) | e2e vs fp32 (IoU)`. */
export function formatCost(label: string, c: PrecisionCost): string {
  const e = (x: number): string => x.toExponential(1);
  return (
    `| ${label} | ${c.bundleBytes} | ${c.llmDataBytes} | ${e(c.imageMaxDiff)} | ${e(c.hiddenMaxDiff)} | ` +
    `${e(c.maskVsOfficial)} (IoU ${c.iouVsOfficial.toFixed(4)}) | ${e(c.maskVsFp32)} (IoU ${c.iouVsFp32.toFixed(4)}) |`
  );
}
