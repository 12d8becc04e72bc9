/**
 * @module inference/conversion/fillWeights
 * Writes a bundle's weight files (`*.onnx.data`, `embed_tokens.bin`) from checkpoint tensors through the weight
 * map (`weights.json`), byte for byte what the Python exporter writes (docs/MODEL_BUNDLE.md "Weight map").
 *
 * Streaming: entries are written in offset order, a tensor at a time and, for casts and block quantizations,
 * in slices of whole blocks read at their positions in the shard (peak memory: a slice, or one image-graph
 * Linear for the per-channel transform). The sha256 of each file is computed along the way (gaps between
 * entries are zeros), so no file is read back.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { SegEarthError } from '../../shared/errors.js';
import type { WeightEntry, WeightMap } from '../bundle/manifest.js';
import { type CheckpointTensor, type CheckpointTensors, TensorReader } from './checkpointTensors.js';
import { bytesOf, decodeFloats, quantizeBlocks, quantizeChannels, toFloat16Bytes } from './weightTransforms.js';

export interface WrittenFile {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

export interface FillOptions {
  /** Bytes written so far / in all, after each slice. */
  readonly onProgress?: (done: number, total: number, key: string) => void;
  readonly signal?: AbortSignal;
  /** Source elements per slice (default 4 Mi: 16 MB of float32). */
  readonly sliceElements?: number;
}

const ZEROS = new Uint8Array(1 << 20);

/** Writes every file named by the weight map into `dir`; returns them with their sizes and sha256. */
export async function fillWeights(dir: string, map: WeightMap, tensors: CheckpointTensors, options: FillOptions = {}): Promise<WrittenFile[]> {
  const byFile = new Map<string, WeightEntry[]>();
  for (const e of map.entries) byFile.set(e.file, [...(byFile.get(e.file) ?? []), e]);
  const total = map.entries.reduce((n, e) => n + e.length, 0);
  const slice = options.sliceElements ?? 1 << 22;
  const reader = new TensorReader();
  const written: WrittenFile[] = [];
  let done = 0;
  try {
    for (const [file, entries] of byFile) {
      entries.sort((a, b) => a.offset - b.offset);
      const fh = await open(join(dir, file), 'w');
      try {
        const hash = createHash('sha256');
        let pos = 0;
        const put = async (bytes: Uint8Array, at: number): Promise<void> => {
          options.signal?.throwIfAborted();
          for (let gap = at - pos; gap > 0; gap -= ZEROS.length) hash.update(ZEROS.subarray(0, Math.min(gap, ZEROS.length)));
          hash.update(bytes);
          let off = 0;
          while (off < bytes.byteLength) off += (await fh.write(bytes, off, bytes.byteLength - off, at + off)).bytesWritten;
          pos = at + bytes.byteLength;
        };
        for (const e of entries) {
          if (e.offset < pos) throw new SegEarthError('MODEL_INVALID', `weights.json: ${e.key} overlaps the entry before it in ${file}.`);
          const src = tensors.get(e.key);
          if (!src) throw new SegEarthError('MODEL_INVALID', `The checkpoint has no tensor ${e.key}.`);
          await writeEntry(e, src, reader, slice, async (bytes, rel) => {
            await put(bytes, e.offset + rel);
            done += bytes.byteLength;
            options.onProgress?.(done, total, e.key);
          });
          if (pos - e.offset !== e.length) {
            throw new SegEarthError('MODEL_INVALID', `${e.key}: wrote ${pos - e.offset} bytes, weights.json says ${e.length}.`, {
              hint: 'The graph template does not match this checkpoint.',
            });
          }
        }
        written.push({ path: file, bytes: pos, sha256: hash.digest('hex') });
      } finally {
        await fh.close();
      }
    }
  } finally {
    await reader.close();
  }
  return written;
}

type Sink = (bytes: Uint8Array, relOffset: number) => Promise<void>;

async function writeEntry(e: WeightEntry, src: CheckpointTensor, reader: TensorReader, slice: number, sink: Sink): Promise<void> {
  const t = e.transform;
  const elemBytes = src.dtype === 'F32' ? 4 : 2;
  const count = src.byteLength / elemBytes;
  const floats = async (first: number, n: number): Promise<Float32Array> =>
    decodeFloats(src.dtype, await reader.read(src, first * elemBytes, n * elemBytes), e.key);
  if (t.kind === 'quantize-int8-channel') {
    const [n, k] = [src.shape[0]!, src.shape[1]!];
    const q = quantizeChannels(await floats(0, count), n, k);
    await sink(t.part === 'values' ? bytesOf(q.values) : bytesOf(q.scales), 0);
    return;
  }
  const block = t.kind === 'cast' ? 1 : t.blockSize;
  const step = Math.max(block, Math.floor(slice / block) * block);
  let out = 0;
  for (let first = 0; first < count; first += step) {
    const w = await floats(first, Math.min(step, count - first));
    let bytes: Uint8Array;
    if (t.kind === 'cast') bytes = e.dtype === 'float16' ? toFloat16Bytes(w, e.key) : bytesOf(w);
    else {
      const q = quantizeBlocks(t.kind, w, t.blockSize);
      bytes = t.part === 'values' ? q.values : bytesOf(q.scales);
    }
    await sink(bytes, out);
    out += bytes.byteLength;
  }
}
