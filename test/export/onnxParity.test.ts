/**
 * ONNX export parity under onnxruntime-node: the exporter (tools/export) writes a bundle from the two shared
 * fixtures (official SegEarth-R1 tiny weights + transformers' Phi tiny weights); its graphs must reproduce
 * the fixtures' reference tensors within the tolerances their READMEs state, the llm graph's KV cache must make
 * chunked runs equal one pass, and a graphs-only export filled through the weight map must equal the full
 * export byte for byte. The precision options (fp16, int8/int4 llm) are measured in precision.test.ts.
 * Skips (with a printed reason) when ../shared or Debian's python3 with torch is absent.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManifestSchema, kvName, type Manifest } from '../../src/inference/bundle/manifest.js';
import { SafetensorsFile } from '../../src/inference/bundle/safetensors.js';
import { OFFICIAL, PHI, paritySkipReason, python } from '../support/parityFixtures.js';
import { indexSafetensors } from '../../src/inference/conversion/checkpointTensors.js';
import { fillWeights } from '../../src/inference/conversion/fillWeights.js';
import { readWeightMap } from '../../src/inference/conversion/graphTemplate.js';

const reason = paritySkipReason('onnxParity');

interface Diff {
  maxAbs: number;
  /** Elements outside atol + rtol * |ref|. */
  outside: number;
}

function diff(ours: ArrayLike<number>, ref: ArrayLike<number>, atol: number, rtol = 0): Diff {
  expect(ours.length).toBe(ref.length);
  let maxAbs = 0;
  let outside = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(ours[i]! - ref[i]!);
    if (!(d <= atol + rtol * Math.abs(ref[i]!))) outside++;
    if (d > maxAbs || Number.isNaN(d)) maxAbs = Number.isNaN(d) ? Infinity : d;
  }
  return { maxAbs, outside };
}

function f32(t: ort.Tensor | undefined): Float32Array {
  if (!t || t.type !== 'float32') throw new Error('expected a float32 output');
  return t.data as Float32Array;
}

function tensor(file: SafetensorsFile, name: string): ort.Tensor {
  return new ort.Tensor('float32', file.float32(name), file.info(name).shape);
}

const sessionOptions: ort.InferenceSession.SessionOptions = {
  executionProviders: ['cpu'],
  intraOpNumThreads: 2,
  interOpNumThreads: 1,
};

function emptyPast(m: Manifest): ort.Tensor[] {
  const a = m.architecture;
  return Array.from({ length: 2 * a.numLayers }, () => new ort.Tensor('float32', new Float32Array(0), [1, a.numKeyValueHeads, 0, a.headDim]));
}

/** Runs rows [start, end) of `embeds` ([T, H] row-major) through the llm graph with the given past. */
async function runLlm(
  session: ort.InferenceSession,
  m: Manifest,
  embeds: Float32Array,
  start: number,
  end: number,
  past: ort.Tensor[],
): Promise<{ last: Float32Array; present: ort.Tensor[] }> {
  const a = m.architecture;
  const h = a.hiddenSize;
  const feeds: Record<string, ort.Tensor> = {
    inputs_embeds: new ort.Tensor('float32', embeds.slice(start * h, end * h), [1, end - start, h]),
    position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: end - start }, (_, i) => BigInt(start + i)), [1, end - start]),
  };
  for (let i = 0; i < a.numLayers; i++) {
    feeds[kvName(m.kvCache.pastKey, i)] = past[2 * i]!;
    feeds[kvName(m.kvCache.pastValue, i)] = past[2 * i + 1]!;
  }
  const out = await session.run(feeds);
  const present = Array.from({ length: a.numLayers }, (_, i) => [out[kvName(m.kvCache.presentKey, i)]!, out[kvName(m.kvCache.presentValue, i)]!]).flat();
  return { last: f32(out.last_hidden_state), present };
}

describe.skipIf(reason !== undefined)('ONNX export parity (onnxruntime-node, cpu)', () => {
  let work: string;
  let full: string;
  let graphsOnly: string;
  let manifest: Manifest;
  let official: SafetensorsFile;
  let phi: SafetensorsFile;
  let phiWeights: SafetensorsFile;
  let image: Record<string, ort.Tensor>;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'segearth-export-'));
    full = join(work, 'full');
    graphsOnly = join(work, 'graphs-only');
    const common = ['-m', 'tools.export.fixture_bundle', '--official', OFFICIAL, '--phi', PHI];
    await python([...common, '-o', full]);
    await python([...common, '-o', graphsOnly, '--graphs-only']);
    manifest = ManifestSchema.parse(JSON.parse(await readFile(join(full, 'manifest.json'), 'utf8')));
    [official, phi, phiWeights] = await Promise.all([
      SafetensorsFile.load(join(OFFICIAL, 'io.safetensors')),
      SafetensorsFile.load(join(PHI, 'io.safetensors')),
      SafetensorsFile.load(join(PHI, 'weights.safetensors')),
    ]);
  }, 600_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('image graph reproduces image_tokens, res5, mask_features and ms0..ms2 (atol 1e-4 + rtol 1e-4)', async () => {
    const session = await ort.InferenceSession.create(join(full, manifest.graphs.image.file), sessionOptions);
    try {
      image = await session.run({ pixel_values: tensor(official, 'pixel_values') });
    } finally {
      await session.release();
    }
    for (const name of ['image_tokens', 'res5', 'mask_features', 'ms0', 'ms1', 'ms2']) {
      const d = diff(f32(image[name]), official.float32(name), 1e-4, 1e-4);
      console.log(`[onnxParity] image ${name}: max|diff| ${d.maxAbs.toExponential(2)}`);
      expect(d.outside, name).toBe(0);
    }
  });

  it('head graph reproduces q_desc and mask_logits_256, and the fully-masked-row edge case (atol 5e-4)', async () => {
    const session = await ort.InferenceSession.create(join(full, manifest.graphs.head.file), sessionOptions);
    try {
      const rows = official.int64AsNumbers('refer_embedding_indices_expanded').flatMap((v, i) => (v === 1 ? [i] : []));
      expect(rows.length).toBe(official.info('refer_hidden').shape[1]);
      const hidden = official.float32('llm_last_hidden');
      const h = official.info('llm_last_hidden').shape[2]!;
      const refer = new Float32Array(rows.length * h);
      rows.forEach((r, j) => refer.set(hidden.subarray(r * h, (r + 1) * h), j * h));
      const feeds = {
        refer_hidden: new ort.Tensor('float32', refer, [1, rows.length, h]),
        res5: tensor(official, 'res5'),
        mask_features: tensor(official, 'mask_features'),
        ms0: tensor(official, 'ms0'),
        ms1: tensor(official, 'ms1'),
        ms2: tensor(official, 'ms2'),
      };
      const out = await session.run(feeds);
      const q = diff(f32(out.q_desc), official.float32('q_desc'), 1e-4, 1e-4);
      const m = diff(f32(out.mask_logits_256), official.float32('mask_logits_256'), 5e-4);
      console.log(`[onnxParity] head q_desc ${q.maxAbs.toExponential(2)}, mask_logits_256 ${m.maxAbs.toExponential(2)}`);
      expect(q.outside).toBe(0);
      expect(m.outside).toBe(0);

      // edge case: every stage-0 position masked -> the decoder must unmask the whole row
      const c = official.float32('edge_mask_features_offset')[0]!;
      const shifted = official.float32('mask_features').map((v) => v + c);
      const edge = await session.run({ ...feeds, mask_features: new ort.Tensor('float32', shifted, official.info('mask_features').shape) });
      const e = diff(f32(edge.mask_logits_256), official.float32('edge_mask_logits_256'), 5e-4);
      console.log(`[onnxParity] head edge_mask_logits_256 ${e.maxAbs.toExponential(2)}`);
      expect(e.outside).toBe(0);

      // end to end on the image graph's own features: mask agrees except near-zero logits
      const own = await session.run({ ...feeds, res5: image.res5!, mask_features: image.mask_features!, ms0: image.ms0!, ms1: image.ms1!, ms2: image.ms2! });
      const ref = official.float32('mask_logits_256');
      const ours = f32(own.mask_logits_256);
      expect(diff(ours, ref, 5e-4).outside).toBe(0);
      let flips = 0;
      for (let i = 0; i < ref.length; i++) if (ours[i]! > 0 !== ref[i]! > 0 && Math.abs(ref[i]!) >= 1e-3) flips++;
      expect(flips).toBe(0);
    } finally {
      await session.release();
    }
  });

  it('llm graph reproduces transformers PhiModel, and chunked runs with the KV cache equal one pass', async () => {
    const session = await ort.InferenceSession.create(join(full, manifest.graphs.llm.file), sessionOptions);
    const a = manifest.architecture;
    const t = phi.info('inputs_embeds').shape[1]!;
    const h = a.hiddenSize;
    const run = (start: number, end: number, past: ort.Tensor[]) => runLlm(session, manifest, phi.float32('inputs_embeds'), start, end, past);
    try {
      const none = emptyPast(manifest);
      const single = await run(0, t, none);
      const d = diff(single.last, phi.float32('last_hidden_from_embeds'), 1e-4);
      console.log(`[onnxParity] llm last_hidden_from_embeds ${d.maxAbs.toExponential(2)}`);
      expect(d.outside).toBe(0);
      expect(single.present[0]!.dims).toEqual([1, a.numKeyValueHeads, t, a.headDim]);

      const cuts = [0, 12, 30, t];
      let past = none;
      const parts: Float32Array[] = [];
      for (let i = 0; i < cuts.length - 1; i++) {
        const r = await run(cuts[i]!, cuts[i + 1]!, past);
        parts.push(r.last);
        past = r.present;
      }
      const chunked = new Float32Array(t * h);
      let o = 0;
      for (const p of parts) {
        chunked.set(p, o);
        o += p.length;
      }
      const c = diff(chunked, single.last, 1e-5);
      console.log(`[onnxParity] llm chunked vs single pass ${c.maxAbs.toExponential(2)}`);
      expect(c.outside).toBe(0);
      const k = diff(f32(past[0]), f32(single.present[0]), 1e-5);
      expect(k.outside).toBe(0);
    } finally {
      await session.release();
    }
  });

  it('the embedding table and prefix cache match the Phi weights', async () => {
    const raw = await readFile(join(full, manifest.embeddings.file));
    const table = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    expect(diff(table, phiWeights.float32('model.embed_tokens.weight'), 0).outside).toBe(0);
    const prefix = await SafetensorsFile.load(join(full, manifest.prefixCache.file));
    expect(prefix.info(kvName(manifest.kvCache.pastKey, 0)).shape).toEqual([
      1, manifest.architecture.numKeyValueHeads, manifest.prefixCache.length, manifest.architecture.headDim,
    ]);
    expect(manifest.prefixCache.tokenIds.length).toBe(manifest.prefixCache.length);
    expect(manifest.prefixCache.length).toBeGreaterThan(10);
  });

  it('a graphs-only export filled through the weight map equals the full export byte for byte', async () => {
    for (const g of Object.values(manifest.graphs)) {
      const [a, b] = await Promise.all([readFile(join(full, g.file)), readFile(join(graphsOnly, g.file))]);
      expect(b.equals(a), g.file).toBe(true);
      expect(existsSync(join(graphsOnly, `${g.file}.data`))).toBe(false);
    }
    const map = await readWeightMap(graphsOnly);
    expect(map.unused).toContain('seg_query');
    const tensors = await indexSafetensors([join(OFFICIAL, 'weights.safetensors'), join(PHI, 'weights.safetensors')]);
    const written = (await fillWeights(graphsOnly, map, tensors)).map((f) => f.path);
    expect(written.sort()).toEqual(['embed_tokens.bin', 'head.onnx.data', 'image.onnx.data', 'llm.onnx.data']);
    for (const f of written) {
      const [a, b] = await Promise.all([readFile(join(full, f)), readFile(join(graphsOnly, f))]);
      expect(b.equals(a), f).toBe(true);
    }
  });
});
