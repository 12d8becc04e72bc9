/**
 * @module test/export/fillWeights
 * Fills a graphs-only export's weight files from checkpoint tensors through `weights.json` — the operation a
 * TypeScript converter performs to build a bundle from a downloaded checkpoint without Python. Format
 * version 1 transforms are casts only; this helper supports F32 sources (the fixtures).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WeightMapSchema, type WeightMap } from '../../src/inference/bundle/manifest.js';
import type { SafetensorsFile } from '../../src/inference/bundle/safetensors.js';

export async function readWeightMap(dir: string): Promise<WeightMap> {
  return WeightMapSchema.parse(JSON.parse(await readFile(join(dir, 'weights.json'), 'utf8')));
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
    if (info.dtype !== 'F32' || e.dtype !== 'float32') throw new Error(`${e.key}: only F32 -> float32 is supported here`);
    if (info.shape.join(',') !== e.shape.join(',')) throw new Error(`${e.key}: shape ${info.shape} != ${e.shape}`);
    const raw = src.raw(e.key);
    if (raw.byteLength !== e.length) throw new Error(`${e.key}: ${raw.byteLength} bytes, map says ${e.length}`);
    buffers.get(e.file)!.set(raw, e.offset);
  }
  for (const [f, buf] of buffers) await writeFile(join(dir, f), buf);
  return [...buffers.keys()];
}
