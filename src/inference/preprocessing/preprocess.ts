/**
 * @module inference/preprocessing/preprocess
 * The official SegEarth-R1 image preprocessing, reproduced exactly, and its inverse for the logits.
 *
 * Forward (`letterbox`): RGB uint8 (HWC) → longest side resized to `size` (the other side
 * `trunc(side * size / longest)`), resized like OpenCV's `cv2.resize(..., INTER_LINEAR)` on uint8 — fixed-point
 * weights with 11 fractional bits, OpenCV's vertical rounding — centred zero padding (top = pad // 2), then
 * `(x − mean) / std` into a CHW float32 tensor. The pad is zero *before* normalisation, as in the official
 * dataset code, so padded pixels read −mean/std.
 *
 * Inverse (`unletterbox`): mask logits (256² or 1024²) → bilinear (align_corners=False, as `F.interpolate`) to
 * the letterboxed frame → crop the content area → bilinear back to the source window grid. Thresholding happens
 * afterwards, on the source grid, so `logit > 0` ⇔ probability > 0.5 is decided where the analyst looks.
 */

export interface NormalizeSpec {
  /** Per-channel mean, RGB order, in 0..255 units. */
  mean: readonly [number, number, number];
  /** Per-channel standard deviation, RGB order. */
  std: readonly [number, number, number];
}

/** The official SegEarth-R1 values (ImageNet statistics in 0..255 units). */
export const SEGEARTH_NORMALIZE: NormalizeSpec = {
  mean: [123.675, 116.28, 103.53],
  std: [58.395, 57.12, 57.375],
};

/** Where the source image sits inside the square letterboxed input. Carried with every view, like SAM's sizes. */
export interface Letterbox {
  /** Square input side (1024). */
  size: number;
  srcWidth: number;
  srcHeight: number;
  /** Resized content size inside the square. */
  width: number;
  height: number;
  padTop: number;
  padLeft: number;
}

/** Computes the letterbox geometry exactly as the official code does (integer truncation, top = pad // 2). */
export function letterboxGeometry(srcWidth: number, srcHeight: number, size = 1024): Letterbox {
  if (!(srcWidth > 0 && srcHeight > 0)) throw new RangeError(`image size must be positive, got ${srcWidth}x${srcHeight}`);
  const longest = Math.max(srcWidth, srcHeight);
  // Python: int(side * 1024 / longest) — float division, then truncation.
  const width = srcWidth === longest ? size : Math.trunc((srcWidth * size) / longest);
  const height = srcHeight === longest ? size : Math.trunc((srcHeight * size) / longest);
  return {
    size,
    srcWidth,
    srcHeight,
    width,
    height,
    padTop: Math.floor((size - height) / 2),
    padLeft: Math.floor((size - width) / 2),
  };
}

const COEF_BITS = 11;
const COEF_SCALE = 1 << COEF_BITS; // INTER_RESIZE_COEF_SCALE
const f32 = Math.fround;

/** cvRound on a float: round half to even (lrint), as saturate_cast<short>(float) does; also torch.round. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * OpenCV's per-destination index + fixed-point weights along one axis for INTER_LINEAR. Horizontally OpenCV
 * clamps outside taps to the edge pixel with weights (1, 0); vertically (`clampEdges` false) it keeps the
 * weights and only clamps the row it reads (so an edge row is `S·b0 + S·b1`, rounded twice).
 */
function linearTaps(src: number, dst: number, clampEdges = true): { index: Int32Array; w0: Int16Array; w1: Int16Array } {
  const scale = 1 / (dst / src); // scale_x = 1. / inv_scale_x, in double
  const index = new Int32Array(dst);
  const w0 = new Int16Array(dst);
  const w1 = new Int16Array(dst);
  for (let d = 0; d < dst; d++) {
    let fx = f32((d + 0.5) * scale - 0.5);
    let sx = Math.floor(fx);
    fx = f32(fx - sx);
    if (clampEdges && sx < 0) {
      fx = 0;
      sx = 0;
    }
    if (clampEdges && sx >= src - 1) {
      fx = 0;
      sx = src - 1;
    }
    index[d] = sx;
    w0[d] = roundHalfEven(f32(f32(1 - fx) * COEF_SCALE));
    w1[d] = roundHalfEven(f32(fx * COEF_SCALE));
  }
  return { index, w0, w1 };
}

/** Lanes of OpenCV's baseline SIMD (128-bit) vertical pass; the row tail beyond a multiple uses the scalar formula. */
const SIMD_LANES = 16;

/**
 * `cv2.resize(src, (dstWidth, dstHeight), interpolation=cv2.INTER_LINEAR)` for HWC uint8 with `channels`
 * channels. Horizontal pass: integer sums with 11-bit weights; vertical pass: OpenCV's SIMD rounding
 * `((S0>>4)·b0 >> 16) + ((S1>>4)·b1 >> 16) + 2 >> 2` over the row in 16-element blocks, the scalar
 * `(S0·b0 + S1·b1 + 2^21) >> 22` on the tail. An exact 2× downscale is INTER_AREA in OpenCV (a 2×2 mean with
 * rounding), which this reproduces too.
 */
export function resizeBilinearUint8(
  src: Uint8Array,
  srcWidth: number,
  srcHeight: number,
  dstWidth: number,
  dstHeight: number,
  channels = 3,
): Uint8Array {
  if (src.length !== srcWidth * srcHeight * channels) {
    throw new RangeError(`source has ${src.length} values, expected ${srcWidth}x${srcHeight}x${channels}`);
  }
  const out = new Uint8Array(dstWidth * dstHeight * channels);
  if (srcWidth === dstWidth && srcHeight === dstHeight) {
    out.set(src);
    return out;
  }
  if (srcWidth === dstWidth * 2 && srcHeight === dstHeight * 2) {
    // OpenCV: INTER_LINEAR with an exact 2x downscale switches to the fast INTER_AREA path.
    for (let y = 0; y < dstHeight; y++) {
      const r0 = 2 * y * srcWidth * channels;
      const r1 = r0 + srcWidth * channels;
      for (let x = 0; x < dstWidth; x++) {
        for (let c = 0; c < channels; c++) {
          const i = 2 * x * channels + c;
          const sum = src[r0 + i]! + src[r0 + i + channels]! + src[r1 + i]! + src[r1 + i + channels]!;
          out[(y * dstWidth + x) * channels + c] = (sum + 2) >> 2;
        }
      }
    }
    return out;
  }
  const h = linearTaps(srcWidth, dstWidth);
  const v = linearTaps(srcHeight, dstHeight, false);
  const rowLen = dstWidth * channels;
  const simdEnd = rowLen - (rowLen % SIMD_LANES);
  // Horizontally resized source rows, cached because consecutive destination rows share them.
  const rowCache = new Map<number, Int32Array>();
  const hRow = (sy: number): Int32Array => {
    let row = rowCache.get(sy);
    if (row) return row;
    row = new Int32Array(rowLen);
    const base = sy * srcWidth * channels;
    for (let x = 0; x < dstWidth; x++) {
      const sx = h.index[x]!;
      const a0 = h.w0[x]!;
      const a1 = h.w1[x]!;
      const p = base + sx * channels;
      const q = sx + 1 < srcWidth ? p + channels : p;
      for (let c = 0; c < channels; c++) row[x * channels + c] = src[p + c]! * a0 + src[q + c]! * a1;
    }
    if (rowCache.size > 4) rowCache.delete(rowCache.keys().next().value as number);
    rowCache.set(sy, row);
    return row;
  };
  for (let y = 0; y < dstHeight; y++) {
    const sy = v.index[y]!;
    const b0 = v.w0[y]!;
    const b1 = v.w1[y]!;
    const s0 = hRow(Math.min(Math.max(sy, 0), srcHeight - 1));
    const s1 = hRow(Math.min(Math.max(sy + 1, 0), srcHeight - 1));
    const o = y * rowLen;
    for (let x = 0; x < simdEnd; x++) {
      const t = (((s0[x]! >> 4) * b0) >> 16) + (((s1[x]! >> 4) * b1) >> 16);
      out[o + x] = Math.min(255, Math.max(0, (t + 2) >> 2));
    }
    for (let x = simdEnd; x < rowLen; x++) {
      const t = s0[x]! * b0 + s1[x]! * b1;
      out[o + x] = Math.min(255, Math.max(0, (t + (1 << 21)) >> 22));
    }
  }
  return out;
}

/** Output of `letterbox`: the model input and the geometry needed to undo it. */
export interface LetterboxedImage {
  /** float32[1,3,size,size], CHW, normalised. */
  pixelValues: Float32Array;
  letterbox: Letterbox;
}

/** Official preprocessing of an HWC RGB uint8 image (see the module header). */
export function letterbox(
  rgb: Uint8Array,
  width: number,
  height: number,
  options: { size?: number; normalize?: NormalizeSpec } = {},
): LetterboxedImage {
  const size = options.size ?? 1024;
  const { mean, std } = options.normalize ?? SEGEARTH_NORMALIZE;
  const geo = letterboxGeometry(width, height, size);
  const resized = resizeBilinearUint8(rgb, width, height, geo.width, geo.height, 3);
  const plane = size * size;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const pad = f32((0 - mean[c]!) / std[c]!);
    out.fill(pad, c * plane, (c + 1) * plane);
  }
  // Normalise as torch does in float32: (x - mean) / std with mean/std as float32 tensors.
  const m = mean.map((v) => f32(v));
  const s = std.map((v) => f32(v));
  for (let y = 0; y < geo.height; y++) {
    const rowOut = (y + geo.padTop) * size + geo.padLeft;
    const rowIn = y * geo.width * 3;
    for (let x = 0; x < geo.width; x++) {
      const i = rowIn + x * 3;
      out[rowOut + x] = f32(f32(resized[i]! - m[0]!) / s[0]!);
      out[plane + rowOut + x] = f32(f32(resized[i + 1]! - m[1]!) / s[1]!);
      out[2 * plane + rowOut + x] = f32(f32(resized[i + 2]! - m[2]!) / s[2]!);
    }
  }
  return { pixelValues: out, letterbox: geo };
}

/**
 * Bilinear resampling of a single-channel float grid with half-pixel centres (`align_corners=False`, edge
 * clamped), reading the sub-rectangle [x0, x0+w) × [y0, y0+h) of `src` and writing `dstWidth × dstHeight`.
 */
export function resizeBilinearFloat(
  src: Float32Array,
  srcWidth: number,
  crop: { x: number; y: number; width: number; height: number },
  dstWidth: number,
  dstHeight: number,
): Float32Array {
  const out = new Float32Array(dstWidth * dstHeight);
  const sx = crop.width / dstWidth;
  const sy = crop.height / dstHeight;
  const xi0 = new Int32Array(dstWidth);
  const xi1 = new Int32Array(dstWidth);
  const xw = new Float32Array(dstWidth);
  for (let x = 0; x < dstWidth; x++) {
    const fx = Math.max(0, (x + 0.5) * sx - 0.5);
    const i0 = Math.min(Math.floor(fx), crop.width - 1);
    xi0[x] = crop.x + i0;
    xi1[x] = crop.x + Math.min(i0 + 1, crop.width - 1);
    xw[x] = fx - i0;
  }
  for (let y = 0; y < dstHeight; y++) {
    const fy = Math.max(0, (y + 0.5) * sy - 0.5);
    const j0 = Math.min(Math.floor(fy), crop.height - 1);
    const j1 = Math.min(j0 + 1, crop.height - 1);
    const wy = fy - j0;
    const r0 = (crop.y + j0) * srcWidth;
    const r1 = (crop.y + j1) * srcWidth;
    const o = y * dstWidth;
    for (let x = 0; x < dstWidth; x++) {
      const a = src[r0 + xi0[x]!]!;
      const b = src[r0 + xi1[x]!]!;
      const c = src[r1 + xi0[x]!]!;
      const d = src[r1 + xi1[x]!]!;
      const w = xw[x]!;
      const top = a + (b - a) * w;
      const bottom = c + (d - c) * w;
      out[o + x] = top + (bottom - top) * wy;
    }
  }
  return out;
}

/**
 * Mask logits of side `logitSize` (256 from the head, or 1024) → logits on the source window grid
 * (`letterbox.srcWidth × srcHeight`): upsample to the letterboxed frame as the official `F.interpolate`
 * (bilinear, align_corners=False), crop the content, resample to the source size.
 */
export function unletterbox(logits: Float32Array, logitSize: number, lb: Letterbox): Float32Array {
  if (logits.length !== logitSize * logitSize) {
    throw new RangeError(`logits have ${logits.length} values, expected ${logitSize}x${logitSize}`);
  }
  const full =
    logitSize === lb.size
      ? logits
      : resizeBilinearFloat(logits, logitSize, { x: 0, y: 0, width: logitSize, height: logitSize }, lb.size, lb.size);
  return resizeBilinearFloat(
    full,
    lb.size,
    { x: lb.padLeft, y: lb.padTop, width: lb.width, height: lb.height },
    lb.srcWidth,
    lb.srcHeight,
  );
}

/** Logistic function applied in place: logits → probabilities. */
export function sigmoidInPlace(values: Float32Array): Float32Array {
  for (let i = 0; i < values.length; i++) values[i] = 1 / (1 + Math.exp(-values[i]!));
  return values;
}
