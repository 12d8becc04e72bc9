/**
 * Unit tests of the safetensors reader/writer and of the manifest schema's cross-field rules.
 */
import { describe, expect, it } from 'vitest';
import { ManifestSchema, PromptSchema, kvName } from '../../src/inference/bundle/manifest.js';
import { SafetensorsFile, encodeSafetensors, parseSafetensorsHeader } from '../../src/inference/bundle/safetensors.js';
import { isSegEarthError } from '../../src/shared/errors.js';

const f32 = (values: number[]): Uint8Array => new Uint8Array(new Float32Array(values).buffer);

describe('safetensors', () => {
  it('round-trips tensors, metadata and int64 values', () => {
    const bytes = encodeSafetensors(
      [
        { name: 'a', dtype: 'F32', shape: [2, 2], data: f32([1, -2.5, 3, 4e-8]) },
        { name: 'ids', dtype: 'I64', shape: [3], data: new Uint8Array(BigInt64Array.from([5n, -200n, 7n]).buffer) },
      ],
      { format: 'pt' },
    );
    expect(new DataView(bytes.buffer).getBigUint64(0, true) % 8n).toBe(0n);
    const file = new SafetensorsFile(bytes);
    expect(file.names()).toEqual(['a', 'ids']);
    expect(Array.from(file.float32('a'))).toEqual(Array.from(new Float32Array([1, -2.5, 3, 4e-8])));
    expect(file.int64AsNumbers('ids')).toEqual([5, -200, 7]);
    expect(file.info('a').shape).toEqual([2, 2]);
    expect(file.header.metadata).toEqual({ format: 'pt' });
    expect(() => file.float32('ids')).toThrow(/I64/);
    expect(() => file.info('missing')).toThrow(/missing/);
  });

  it('rejects truncated and inconsistent files with MODEL_INVALID', () => {
    const good = encodeSafetensors([{ name: 'a', dtype: 'F32', shape: [3], data: f32([1, 2, 3]) }]);
    const cases = [good.subarray(0, 4), good.subarray(0, good.byteLength - 4)];
    const wrongSize = encodeSafetensors([{ name: 'a', dtype: 'F32', shape: [4], data: f32([1, 2, 3]) }]);
    cases.push(wrongSize);
    for (const bytes of cases) {
      let err: unknown;
      try {
        parseSafetensorsHeader(bytes, 'x.safetensors', bytes.byteLength);
      } catch (e) {
        err = e;
      }
      expect(isSegEarthError(err, 'MODEL_INVALID')).toBe(true);
    }
  });
});

describe('manifest schema', () => {
  const prompt = {
    chunks: [{ kind: 'text', text: 'sys ' }, { kind: 'image' }, { kind: 'text', text: ', do:\n' }, { kind: 'refer' }],
    referPrefix: ' ',
    prefixChunks: 1,
  };
  it('accepts the official prompt layout and rejects malformed ones', () => {
    expect(PromptSchema.safeParse(prompt).success).toBe(true);
    expect(PromptSchema.safeParse({ ...prompt, chunks: [...prompt.chunks, { kind: 'text', text: 'x' }] }).success).toBe(false);
    expect(PromptSchema.safeParse({ ...prompt, prefixChunks: 2 }).success).toBe(false);
    expect(PromptSchema.safeParse({ ...prompt, chunks: [prompt.chunks[0], prompt.chunks[2], prompt.chunks[3]] }).success).toBe(false);
  });

  it('rejects paths that leave the bundle and files referenced but not listed', () => {
    const graph = (file: string) => ({
      file, externalData: [`${file}.data`], opset: 17, precision: 'fp32',
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 'T'] }], outputs: [{ name: 'y', dtype: 'float32', shape: [1] }],
    });
    const sha = 'a'.repeat(64);
    const files = ['image.onnx', 'image.onnx.data', 'llm.onnx', 'llm.onnx.data', 'head.onnx', 'head.onnx.data',
      'embed_tokens.bin', 'prefix_kv.safetensors', 'tokenizer.json', 'weights.json'].map((path) => ({ path, bytes: 1, sha256: sha }));
    const base = {
      formatVersion: 1, id: 'x', name: 'x', testFixture: true,
      source: { checkpoint: 'synthetic', files: [], exporter: { name: 'e', version: '1' } },
      variant: 'tiny-test', prompt,
      tokenizer: { file: 'tokenizer.json', vocabSize: 10, addSpecialTokens: false, specialTokens: { seg: { content: '[SEG]', id: 9 } } },
      image: { size: 1024, channels: 'RGB', mean: [1, 2, 3], std: [1, 2, 3], letterbox: { resize: 'longest-side', interpolation: 'bilinear', pad: 'center', padValue: 0 } },
      architecture: { hiddenSize: 4, numLayers: 1, numHeads: 1, numKeyValueHeads: 1, headDim: 4, imageTokens: 64, maskSize: 256, maskThreshold: 0, maxPositions: 2048 },
      graphs: { image: graph('image.onnx'), llm: graph('llm.onnx'), head: graph('head.onnx') },
      embeddings: { file: 'embed_tokens.bin', dtype: 'float32', shape: [10, 4] },
      kvCache: { pastKey: 'past_key_values.{i}.key', pastValue: 'past_key_values.{i}.value', presentKey: 'present.{i}.key', presentValue: 'present.{i}.value', layout: 'batch,heads,seq,headDim', dtype: 'float32' },
      prefixCache: { file: 'prefix_kv.safetensors', tokenIds: [1, 2], length: 2 },
      weightMap: 'weights.json',
      files,
    };
    expect(ManifestSchema.safeParse(base).success).toBe(true);
    expect(ManifestSchema.safeParse({ ...base, files: files.slice(1) }).success).toBe(false);
    expect(ManifestSchema.safeParse({ ...base, weightMap: '../weights.json' }).success).toBe(false);
    expect(ManifestSchema.safeParse({ ...base, embeddings: { ...base.embeddings, shape: [10, 8] } }).success).toBe(false);
    expect(ManifestSchema.safeParse({ ...base, formatVersion: 2 }).success).toBe(false);
    // MatMulNBits accuracy_level: on quantized llm graphs only, 0..4; optional (older bundles lack it)
    const quantized = (accuracyLevel: number | undefined, precision = 'int8-weight-only') => ({
      ...base,
      graphs: { ...base.graphs, llm: { ...graph('llm.onnx'), precision, ...(accuracyLevel === undefined ? {} : { accuracyLevel }) } },
    });
    expect(ManifestSchema.safeParse(quantized(4)).success).toBe(true);
    expect(ManifestSchema.safeParse(quantized(0, 'int4-weight-only')).success).toBe(true);
    expect(ManifestSchema.safeParse(quantized(undefined)).success).toBe(true);
    expect(ManifestSchema.safeParse(quantized(5)).success).toBe(false);
    expect(ManifestSchema.safeParse(quantized(4, 'fp32')).success).toBe(false);
    expect(kvName(base.kvCache.presentKey, 3)).toBe('present.3.key');
  });
});
