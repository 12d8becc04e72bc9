/**
 * @module inference/preprocessing/prompt
 * Tokenizer (the bundle's `tokenizer.json`, read by `@huggingface/tokenizers`) and prompt assembly per model
 * variant, following the official evaluation: every text chunk of the manifest's prompt template is tokenized
 * on its own without special tokens; the image chunk is the 64 image tokens; the refer chunk is
 * `encode(referPrefix + question)` followed by the `[SEG]` id. The assembled prompt is split where the caches
 * split it: the system prefix (once per model), the view part (image tokens + instruction text, once per
 * view) and the question part (once per question).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { SegEarthError } from '../../shared/errors.js';
import type { Manifest } from '../bundle/manifest.js';

/** Longest question accepted, in characters (a paragraph; the official datasets' longest is ~400). */
export const MAX_QUESTION_CHARS = 2000;

/** The part of the prompt that depends on the view: token ids and the place of the image tokens. */
export type ViewSegment = { kind: 'tokens'; ids: number[] } | { kind: 'image' };

export interface PromptPlan {
  /** Ids of the system prefix (its KV cache ships with the bundle). */
  prefixIds: number[];
  /** Image tokens + instruction text, in order (computed once per view). */
  viewSegments: ViewSegment[];
  /** Number of positions the view part occupies (image tokens count as `imageTokens`). */
  viewLength: number;
}

export class PromptBuilder {
  readonly plan: PromptPlan;

  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly manifest: Manifest,
  ) {
    const { chunks, prefixChunks } = manifest.prompt;
    const prefixIds: number[] = [];
    const viewSegments: ViewSegment[] = [];
    chunks.forEach((chunk, index) => {
      if (chunk.kind === 'refer') return;
      if (index < prefixChunks) {
        if (chunk.kind === 'text') prefixIds.push(...this.encode(chunk.text));
        return;
      }
      if (chunk.kind === 'image') viewSegments.push({ kind: 'image' });
      else viewSegments.push({ kind: 'tokens', ids: this.encode(chunk.text) });
    });
    const expected = manifest.prefixCache.tokenIds;
    if (expected.length !== prefixIds.length || expected.some((id, i) => id !== prefixIds[i])) {
      throw new SegEarthError(
        'MODEL_INVALID',
        `The bundle's tokenizer does not reproduce the token ids of its cached system prefix (${prefixIds.length} vs ${expected.length} tokens).`,
        { hint: 'The tokenizer.json and prefix_kv.safetensors come from different exports: re-export the bundle.' },
      );
    }
    const viewLength = viewSegments.reduce(
      (n, s) => n + (s.kind === 'image' ? manifest.architecture.imageTokens : s.ids.length),
      0,
    );
    this.plan = { prefixIds, viewSegments, viewLength };
  }

  /** Tokenizes one chunk on its own, without special tokens. */
  encode(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  /**
   * Ids of the refer chunk for a question: `encode(referPrefix + question) + [SEG]`. Rejects empty and overly
   * long questions with `BAD_ARGUMENT`, and questions that would not fit the model's positions.
   */
  referIds(question: string): number[] {
    const q = validateQuestion(question);
    const ids = [...this.encode(this.manifest.prompt.referPrefix + q), this.manifest.tokenizer.specialTokens.seg.id];
    const total = this.plan.prefixIds.length + this.plan.viewLength + ids.length;
    const max = this.manifest.architecture.maxPositions;
    if (total > max) {
      throw new SegEarthError(
        'BAD_ARGUMENT',
        `The question is too long for the model: ${ids.length} tokens, the prompt would need ${total} positions and the model has ${max}.`,
        { hint: 'Ask a shorter question.' },
      );
    }
    return ids;
  }
}

/** Normalises and checks a question (whitespace trimmed); throws `BAD_ARGUMENT` with a clear message. */
export function validateQuestion(question: string): string {
  const q = question.trim();
  if (q.length === 0) {
    throw new SegEarthError('BAD_ARGUMENT', 'The question is empty.', {
      hint: 'Ask what to find, e.g. "Where could a helicopter land?"',
    });
  }
  if (q.length > MAX_QUESTION_CHARS) {
    throw new SegEarthError(
      'BAD_ARGUMENT',
      `The question is too long (${q.length} characters; at most ${MAX_QUESTION_CHARS}).`,
      { hint: 'Ask a shorter question: one or two sentences describing what to find.' },
    );
  }
  return q;
}

/** Loads the bundle's tokenizer and checks that `[SEG]` has the id the manifest records. */
export async function loadTokenizer(bundleDir: string, manifest: Manifest): Promise<Tokenizer> {
  const path = join(bundleDir, manifest.tokenizer.file);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new SegEarthError('MODEL_INVALID', `Cannot read the bundle's tokenizer: ${(cause as Error).message}.`, {
      path,
      hint: 'Re-export or re-install the model bundle.',
      cause,
    });
  }
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(json as object, {});
  } catch (cause) {
    throw new SegEarthError('MODEL_INVALID', `The bundle's tokenizer.json is not a valid tokenizer: ${(cause as Error).message}.`, {
      path,
      cause,
    });
  }
  const seg = manifest.tokenizer.specialTokens.seg;
  const id = tokenizer.token_to_id(seg.content);
  if (id !== seg.id) {
    throw new SegEarthError(
      'MODEL_INVALID',
      `The tokenizer maps ${seg.content} to ${String(id)}, but the manifest says ${seg.id}.`,
      { path, hint: 'The tokenizer and the graphs come from different checkpoints: re-export the bundle.' },
    );
  }
  return tokenizer;
}
