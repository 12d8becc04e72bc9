/**
 * The generated tiny TEST bundle (models/tiny-test): valid manifest, files matching their recorded sizes and
 * hashes, a tokenizer that @huggingface/tokenizers loads with [SEG] as one special token, a prefix cache that
 * equals what the bundle's own llm graph computes from the recorded prefix ids, and graph I/O as documented.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManifestSchema, WeightMapSchema, kvName, type Manifest } from '../../src/inference/bundle/manifest.js';
import { SafetensorsFile } from '../../src/inference/bundle/safetensors.js';
import { PYTHON, ensureTinyBundle } from '../support/tinyBundle.js';

const reason = existsSync(PYTHON) ? undefined : `${PYTHON} (Debian python3 with torch and onnx) not found`;
if (reason) console.warn(`[tinyBundle] skipped: ${reason}`);

describe.skipIf(reason !== undefined)('tiny test bundle', () => {
  let dir: string;
  let manifest: Manifest;
  let tokenizer: Tokenizer;

  beforeAll(async () => {
    dir = await ensureTinyBundle();
    manifest = ManifestSchema.parse(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
    tokenizer = new Tokenizer(JSON.parse(await readFile(join(dir, manifest.tokenizer.file), 'utf8')), {});
  }, 600_000);

  it('is marked as a test fixture and lists every file with its size and sha256', async () => {
    expect(manifest.testFixture).toBe(true);
    expect(manifest.id).toBe('tiny-test');
    for (const f of manifest.files) {
      const bytes = await readFile(join(dir, f.path));
      expect(bytes.byteLength, f.path).toBe(f.bytes);
      expect(createHash('sha256').update(bytes).digest('hex'), f.path).toBe(f.sha256);
    }
    const map = WeightMapSchema.parse(JSON.parse(await readFile(join(dir, manifest.weightMap), 'utf8')));
    expect(map.entries.length).toBeGreaterThan(250);
  });

  it('has a byte-level BPE tokenizer with [SEG] as a single special token', () => {
    const seg = manifest.tokenizer.specialTokens.seg;
    expect(tokenizer.encode('[SEG]', { add_special_tokens: false }).ids).toEqual([seg.id]);
    const q = ' Where could the planes park?';
    const ids: number[] = tokenizer.encode(q, { add_special_tokens: false }).ids;
    expect(ids.length).toBeGreaterThan(3);
    expect(ids.length).toBeLessThan(q.length); // merges apply
    expect(ids.every((i) => i >= 0 && i < manifest.tokenizer.vocabSize)).toBe(true);
    expect(tokenizer.decode(ids)).toBe(q);
    const weird = ' héllo 東京 🚀';
    expect(tokenizer.decode(tokenizer.encode(weird, { add_special_tokens: false }).ids)).toBe(weird);
  });

  it('stores the prefix cache of the first prompt chunk, equal to a fresh llm run', async () => {
    const first = manifest.prompt.chunks[0];
    if (first?.kind !== 'text') throw new Error('first chunk must be text');
    const ids: number[] = tokenizer.encode(first.text, { add_special_tokens: false }).ids;
    expect(manifest.prefixCache.tokenIds).toEqual(ids);
    const a = manifest.architecture;
    const raw = await readFile(join(dir, manifest.embeddings.file));
    const table = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    const embeds = new Float32Array(ids.length * a.hiddenSize);
    ids.forEach((id, i) => embeds.set(table.subarray(id * a.hiddenSize, (id + 1) * a.hiddenSize), i * a.hiddenSize));
    const session = await ort.InferenceSession.create(join(dir, manifest.graphs.llm.file), { intraOpNumThreads: 1 });
    try {
      const feeds: Record<string, ort.Tensor> = {
        inputs_embeds: new ort.Tensor('float32', embeds, [1, ids.length, a.hiddenSize]),
        position_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (_, i) => BigInt(i)), [1, ids.length]),
      };
      for (let i = 0; i < a.numLayers; i++) {
        for (const n of [manifest.kvCache.pastKey, manifest.kvCache.pastValue]) {
          feeds[kvName(n, i)] = new ort.Tensor('float32', new Float32Array(0), [1, a.numKeyValueHeads, 0, a.headDim]);
        }
      }
      const out = await session.run(feeds);
      const stored = await SafetensorsFile.load(join(dir, manifest.prefixCache.file));
      for (let i = 0; i < a.numLayers; i++) {
        const fresh = out[kvName(manifest.kvCache.presentKey, i)]!.data as Float32Array;
        const kept = stored.float32(kvName(manifest.kvCache.pastKey, i));
        expect(kept.length).toBe(fresh.length);
        let max = 0;
        for (let j = 0; j < kept.length; j++) max = Math.max(max, Math.abs(kept[j]! - fresh[j]!));
        expect(max).toBeLessThan(1e-5);
      }
    } finally {
      await session.release();
    }
  });

  it('declares the documented graph inputs and outputs', () => {
    const names = (specs: { name: string }[]): string[] => specs.map((s) => s.name);
    expect(names(manifest.graphs.image.inputs)).toEqual(['pixel_values']);
    expect(names(manifest.graphs.image.outputs)).toEqual(['image_tokens', 'res5', 'mask_features', 'ms0', 'ms1', 'ms2']);
    expect(names(manifest.graphs.head.inputs)).toEqual(['refer_hidden', 'res5', 'mask_features', 'ms0', 'ms1', 'ms2']);
    expect(names(manifest.graphs.head.outputs)).toEqual(['mask_logits_256', 'q_desc']);
    const llmIn = names(manifest.graphs.llm.inputs);
    expect(llmIn.slice(0, 2)).toEqual(['inputs_embeds', 'position_ids']);
    expect(llmIn).toHaveLength(2 + 2 * manifest.architecture.numLayers);
    expect(manifest.graphs.llm.inputs[0]!.shape).toEqual([1, 'T', manifest.architecture.hiddenSize]);
    expect(manifest.graphs.image.outputs[2]!.shape).toEqual([1, 16, 256, 256]);
  });
});
