import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundle } from '../../src/inference/bundle/loadBundle.js';
import { ByteLru } from '../../src/inference/pipeline/lruCache.js';
import { SegEarthModel } from '../../src/inference/sessions/model.js';
import { letterbox } from '../../src/inference/preprocessing/preprocess.js';
import { MAX_QUESTION_CHARS, PromptBuilder, loadTokenizer, validateQuestion } from '../../src/inference/preprocessing/prompt.js';
import { isSegEarthError } from '../../src/shared/errors.js';
import { ensureTinyBundle } from '../support/tinyBundle.js';
import { variantBundle } from './support/bundles.js';

let tiny: string;
const dir = mkdtempSync(join(tmpdir(), 'segearth-prompt-'));
beforeAll(async () => {
  tiny = await ensureTinyBundle();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('prompt assembly', () => {
  it('splits the template into system prefix / view / question, each chunk tokenized on its own', async () => {
    const { manifest } = await loadBundle(tiny);
    const tokenizer = await loadTokenizer(tiny, manifest);
    const prompt = new PromptBuilder(tokenizer, manifest);
    const chunks = manifest.prompt.chunks;
    expect(chunks.map((c) => c.kind)).toEqual(['text', 'image', 'text', 'refer']);
    // System prefix = the first chunk alone, matching the ids its cached KV was computed from.
    expect(prompt.plan.prefixIds).toEqual(manifest.prefixCache.tokenIds);
    expect(prompt.plan.prefixIds).toEqual(tokenizer.encode((chunks[0] as { text: string }).text, { add_special_tokens: false }).ids);
    // View = 64 image tokens + the instruction text tokenized on its own.
    const instruction = (chunks[2] as { text: string }).text;
    expect(instruction).toMatch(/Reasoning Segmentation/);
    expect(prompt.plan.viewSegments).toEqual([{ kind: 'image' }, { kind: 'tokens', ids: tokenizer.encode(instruction, { add_special_tokens: false }).ids }]);
    expect(prompt.plan.viewLength).toBe(64 + tokenizer.encode(instruction, { add_special_tokens: false }).ids.length);
    // Question = encode(' ' + question) + [SEG].
    const ids = prompt.referIds('  where are the roads?  ');
    expect(ids.at(-1)).toBe(manifest.tokenizer.specialTokens.seg.id);
    expect(ids.slice(0, -1)).toEqual(tokenizer.encode(' where are the roads?', { add_special_tokens: false }).ids);
  });

  it('an RRSIS-D style template changes only the view part', async () => {
    const b = variantBundle(tiny, join(dir, 'rrsis'), (m) => {
      const chunks = (m.prompt as { chunks: Array<{ kind: string; text?: string }> }).chunks;
      chunks[2]!.text = chunks[2]!.text!.replace('Reasoning Segmentation', 'Referring Segmentation');
      m.variant = 'rrsis-d';
    });
    const a = await loadBundle(tiny);
    const r = await loadBundle(b);
    const pa = new PromptBuilder(await loadTokenizer(tiny, a.manifest), a.manifest);
    const pr = new PromptBuilder(await loadTokenizer(b, r.manifest), r.manifest);
    expect(pr.plan.prefixIds).toEqual(pa.plan.prefixIds);
    expect(pr.plan.viewSegments).not.toEqual(pa.plan.viewSegments);
    expect(pr.referIds('roads')).toEqual(pa.referIds('roads'));
  });

  it('rejects a tokenizer whose [SEG] id differs from the manifest', async () => {
    const b = variantBundle(tiny, join(dir, 'seg'), (m) => {
      ((m.tokenizer as { specialTokens: { seg: { id: number } } }).specialTokens.seg).id = 5;
    });
    const { manifest } = await loadBundle(b);
    const err = await loadTokenizer(b, manifest).catch((e: unknown) => e);
    expect(isSegEarthError(err, 'MODEL_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(/maps \[SEG\] to \d+, but the manifest says 5/);
  });

  it('validates questions', () => {
    expect(validateQuestion('  roads ')).toBe('roads');
    expect(() => validateQuestion('')).toThrow(/empty/);
    expect(() => validateQuestion('\n\t ')).toThrow(/empty/);
    expect(() => validateQuestion('a'.repeat(MAX_QUESTION_CHARS))).not.toThrow();
    expect(() => validateQuestion('a'.repeat(10_000))).toThrow(/too long \(10000 characters; at most 2000\)/);
  });
});

describe('KV cache levels', () => {
  it('prefix cache + view cache + question tokens gives the single-pass hidden states', async () => {
    const model = await SegEarthModel.load(tiny, { ep: 'cpu', threads: { intraOp: 1 } });
    try {
      const rgb = new Uint8Array(200 * 150 * 3).map((_, i) => (i * 97) % 256);
      const { pixelValues } = letterbox(rgb, 200, 150);
      const view = await model.encodeView(pixelValues);
      for (const q of ['where are the roads?', 'which field is largest and why?']) {
        const cached = await model.referHidden(view, q);
        const single = await model.referHiddenSinglePass(pixelValues, q);
        expect(cached.length).toBe(single.length);
        let maxDiff = 0;
        for (let i = 0; i < single.length; i++) maxDiff = Math.max(maxDiff, Math.abs(cached[i]! - single[i]!));
        expect(maxDiff).toBeLessThan(1e-4);
      }
    } finally {
      await model.dispose();
    }
  });
});

describe('ByteLru', () => {
  it('evicts least recently used entries by bytes and disposes them', () => {
    const disposed: string[] = [];
    const lru = new ByteLru<{ bytes: number; name: string }>(100, (v) => disposed.push(v.name));
    lru.set('a', { bytes: 40, name: 'a' });
    lru.set('b', { bytes: 40, name: 'b' });
    lru.get('a');
    lru.set('c', { bytes: 40, name: 'c' });
    expect(disposed).toEqual(['b']);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.bytes).toBe(80);
    lru.set('huge', { bytes: 1000, name: 'huge' });
    expect(lru.get('huge')).toBeUndefined();
    expect(disposed).toEqual(['b', 'huge']);
    lru.clear();
    expect(lru.size).toBe(0);
    expect(lru.bytes).toBe(0);
  });
});
