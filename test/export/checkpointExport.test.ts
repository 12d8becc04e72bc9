/**
 * The checkpoint-folder path of the exporter (`python3 -m tools.export <dir> -o <bundle>`): a Hugging Face
 * style folder made from the shared fixtures' weights (test/support/checkpointFolder.ts: two safetensors shards
 * with their index, a PhiConfig config.json and a tokenizer given only as vocab.json + merges.txt +
 * added_tokens.json, so the exporter must build tokenizer.json itself) becomes a bundle whose weight files hold exactly the checkpoint's bytes, whose
 * tokenizer encodes like the original, and whose manifest validates. Skips with a printed reason when
 * ../shared or Debian's python3 with torch is absent.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManifestSchema, WeightMapSchema, type Manifest } from '../../src/inference/bundle/manifest.js';
import type { SafetensorsFile } from '../../src/inference/bundle/safetensors.js';
import { writeFixtureCheckpoint } from '../support/checkpointFolder.js';
import { paritySkipReason } from '../support/parityFixtures.js';
import { PYTHON, REPO_ROOT, ensureTinyBundle } from '../support/tinyBundle.js';

const reason = paritySkipReason('checkpointExport', 'weights.safetensors');

describe.skipIf(reason !== undefined)('exporting a checkpoint folder (python3 -m tools.export)', () => {
  let work: string;
  let bundle: string;
  let manifest: Manifest;
  let sources: SafetensorsFile[];
  let original: Tokenizer;

  beforeAll(async () => {
    const tiny = await ensureTinyBundle(); // its config.json has the fixtures' sizes; its tokenizer the vocab size
    work = await mkdtemp(join(tmpdir(), 'segearth-ckpt-'));
    const ckpt = join(work, 'SegEarth-R1-EarthReason');
    bundle = join(work, 'bundle');
    ({ sources, tokenizer: original } = await writeFixtureCheckpoint(ckpt, tiny));
    await new Promise<void>((res, rej) => {
      const child = spawn(PYTHON, ['-m', 'tools.export', ckpt, '-o', bundle, '--model-config', join(tiny, 'config.json'), '--threads', '1'], {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
      child.on('error', rej);
      child.on('exit', (code) => (code === 0 ? res() : rej(new Error(`export failed (${code}):\n${err}`))));
    });
    manifest = ManifestSchema.parse(JSON.parse(await readFile(join(bundle, 'manifest.json'), 'utf8')));
  }, 600_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('records the variant guessed from the folder name and the source shards with their hashes', () => {
    expect(manifest.variant).toBe('earthreason');
    expect(manifest.testFixture).toBe(false);
    expect(manifest.source.checkpoint).toBe('earth-insights/SegEarth-R1-EarthReason');
    expect(manifest.source.files.map((f) => f.name)).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    const refer = manifest.prompt.chunks[2];
    expect(refer?.kind === 'text' && refer.text).toBe(', Please doing Reasoning Segmentation according to the following instruction:\n');
  });

  it('builds tokenizer.json from vocab.json + merges.txt + added_tokens.json, encoding like the original', async () => {
    const rebuilt = new Tokenizer(JSON.parse(await readFile(join(bundle, 'tokenizer.json'), 'utf8')), {});
    for (const text of [' Where could the planes park?', manifest.prompt.chunks[0]?.kind === 'text' ? manifest.prompt.chunks[0].text : '', '[SEG]']) {
      expect(rebuilt.encode(text, { add_special_tokens: false }).ids).toEqual(original.encode(text, { add_special_tokens: false }).ids);
    }
    expect(rebuilt.encode('[SEG]', { add_special_tokens: false }).ids).toEqual([manifest.tokenizer.specialTokens.seg.id]);
  });

  it('writes exactly the checkpoint bytes at every weight-map entry', async () => {
    const map = WeightMapSchema.parse(JSON.parse(await readFile(join(bundle, manifest.weightMap), 'utf8')));
    const files = new Map<string, Buffer>();
    for (const e of map.entries) {
      if (!files.has(e.file)) files.set(e.file, await readFile(join(bundle, e.file)));
      const src = sources.find((s) => s.header.tensors.has(e.key))!;
      const got = files.get(e.file)!.subarray(e.offset, e.offset + e.length);
      expect(Buffer.from(src.raw(e.key)).equals(got), e.key).toBe(true);
    }
    expect(map.entries.length).toBe(sources[0]!.names().length + sources[1]!.names().length - map.unused.length);
  });
});
