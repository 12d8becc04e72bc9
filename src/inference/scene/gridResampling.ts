/**
 * @module inference/scene/gridResampling
 * Moving model outputs between grids: bilinear samples of a coarse logit grid at a tile's pixels (coarse to
 * fine keeps the coarse answer where it does not refine) and nearest-neighbour resampling of a valid mask.
 */
import type { PixelRect } from './tiling.js';

/**
 * Bilinear samples (half-pixel centres, edge clamped) of a `sw × sh` grid covering a window of `W × H` px,
 * at the pixels of `rect` (window coordinates).
 */
export function sampleGrid(src: Float32Array, sw: number, sh: number, W: number, H: number, rect: PixelRect): Float32Array {
  const out = new Float32Array(rect.width * rect.height);
  const kx = sw / W;
  const ky = sh / H;
  for (let j = 0; j < rect.height; j++) {
    const fy = Math.min(Math.max((rect.y + j + 0.5) * ky - 0.5, 0), sh - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, sh - 1);
    const wy = fy - y0;
    for (let i = 0; i < rect.width; i++) {
      const fx = Math.min(Math.max((rect.x + i + 0.5) * kx - 0.5, 0), sw - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, sw - 1);
      const wx = fx - x0;
      const top = src[y0 * sw + x0]! * (1 - wx) + src[y0 * sw + x1]! * wx;
      const bot = src[y1 * sw + x0]! * (1 - wx) + src[y1 * sw + x1]! * wx;
      out[j * rect.width + i] = top * (1 - wy) + bot * wy;
    }
  }
  return out;
}

/** Nearest-neighbour resampling of a 0/1 mask to another size. */
export function resampleMask(valid: Uint8Array, sw: number, sh: number, dw: number, dh: number): Float32Array {
  const out = new Float32Array(dw * dh);
  for (let y = 0; y < dh; y++) {
    const sy = Math.min(sh - 1, Math.floor(((y + 0.5) * sh) / dh));
    for (let x = 0; x < dw; x++) {
      const sx = Math.min(sw - 1, Math.floor(((x + 0.5) * sw) / dw));
      out[y * dw + x] = valid[sy * sw + sx] ? 1 : 0;
    }
  }
  return out;
}
