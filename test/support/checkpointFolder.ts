/**
 * @module test/support/checkpointFolder
 * Test helper: a Hugging Face style SegEarth-R1 checkpoint folder made from the shared fixtures' official-key
 * weights — two safetensors shards (official tiny model, Phi fixture) with `model.safetensors.index.json`, the
 * Phi fixture's config.json, and the tiny bundle's tokenizer given only as vocab.json + merges.txt +
 * added_tokens.json (so exporters must build tokenizer.json themselves). Used by the Python exporter's
 * checkpoint test and the TypeScript converter's tests.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { SafetensorsFile, encodeSafetensors } from '../../src/inference/bundle/safetensors.js';
import { OFFICIAL, PHI } from './parityFixtures.js';

export const SHARD_NAMES = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'] as const;

/** Copies all tensors of `files` into a new safetensors buffer. */
export function shard(files: SafetensorsFile[]): Uint8Array {
  return encodeSafetensors(
    files.flatMap((f) => f.names().map((name) => ({ name, dtype: f.info(name).dtype, shape: f.info(name).shape, data: f.raw(name) }))),
    { format: 'pt' },
  );
}

export interface FixtureCheckpoint {
  dir: string;
  /** The two fixture weight files, in shard order. */
  sources: SafetensorsFile[];
  /** The tokenizer the folder's vocab/merges/added tokens come from. */
  tokenizer: Tokenizer;
}

/** Writes the checkpoint folder `dir` (created); `tinyBundle` is models/tiny-test (its tokenizer is used). */
export async function writeFixtureCheckpoint(dir: string, tinyBundle: string): Promise<FixtureCheckpoint> {
  await mkdir(dir, { recursive: true });
  const sources = await Promise.all([SafetensorsFile.load(join(OFFICIAL, 'weights.safetensors')), SafetensorsFile.load(join(PHI, 'weights.safetensors'))]);
  const weightMap: Record<string, string> = {};
  for (const [i, name] of SHARD_NAMES.entries()) {
    await writeFile(join(dir, name), shard([sources[i]!]));
    for (const key of sources[i]!.names()) weightMap[key] = name;
  }
  await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }, null, 2));
  await writeFile(join(dir, 'config.json'), await readFile(join(PHI, 'config.json')));
  const tokJson = JSON.parse(await readFile(join(tinyBundle, 'tokenizer.json'), 'utf8')) as {
    model: { vocab: Record<string, number>; merges: string[] };
    added_tokens: { content: string; id: number }[];
  };
  await writeFile(join(dir, 'vocab.json'), JSON.stringify(tokJson.model.vocab));
  await writeFile(join(dir, 'merges.txt'), `#version: 0.2\n${tokJson.model.merges.join('\n')}\n`);
  await writeFile(join(dir, 'added_tokens.json'), JSON.stringify(Object.fromEntries(tokJson.added_tokens.map((t) => [t.content, t.id]))));
  return { dir, sources, tokenizer: new Tokenizer(tokJson, {}) };
}
