import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SafetensorsFile } from '../../src/inference/bundle/safetensors.js';
import {
  SEGEARTH_NORMALIZE,
  letterbox,
  letterboxGeometry,
  resizeBilinearFloat,
  resizeBilinearUint8,
  unletterbox,
} from '../../src/inference/preprocessing/preprocess.js';
import { seededRandom } from '../support/seededRandom.js';

const FIXTURE = '/work/shared/fixtures/segearth-r1-official-tiny/io.safetensors';
const haveFixture = existsSync(FIXTURE);
if (!haveFixture) console.warn(`skipping official preprocessing parity: ${FIXTURE} is absent`);


function randomImage(width: number, height: number, seed: number): Uint8Array {
  const r = seededRandom(seed);
  const img = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        // Smooth structure plus noise, so interpolation errors show.
        const v = 128 + 90 * Math.sin((x + 13 * c) / 7) * Math.cos(y / 11) + 30 * (r() - 0.5);
        img[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return img;
}

describe('letterboxGeometry', () => {
  it('truncates the short side and pads centred, top = pad // 2', () => {
    expect(letterboxGeometry(1024, 768)).toMatchObject({ width: 1024, height: 768, padTop: 128, padLeft: 0 });
    // 1000 x 333: 333 * 1024 / 1000 = 340.992 → 340; pad 684 → top 342
    expect(letterboxGeometry(1000, 333)).toMatchObject({ width: 1024, height: 340, padTop: 342, padLeft: 0 });
    // odd pad: 300 x 1000 → width 307 (307.2), pad 717 → left 358, right 359
    expect(letterboxGeometry(300, 1000)).toMatchObject({ width: 307, height: 1024, padTop: 0, padLeft: 358 });
  });
});

describe.skipIf(!haveFixture)('letterbox against the official fixture', () => {
  it('reproduces pixel_values of the official RS_val_dataset preprocessing', async () => {
    const io = await SafetensorsFile.load(FIXTURE);
    const pv = io.float32('pixel_values');
    const size = 1024;
    const plane = size * size;
    // The original image is 768 (H) x 1024 (W): recover it as round(x * std + mean) from the content rows.
    const width = 1024;
    const height = 768;
    const padTop = 128;
    const rgb = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        for (let c = 0; c < 3; c++) {
          const v = pv[c * plane + (y + padTop) * size + x]! * SEGEARTH_NORMALIZE.std[c]! + SEGEARTH_NORMALIZE.mean[c]!;
          rgb[(y * width + x) * 3 + c] = Math.round(v);
        }
      }
    }
    const { pixelValues, letterbox: lb } = letterbox(rgb, width, height);
    expect(lb).toMatchObject({ width: 1024, height: 768, padTop: 128, padLeft: 0 });
    let maxDiff = 0;
    for (let i = 0; i < pv.length; i++) maxDiff = Math.max(maxDiff, Math.abs(pixelValues[i]! - pv[i]!));
    // Same float32 arithmetic as torch: identical up to the last bit in practice.
    expect(maxDiff).toBeLessThan(1e-6);
    // The pad rows are -mean/std.
    expect(pixelValues[0]).toBeCloseTo(-123.675 / 58.395, 6);
    expect(pixelValues[2 * plane + (size - 1) * size + 5]).toBeCloseTo(-103.53 / 57.375, 6);
  });
});

describe('resizeBilinearUint8 (cv2 INTER_LINEAR)', () => {
  /** Independent float computation of bilinear resampling with half-pixel centres, clamped at the edges. */
  function referenceResize(src: Uint8Array, sw: number, sh: number, dw: number, dh: number): Float64Array {
    const out = new Float64Array(dw * dh * 3);
    for (let y = 0; y < dh; y++) {
      let fy = (y + 0.5) * (sh / dh) - 0.5;
      let y0 = Math.floor(fy);
      let wy = fy - y0;
      if (y0 < 0) [y0, wy] = [0, 0];
      if (y0 >= sh - 1) [y0, wy] = [sh - 1, 0];
      const y1 = Math.min(y0 + 1, sh - 1);
      for (let x = 0; x < dw; x++) {
        fy = (x + 0.5) * (sw / dw) - 0.5;
        let x0 = Math.floor(fy);
        let wx = fy - x0;
        if (x0 < 0) [x0, wx] = [0, 0];
        if (x0 >= sw - 1) [x0, wx] = [sw - 1, 0];
        const x1 = Math.min(x0 + 1, sw - 1);
        for (let c = 0; c < 3; c++) {
          const p = (yy: number, xx: number): number => src[(yy * sw + xx) * 3 + c]!;
          const top = p(y0, x0) * (1 - wx) + p(y0, x1) * wx;
          const bot = p(y1, x0) * (1 - wx) + p(y1, x1) * wx;
          out[(y * dw + x) * 3 + c] = top * (1 - wy) + bot * wy;
        }
      }
    }
    return out;
  }

  for (const [sw, sh, dw, dh] of [
    [300, 200, 1024, 682],
    [1500, 1100, 1024, 750],
    [77, 1024, 77, 1024],
    [513, 257, 1024, 512],
  ] as const) {
    it(`${sw}x${sh} → ${dw}x${dh} agrees with exact bilinear within OpenCV's fixed-point rounding (≤ 1 level)`, () => {
      const src = randomImage(sw, sh, sw * 7 + sh);
      const got = resizeBilinearUint8(src, sw, sh, dw, dh);
      const ref = referenceResize(src, sw, sh, dw, dh);
      let maxErr = 0;
      let exact = 0;
      for (let i = 0; i < got.length; i++) {
        const err = Math.abs(got[i]! - ref[i]!);
        maxErr = Math.max(maxErr, err);
        if (got[i] === Math.round(ref[i]!)) exact++;
      }
      expect(maxErr).toBeLessThan(1.01);
      // Most values round like the exact one; OpenCV's truncating fixed point flips some near .5 (downwards).
      expect(exact / got.length).toBeGreaterThan(0.8);
    });
  }

  it('an exact 2x downscale is the rounded 2x2 mean (OpenCV switches to INTER_AREA)', () => {
    const src = randomImage(8, 6, 3);
    const got = resizeBilinearUint8(src, 8, 6, 4, 3);
    const p = (y: number, x: number, c: number): number => src[(y * 8 + x) * 3 + c]!;
    for (let y = 0; y < 3; y++) {
      for (let x = 0; x < 4; x++) {
        for (let c = 0; c < 3; c++) {
          const s = p(2 * y, 2 * x, c) + p(2 * y, 2 * x + 1, c) + p(2 * y + 1, 2 * x, c) + p(2 * y + 1, 2 * x + 1, c);
          expect(got[(y * 4 + x) * 3 + c]).toBe((s + 2) >> 2);
        }
      }
    }
  });

  it('matches hand-computed OpenCV values on a tiny upscale', () => {
    // 2 px → 4 px, one row, one channel: fx = (d+0.5)/2 - 0.5 → [-0.25, 0.25, 0.75, 1.25]
    // taps: d0 clamp (sx0,w1=0) → 10; d1: 0.75*10 + 0.25*250 = 70; d2: 0.25*10+0.75*250 = 190; d3 clamp → 250
    const got = resizeBilinearUint8(Uint8Array.from([10, 250]), 2, 1, 4, 1, 1);
    expect(Array.from(got)).toEqual([10, 70, 190, 250]);
  });
});

describe('unletterbox', () => {
  it('inverts the letterbox: a logit field defined on the source grid comes back unchanged', () => {
    const lb = letterboxGeometry(1024, 768);
    const logits = new Float32Array(1024 * 1024);
    for (let y = 0; y < 1024; y++) for (let x = 0; x < 1024; x++) logits[y * 1024 + x] = y - lb.padTop + x / 1000;
    const back = unletterbox(logits, 1024, lb);
    expect(back.length).toBe(1024 * 768);
    expect(back[0]).toBeCloseTo(0, 6);
    expect(back[767 * 1024 + 1023]).toBeCloseTo(767 + 1.023, 4);
  });

  it('upsamples 256² like F.interpolate(align_corners=False) before cropping', () => {
    // A linear ramp is reproduced exactly by bilinear interpolation away from the clamped border.
    const m = new Float32Array(256 * 256);
    for (let y = 0; y < 256; y++) for (let x = 0; x < 256; x++) m[y * 256 + x] = x;
    const up = resizeBilinearFloat(m, 256, { x: 0, y: 0, width: 256, height: 256 }, 1024, 1024);
    // dst x → src (x + 0.5)/4 - 0.5
    expect(up[500]).toBeCloseTo((500 + 0.5) / 4 - 0.5, 5);
    expect(up[0]).toBe(0);
    const lb = letterboxGeometry(512, 1024); // content 512 wide, padLeft 256
    const back = unletterbox(m, 256, lb);
    expect(back.length).toBe(512 * 1024);
    // Source column 0 = letterbox column 256 = logit-grid column (256.5/4 - 0.5)
    expect(back[0]).toBeCloseTo(256.5 / 4 - 0.5, 5);
  });
});
