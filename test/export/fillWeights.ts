/**
 * @module test/export/fillWeights
 * Fills a graphs-only export's weight files from checkpoint tensors through `weights.json` — the operation a
 * TypeScript converter performs to build a bundle from a downloaded checkpoint without Python. Implements every
 * format version 1 transform (docs/MODEL_BUNDLE.md "Weight map") from F32 sources (the fixtures): casts to
 * float32 and float16, the int8 / int4 block quantizations and the per-channel int8 one, in float32 arithmetic
 * with round-half-to-even, so its bytes must equal the Python exporter's.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WeightMapSchema, type WeightEntry, type WeightMap } from '../../src/inference/bundle/manifest.js';
import type { SafetensorsFile } from '../../src/inference/bundle/safetensors.js';

export async function readWeightMap(dir: string): Promise<WeightMap> {
  return WeightMapSchema.parse(JSON.parse(await readFile(join(dir, 'weights.json'), 'utf8')));
}

/** Round half to even (torch.round, numpy.round). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** IEEE float32 → float16 bits, round to nearest even (what torch's `.to(float16)` does). */
export function floatToHalfBits(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf / nan
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow
  if (e <= 0) {
    if (e < -10) return sign; // underflow to zero
    mant |= 0x800000; // implicit bit; subnormal half
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let m = mant >>> shift;
    if (rest > half || (rest === half && (m & 1) === 1)) m++;
    return sign | m; // may carry into the exponent: still correct
  }
  const rest = mant & 0x1fff;
  let m = mant >>> 13;
  if (rest > 0x1000 || (rest === 0x1000 && (m & 1) === 1)) {
    m++;
    if (m === 0x400) {
      m = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

/** (values, scales) of a block quantization, as the exporter writes them (tools/export/quantize.py). */
export function quantizeBlocks(kind: 'quantize-int8-block' | 'quantize-int4-block', w: Float32Array, n: number, k: number, block: number): { values: Uint8Array; scales: Float32Array } {
  const blocks = k / block;
  const int4 = kind === 'quantize-int4-block';
  const values = new Uint8Array(n * blocks * (int4 ? block / 2 : block));
  const scales = new Float32Array(n * blocks);
  for (let b = 0; b < n * blocks; b++) {
    const base = b * block;
    let scale: number;
    if (int4) {
      let m = 0;
      for (let i = 0; i < block; i++) if (Math.abs(w[base + i]!) > Math.abs(m)) m = w[base + i]!;
      scale = m !== 0 ? Math.fround(m / -8) : 1;
    } else {
      let amax = 0;
      for (let i = 0; i < block; i++) amax = Math.max(amax, Math.abs(w[base + i]!));
      scale = amax > 0 ? Math.fround(amax / 127) : 1;
    }
    scales[b] = scale;
    for (let i = 0; i < block; i++) {
      const q = roundHalfEven(Math.fround(w[base + i]! / scale));
      if (int4) {
        const code = Math.min(7, Math.max(-8, q)) + 8;
        const byte = (base + i) >> 1;
        values[byte] = (values[byte] ?? 0) | (i % 2 === 0 ? code : code << 4);
      } else {
        values[base + i] = Math.min(127, Math.max(-127, q)) + 128;
      }
    }
  }
  return { values, scales };
}

/** (codes int8 [K, N], scales [N]) of the per-channel quantization (tools/export/quantize.py). */
export function quantizeChannels(w: Float32Array, n: number, k: number): { values: Int8Array; scales: Float32Array } {
  const values = new Int8Array(k * n);
  const scales = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    let amax = 0;
    for (let i = 0; i < k; i++) amax = Math.max(amax, Math.abs(w[r * k + i]!));
    const scale = amax > 0 ? Math.fround(amax / 127) : 1;
    scales[r] = scale;
    for (let i = 0; i < k; i++) values[i * n + r] = Math.min(127, Math.max(-127, roundHalfEven(Math.fround(w[r * k + i]! / scale))));
  }
  return { values, scales };
}

function entryBytes(e: WeightEntry, src: Float32Array): Uint8Array {
  const t = e.transform;
  if (t.kind === 'cast' && e.dtype === 'float32') return new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
  if (t.kind === 'cast' && e.dtype === 'float16') {
    const out = new Uint16Array(src.length);
    for (let i = 0; i < src.length; i++) out[i] = floatToHalfBits(src[i]!);
    return new Uint8Array(out.buffer);
  }
  if (t.kind === 'quantize-int8-block' || t.kind === 'quantize-int4-block') {
    const [n, k] = [e.shape[0]!, src.length / e.shape[0]!];
    const q = quantizeBlocks(t.kind, src, n, k, t.blockSize);
    return t.part === 'values' ? q.values : new Uint8Array(q.scales.buffer);
  }
  if (t.kind === 'quantize-int8-channel') {
    const n = t.part === 'values' ? e.shape[1]! : e.shape[0]!; // values [K, N], scales [N]
    const q = quantizeChannels(src, n, src.length / n);
    const part = t.part === 'values' ? q.values : q.scales;
    return new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
  }
  throw new Error(`${e.key}: no ${t.kind} to ${e.dtype} here`);
}

/** Writes every file named by the weight map into `dir`; returns the file names written. */
export async function fillWeights(dir: string, map: WeightMap, sources: SafetensorsFile[]): Promise<string[]> {
  const sizes = new Map<string, number>();
  for (const e of map.entries) sizes.set(e.file, Math.max(sizes.get(e.file) ?? 0, e.offset + e.length));
  const buffers = new Map([...sizes].map(([f, n]) => [f, new Uint8Array(n)]));
  for (const e of map.entries) {
    const src = sources.find((s) => s.header.tensors.has(e.key));
    if (!src) throw new Error(`no source tensor for ${e.key}`);
    const info = src.info(e.key);
    if (info.dtype !== 'F32') throw new Error(`${e.key}: only F32 sources are supported here`);
    if (e.transform.kind === 'cast' && info.shape.join(',') !== e.shape.join(',')) throw new Error(`${e.key}: shape ${info.shape} != ${e.shape}`);
    const raw = entryBytes(e, src.float32(e.key));
    if (raw.byteLength !== e.length) throw new Error(`${e.key}: ${raw.byteLength} bytes, map says ${e.length}`);
    buffers.get(e.file)!.set(raw, e.offset);
  }
  for (const [f, buf] of buffers) await writeFile(join(dir, f), buf);
  return [...buffers.keys()];
}
