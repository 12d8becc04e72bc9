/**
 * @module inference/conversion/weightTransforms
 * The weight-map transforms of format version 1 (docs/MODEL_BUNDLE.md "Weight map"), in float32 arithmetic
 * with round-half-to-even, so that their bytes equal the Python exporter's (tools/export/quantize.py,
 * onnx_export.write_weight_files): casts to float32 / float16, the int8 / int4 block quantizations
 * (MatMulNBits) and the per-channel int8 one (DynamicQuantizeMatMul). Sources are decoded from F32, F16 or BF16
 * to float32 first, as the exporter does (`tensor.to(torch.float32)`). Hand-written: no library implements
 * these exact layouts.
 *
 * Cast and block transforms work on any run of whole blocks, so the filler streams a tensor in slices; the
 * per-channel transform needs a whole [N, K] matrix (it writes it transposed).
 */
import { SegEarthError } from '../../shared/errors.js';
import type { SafetensorsDtype } from '../bundle/safetensors.js';
import { halfToFloat } from '../sessions/embeddings.js';
import { roundHalfEven } from '../preprocessing/preprocess.js';

/** Checkpoint dtypes a float weight may have. */
export const FLOAT_SOURCE_DTYPES: readonly SafetensorsDtype[] = ['F32', 'F16', 'BF16'];

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

/** Little-endian F32 / F16 / BF16 bytes (any alignment) → float32 values. */
export function decodeFloats(dtype: SafetensorsDtype, bytes: Uint8Array, key: string): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32': {
      const out = new Float32Array(bytes.byteLength / 4);
      new Uint8Array(out.buffer).set(bytes);
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(bytes.byteLength / 2);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < out.length; i++) bits[i] = view.getUint16(i * 2, true) << 16;
      return out;
    }
    case 'F16': {
      const out = new Float32Array(bytes.byteLength / 2);
      for (let i = 0; i < out.length; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      return out;
    }
    default:
      throw new SegEarthError('MODEL_INVALID', `Checkpoint tensor ${key} is ${dtype}; a weight must be F32, F16 or BF16.`, {
        hint: 'This checkpoint is not the SegEarth-R1 layout; convert the released checkpoint, or use the Python exporter for other formats.',
      });
  }
}

/** float32 → little-endian float16 bytes; refuses values that would become infinite (as the exporter does). */
export function toFloat16Bytes(src: Float32Array, key: string): Uint8Array {
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const h = floatToHalfBits(src[i]!);
    if ((h & 0x7fff) === 0x7c00 && Number.isFinite(src[i]!)) {
      throw new SegEarthError('MODEL_INVALID', `Checkpoint tensor ${key} holds ${src[i]}, outside the float16 range.`, {
        hint: 'Convert with --precision fp32 (or cpu): this checkpoint cannot be stored in float16.',
      });
    }
    out[i] = h;
  }
  return new Uint8Array(out.buffer);
}

export type BlockKind = 'quantize-int8-block' | 'quantize-int4-block';

/**
 * (values, scales) of a block quantization of `w` (whole blocks of a row-major [N, K] weight, K a multiple of
 * `block`), as the exporter writes them (tools/export/quantize.py).
 */
export function quantizeBlocks(kind: BlockKind, w: Float32Array, block: number): { values: Uint8Array; scales: Float32Array } {
  const blocks = w.length / block;
  const int4 = kind === 'quantize-int4-block';
  const values = new Uint8Array(blocks * (int4 ? block / 2 : block));
  const scales = new Float32Array(blocks);
  for (let b = 0; b < blocks; b++) {
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

/** (codes int8 [K, N], scales [N]) of the per-channel quantization of W [N, K] (tools/export/quantize.py). */
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

/** Bytes of a view, without copying. */
export function bytesOf(a: Float32Array | Int8Array | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
