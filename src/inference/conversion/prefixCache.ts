/**
 * @module inference/conversion/prefixCache
 * The bundle's system-prefix KV cache (`prefix_kv.safetensors`), computed by running the bundle's own
 * `llm.onnx` (onnxruntime-node, CPU) on the embedding rows of the prompt's prefix chunks from an empty past —
 * what the runtime would compute itself, stored so that a question never recomputes it. The Python exporter
 * computes the same cache with PyTorch (tools/export/bundle.py `prefix_cache`); both agree within float32
 * rounding (and int8 activation steps for quantized llm graphs).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as ort from 'onnxruntime-node';
import { kvName, type Manifest } from '../bundle/manifest.js';
import { encodeSafetensors } from '../bundle/safetensors.js';
import { EmbeddingTable } from '../sessions/embeddings.js';
import { GraphSession, f32Output, f32Tensor, i64Tensor } from '../sessions/session.js';

/**
 * Runs the llm graph of the bundle in `dir` over `tokenIds` and writes `manifest.prefixCache.file`. The
 * manifest needs every field but `files`.
 */
export async function writePrefixCache(dir: string, manifest: Manifest, tokenIds: readonly number[], threads = 2): Promise<void> {
  const { hiddenSize: H, numLayers, numKeyValueHeads: nh, headDim } = manifest.architecture;
  const k = manifest.kvCache;
  const table = await EmbeddingTable.open(dir, manifest);
  let embeds: Float32Array;
  try {
    embeds = await table.rows(tokenIds);
  } finally {
    await table.close();
  }
  const llm = await GraphSession.create(dir, 'llm', manifest.graphs.llm, 'cpu', { intraOp: threads, interOp: 1 });
  try {
    const T = tokenIds.length;
    const empty = (): ort.Tensor => f32Tensor(new Float32Array(0), [1, nh, 0, headDim]);
    const feeds: Record<string, ort.Tensor> = {
      inputs_embeds: f32Tensor(embeds, [1, T, H]),
      position_ids: i64Tensor(Array.from({ length: T }, (_, i) => i), [1, T]),
    };
    const outputs: string[] = [];
    for (let i = 0; i < numLayers; i++) {
      feeds[kvName(k.pastKey, i)] = empty();
      feeds[kvName(k.pastValue, i)] = empty();
      outputs.push(kvName(k.presentKey, i), kvName(k.presentValue, i));
    }
    const out = await llm.run(feeds, outputs);
    const tensors = [];
    for (let i = 0; i < numLayers; i++) {
      for (const [past, present] of [[k.pastKey, k.presentKey], [k.pastValue, k.presentValue]] as const) {
        const data = f32Output(out, kvName(present, i));
        tensors.push({ name: kvName(past, i), dtype: 'F32' as const, shape: [1, nh, T, headDim], data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
      }
    }
    await writeFile(join(dir, manifest.prefixCache.file), encodeSafetensors(tensors));
  } finally {
    await llm.release();
  }
}
