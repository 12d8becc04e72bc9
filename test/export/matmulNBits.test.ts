/**
 * The weight-only quantizations (tools/export/quantize.py) against onnxruntime's com.microsoft.MatMulNBits:
 * one-node graphs with our 8- and 4-bit packed weights and scales, no zero_points input, must compute
 * A @ dequantize(W)ᵀ as our Python dequantizer defines it — the layout check behind the int8/int4 bundles
 * (uint8 [N, K/32, 32·bits/8], two 4-bit codes per byte with the low nibble first, implicit zero point
 * 2^(bits−1), negative int4 scales). The same nodes with accuracy_level 4 (the exporter's default) must compute
 * int8_activations(A) @ dequantize(W)ᵀ — A quantized per block as tools/export/quantize.py emulates it for the
 * prefix cache, round half to even included. Needs only Debian's python3 with torch and onnx; skips otherwise.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON, REPO_ROOT } from '../support/tinyBundle.js';

const reason = existsSync(PYTHON) ? undefined : `${PYTHON} (Debian python3 with torch and onnx) not found`;
if (reason) console.warn(`[matmulNBits] skipped: ${reason}`);

const ProbeSchema = z.object({
  M: z.number().int(),
  K: z.number().int(),
  N: z.number().int(),
  maxDequantError: z.record(z.string(), z.number()),
  maxActivationError: z.number(),
});

function probe(out: string): Promise<z.infer<typeof ProbeSchema>> {
  return new Promise((res, rej) => {
    const child = spawn(PYTHON, ['-m', 'tools.export.nbits_probe', out], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.on('error', rej);
    child.on('exit', (code) => (code === 0 ? res(ProbeSchema.parse(JSON.parse(stdout))) : rej(new Error(`nbits_probe failed (${code}):\n${stderr}`))));
  });
}

async function floats(path: string): Promise<Float32Array> {
  const b = await readFile(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

describe.skipIf(reason !== undefined)('MatMulNBits reads our quantized layout (onnxruntime-node, cpu)', () => {
  let dir: string;
  let info: z.infer<typeof ProbeSchema>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'segearth-nbits-'));
    info = await probe(dir);
  }, 120_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const run = async (model: string, expectedFile: string): Promise<number> => {
    const a = await floats(join(dir, 'a.bin'));
    const expected = await floats(join(dir, expectedFile));
    const session = await ort.InferenceSession.create(join(dir, model), { executionProviders: ['cpu'] });
    try {
      const out = await session.run({ A: new ort.Tensor('float32', a, [info.M, info.K]) });
      const y = out.Y!.data as Float32Array;
      expect(y.length).toBe(info.M * info.N);
      let maxRel = 0;
      for (let i = 0; i < y.length; i++) maxRel = Math.max(maxRel, Math.abs(y[i]! - expected[i]!) / (1 + Math.abs(expected[i]!)));
      return maxRel;
    } finally {
      await session.release();
    }
  };

  for (const bits of [8, 4]) {
    it(`${bits} bits: onnxruntime computes A @ dequantize(W)ᵀ`, async () => {
      const maxRel = await run(`nbits${bits}.onnx`, `nbits${bits}.expected.bin`);
      console.log(`[matmulNBits] ${bits} bits: max rel diff ${maxRel.toExponential(1)}, max |dequant - w| ${info.maxDequantError[String(bits)]!.toExponential(1)}`);
      expect(maxRel).toBeLessThan(1e-5); // float rounding only: a layout error would be O(1)
      // and the quantization error is the expected size: half a step (int8); for int4 exactly one step of
      // the block whose extremes ±4 tie (scale 4 / 8: +4 clamps to code 15 = 3.5), half a step elsewhere
      if (bits === 8) expect(info.maxDequantError['8']).toBeLessThan(0.02);
      else expect(info.maxDequantError['4']).toBeCloseTo(0.5, 6);
    });
  }

  for (const bits of [8, 4]) {
    it(`${bits} bits, accuracy_level 4: onnxruntime computes int8_activations(A) @ dequantize(W)ᵀ`, async () => {
      const maxRel = await run(`nbits${bits}.acc4.onnx`, `nbits${bits}.acc4.expected.bin`);
      const vsFloat = await run(`nbits${bits}.acc4.onnx`, `nbits${bits}.expected.bin`);
      console.log(`[matmulNBits] ${bits} bits, accuracy_level 4: max rel diff ${maxRel.toExponential(1)} vs the emulation, ${vsFloat.toExponential(1)} vs float32 activations`);
      // float rounding only: the op quantizes A exactly as int8_activations (a half-step rounded the other way
      // would move an output by ~|w| ≈ 1). For 8 bits, MLAS computes Σ sa·sb·(qa·code) − 128·Σ sa·sb·Σqa in
      // float32: in the row with |a| = 127 the all-zero weight block (scale 1) makes both terms ~1.6e4, and their
      // cancellation leaves float32 rounding of ~1e-3 (measured 2.4e-4 relative); 4 bits measured 3.7e-6.
      expect(maxRel).toBeLessThan(bits === 8 ? 1e-3 : 1e-5);
      expect(vsFloat).toBeGreaterThan(1e-4); // and it does quantize A (max |int8_activations(A) − A| = 0.5 here)
    });
  }
});
