/**
 * The weight-only quantizations (tools/export/quantize.py) against onnxruntime's com.microsoft.MatMulNBits:
 * one-node graphs with our 8- and 4-bit packed weights and scales, no zero_points input, must compute
 * A @ dequantize(W)ᵀ as our Python dequantizer defines it — the layout check behind the int8/int4 bundles
 * (uint8 [N, K/32, 32·bits/8], two 4-bit codes per byte with the low nibble first, implicit zero point
 * 2^(bits−1), negative int4 scales). Needs only Debian's python3 with torch and onnx; skips otherwise.
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

  for (const bits of [8, 4]) {
    it(`${bits} bits: onnxruntime computes A @ dequantize(W)ᵀ`, async () => {
      const a = await floats(join(dir, 'a.bin'));
      const expected = await floats(join(dir, `nbits${bits}.expected.bin`));
      const session = await ort.InferenceSession.create(join(dir, `nbits${bits}.onnx`), { executionProviders: ['cpu'] });
      try {
        const out = await session.run({ A: new ort.Tensor('float32', a, [info.M, info.K]) });
        const y = out.Y!.data as Float32Array;
        expect(y.length).toBe(info.M * info.N);
        let maxRel = 0;
        for (let i = 0; i < y.length; i++) maxRel = Math.max(maxRel, Math.abs(y[i]! - expected[i]!) / (1 + Math.abs(expected[i]!)));
        console.log(`[matmulNBits] ${bits} bits: max rel diff ${maxRel.toExponential(1)}, max |dequant - w| ${info.maxDequantError[String(bits)]!.toExponential(1)}`);
        expect(maxRel).toBeLessThan(1e-5); // float rounding only: a layout error would be O(1)
        // and the quantization error is the expected size: half a step (int8); for int4 exactly one step of
        // the block whose extremes ±4 tie (scale 4 / 8: +4 clamps to code 15 = 3.5), half a step elsewhere
        if (bits === 8) expect(info.maxDequantError['8']).toBeLessThan(0.02);
        else expect(info.maxDequantError['4']).toBeCloseTo(0.5, 6);
      } finally {
        await session.release();
      }
    });
  }
});
