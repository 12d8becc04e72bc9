/**
 * The official preprocessing: letterbox geometry, `letterbox` against the official fixture's pixel_values,
 * `resizeBilinearUint8` against OpenCV's own `cv2.resize(..., INTER_LINEAR)` (Debian's python3-opencv, run on the
 * same bytes), and `unletterbox` as the inverse.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
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
import { OFFICIAL } from '../support/parityFixtures.js';
import { PYTHON } from '../support/tinyBundle.js';

const FIXTURE = join(OFFICIAL, 'io.safetensors');
const haveFixture = existsSync(FIXTURE);
if (!haveFixture) console.warn(`skipping official preprocessing parity: ${FIXTURE} is absent`);

/** `cv2.resize(src, (dw, dh), interpolation=cv2.INTER_LINEAR)` on HWC uint8 bytes, by OpenCV itself. */
const CV2_RESIZE = [
  'import sys, numpy as np, cv2',
  'sw, sh, dw, dh, ch = map(int, sys.argv[1:6])',
  'src = np.frombuffer(sys.stdin.buffer.read(), np.uint8).reshape(sh, sw, ch)',
  'out = cv2.resize(src, (dw, dh), interpolation=cv2.INTER_LINEAR)',
  'sys.stdout.buffer.write(np.ascontiguousarray(out).tobytes())',
].join('\n');

function cv2Resize(src: Uint8Array, sw: number, sh: number, dw: number, dh: number, channels = 3): Uint8Array {
  const run = spawnSync(PYTHON, ['-c', CV2_RESIZE, String(sw), String(sh), String(dw), String(dh), String(channels)], { input: src, maxBuffer: 64 << 20 });
  if (run.status !== 0) throw new Error(`cv2.resize failed: ${run.stderr.toString()}`);
  return new Uint8Array(run.stdout);
}

const cv2Missing = spawnSync(PYTHON, ['-c', 'import cv2']).status !== 0;
if (cv2Missing) console.warn(`skipping the OpenCV comparisons: ${PYTHON} cannot import cv2 (install python3-opencv)`);


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

describe.skipIf(cv2Missing)('resizeBilinearUint8 equals OpenCV cv2.resize(INTER_LINEAR)', () => {
  for (const [sw, sh, dw, dh] of [
    [300, 200, 1024, 682],
    [1500, 1100, 1024, 750],
    [77, 1024, 77, 1024],
    [513, 257, 1024, 512],
    [8, 6, 4, 3], // an exact 2x downscale: OpenCV switches to INTER_AREA
  ] as const) {
    it(`${sw}x${sh} → ${dw}x${dh}: byte for byte`, () => {
      const src = randomImage(sw, sh, sw * 7 + sh);
      const got = resizeBilinearUint8(src, sw, sh, dw, dh);
      const want = cv2Resize(src, sw, sh, dw, dh);
      expect(got.length).toBe(want.length);
      let differ = 0;
      for (let i = 0; i < got.length; i++) if (got[i] !== want[i]) differ++;
      expect(differ).toBe(0);
    });
  }

  it('a tiny one-channel upscale: [10, 250] → the values OpenCV computes', () => {
    const src = Uint8Array.from([10, 250]);
    expect(Array.from(resizeBilinearUint8(src, 2, 1, 4, 1, 1))).toEqual(Array.from(cv2Resize(src, 2, 1, 4, 1, 1)));
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
