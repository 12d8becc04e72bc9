/**
 * @module inference/sessions/model
 * A loaded SegEarth-R1 bundle: three sessions (image, llm, head), the tokenizer, the embedding table and the
 * system-prefix KV cache, with the three cache levels of the runtime:
 *
 * 1. per model: the system prefix KV (shipped in the bundle, loaded once);
 * 2. per view: the image graph outputs and the KV of image tokens + instruction text (`encodeView`);
 * 3. per question: only the question tokens + `[SEG]` go through the LLM, then the head (`ask`).
 *
 * Attention is causal, so splitting the prompt this way gives exactly the single-pass result. This class holds
 * no cache policy itself: `pipeline.ts` keeps views in an LRU.
 */
import { ort } from '../providers/onnxruntime.js';
import { SegEarthError } from '../../shared/errors.js';
import { SafetensorsFile } from '../bundle/safetensors.js';
import { kvName, type Manifest } from '../bundle/manifest.js';
import { loadBundle, type BundleHandle } from '../bundle/loadBundle.js';
import { EmbeddingTable } from './embeddings.js';
import { selectExecutionProvider, type EpChoice, type EpRequest, type ThreadSettings } from '../providers/executionProvider.js';
import { precisionAdvice } from '../providers/precisionAdvice.js';
import { PromptBuilder, loadTokenizer } from '../preprocessing/prompt.js';
import { GraphSession, f32Output, f32Tensor, i64Tensor, type Fetches } from './session.js';
import type { Sized } from '../pipeline/lruCache.js';

/** Key/value cache of every layer, [1, kvHeads, length, headDim] each. */
export interface KvCache {
  length: number;
  keys: ort.Tensor[];
  values: ort.Tensor[];
}

/** Everything a question needs from one view. */
export interface ViewState extends Sized {
  /** Image graph outputs used by the head: res5, mask_features, ms0, ms1, ms2. */
  image: Record<string, ort.Tensor>;
  /** KV cache after system prefix + image tokens + instruction text. */
  kv: KvCache;
}

/** The image graph outputs the head consumes. */
const HEAD_IMAGE_INPUTS = ['res5', 'mask_features', 'ms0', 'ms1', 'ms2'] as const;

export interface LoadOptions {
  ep?: EpRequest;
  threads?: Partial<ThreadSettings>;
  /** An already made choice (the worker selects once and reuses it). */
  epChoice?: EpChoice;
}

/** Counters of graph runs, for tests ("follow-up questions do not re-run the image graph") and benchmarks. */
export interface RunStats {
  image: { runs: number; ms: number };
  llm: { runs: number; ms: number };
  head: { runs: number; ms: number };
}

function tensorBytes(t: ort.Tensor): number {
  return t.size * (t.type === 'float32' || t.type === 'int32' ? 4 : t.type === 'int64' ? 8 : t.type === 'float16' ? 2 : 1);
}

function requireNames(manifest: Manifest, graph: 'image' | 'llm' | 'head', kind: 'inputs' | 'outputs', names: string[]): void {
  const declared = new Set(manifest.graphs[graph][kind].map((t) => t.name));
  const missing = names.filter((n) => !declared.has(n));
  if (missing.length > 0) {
    throw new SegEarthError('MODEL_INVALID', `The ${graph} graph does not declare ${kind} ${missing.join(', ')}.`, {
      hint: 'This bundle was made for another runtime layout: re-export it with tools/export.',
    });
  }
}

export class SegEarthModel {
  private constructor(
    readonly bundle: BundleHandle,
    readonly ep: EpChoice,
    readonly prompt: PromptBuilder,
    private readonly embeddings: EmbeddingTable,
    private readonly prefix: KvCache,
    private readonly image: GraphSession,
    private readonly llm: GraphSession,
    private readonly head: GraphSession,
  ) {}

  static async load(bundleDir: string, options: LoadOptions = {}): Promise<SegEarthModel> {
    const bundle = await loadBundle(bundleDir);
    const { manifest, dir } = bundle;
    const layers = manifest.architecture.numLayers;
    const k = manifest.kvCache;
    requireNames(manifest, 'image', 'inputs', ['pixel_values']);
    requireNames(manifest, 'image', 'outputs', ['image_tokens', ...HEAD_IMAGE_INPUTS]);
    const pastNames = Array.from({ length: layers }, (_, i) => [kvName(k.pastKey, i), kvName(k.pastValue, i)]).flat();
    const presentNames = Array.from({ length: layers }, (_, i) => [kvName(k.presentKey, i), kvName(k.presentValue, i)]).flat();
    requireNames(manifest, 'llm', 'inputs', ['inputs_embeds', 'position_ids', ...pastNames]);
    requireNames(manifest, 'llm', 'outputs', ['last_hidden_state', ...presentNames]);
    requireNames(manifest, 'head', 'inputs', ['refer_hidden', ...HEAD_IMAGE_INPUTS]);
    requireNames(manifest, 'head', 'outputs', ['mask_logits_256']);
    if (k.dtype !== 'float32') {
      throw new SegEarthError('MODEL_INVALID', `KV cache dtype ${k.dtype} is not supported by this runtime yet (float32 only).`, {
        hint: 'Use an fp32 export of the model.',
      });
    }

    const chosen = options.epChoice ?? (await selectExecutionProvider({ request: options.ep ?? 'auto', threads: options.threads ?? {} }));
    const notes = precisionAdvice(manifest.graphs, chosen.provider);
    const ep: EpChoice = notes.length > 0 ? { ...chosen, notes: [...(chosen.notes ?? []), ...notes] } : chosen;
    const tokenizer = await loadTokenizer(dir, manifest);
    const prompt = new PromptBuilder(tokenizer, manifest);
    const prefix = await loadPrefix(dir, manifest);
    const sessions: GraphSession[] = [];
    try {
      for (const name of ['image', 'llm', 'head'] as const) {
        sessions.push(await GraphSession.create(dir, name, manifest.graphs[name], ep.provider, ep.threads));
      }
    } catch (err) {
      await Promise.all(sessions.map((s) => s.release()));
      throw err;
    }
    const embeddings = await EmbeddingTable.open(dir, manifest);
    const [image, llm, head] = sessions as [GraphSession, GraphSession, GraphSession];
    return new SegEarthModel(bundle, ep, prompt, embeddings, prefix, image, llm, head);
  }

  get manifest(): Manifest {
    return this.bundle.manifest;
  }

  get stats(): RunStats {
    return {
      image: { runs: this.image.runs, ms: this.image.totalMs },
      llm: { runs: this.llm.runs, ms: this.llm.totalMs },
      head: { runs: this.head.runs, ms: this.head.totalMs },
    };
  }

  /** Durations (ms) of the most recent runs of a graph, oldest first. */
  recentRuns(graph: 'image' | 'llm' | 'head'): readonly number[] {
    return this[graph].recentMs;
  }

  /** Image graph + LLM over image tokens and instruction text. `pixelValues` is float32[1,3,S,S]. */
  async encodeView(pixelValues: Float32Array, signal?: AbortSignal): Promise<ViewState> {
    const size = this.manifest.image.size;
    const out = await this.image.run({ pixel_values: f32Tensor(pixelValues, [1, 3, size, size]) }, [
      'image_tokens',
      ...HEAD_IMAGE_INPUTS,
    ]);
    throwIfAborted(signal);
    const imageTokens = f32Output(out, 'image_tokens');
    const H = this.manifest.architecture.hiddenSize;
    const parts: Float32Array[] = [];
    for (const seg of this.prompt.plan.viewSegments) {
      parts.push(seg.kind === 'image' ? imageTokens : await this.embeddings.rows(seg.ids));
    }
    const embeds = concat(parts);
    const T = embeds.length / H;
    const { kv } = await this.runLlm(embeds, this.prefix);
    const image: Record<string, ort.Tensor> = {};
    for (const name of HEAD_IMAGE_INPUTS) image[name] = out[name]!;
    const bytes =
      Object.values(image).reduce((n, t) => n + tensorBytes(t), 0) +
      [...kv.keys, ...kv.values].reduce((n, t) => n + tensorBytes(t), 0);
    if (T !== this.prompt.plan.viewLength) throw new SegEarthError('INFERENCE_FAILED', 'view token count mismatch');
    return { image, kv, bytes };
  }

  /** Question tokens + [SEG] through the LLM on top of the view's cache, then the head → mask logits (maskSize²). */
  async ask(view: ViewState, question: string, signal?: AbortSignal): Promise<Float32Array> {
    const hidden = await this.referHidden(view, question);
    throwIfAborted(signal);
    const H = this.manifest.architecture.hiddenSize;
    const out = await this.head.run({ refer_hidden: f32Tensor(hidden, [1, hidden.length / H, H]), ...view.image }, [
      'mask_logits_256',
    ]);
    const logits = f32Output(out, 'mask_logits_256');
    const m = this.manifest.architecture.maskSize;
    if (logits.length !== m * m) throw new SegEarthError('INFERENCE_FAILED', `mask logits have ${logits.length} values, expected ${m}x${m}`);
    return logits;
  }

  /** Last hidden states of the refer chunk (question tokens + [SEG]), [L, H] row-major, using the view's cache. */
  async referHidden(view: ViewState, question: string): Promise<Float32Array> {
    const ids = this.prompt.referIds(question);
    // Only the hidden states: a question never extends the view's cache, so its present key/values (the whole
    // cache again, ~120 MB at 24 layers) are not fetched.
    const { hidden } = await this.runLlm(await this.embeddings.rows(ids), view.kv, { withCache: false });
    return hidden;
  }

  /**
   * Reference path without any cache: the whole prompt (system prefix, image tokens, instruction, question,
   * [SEG]) in one LLM pass from position 0; returns the refer rows. Used to prove the cached path exact.
   */
  async referHiddenSinglePass(pixelValues: Float32Array, question: string): Promise<Float32Array> {
    const size = this.manifest.image.size;
    const out = await this.image.run({ pixel_values: f32Tensor(pixelValues, [1, 3, size, size]) }, ['image_tokens']);
    const imageTokens = f32Output(out, 'image_tokens');
    const parts: Float32Array[] = [await this.embeddings.rows(this.prompt.plan.prefixIds)];
    for (const seg of this.prompt.plan.viewSegments) parts.push(seg.kind === 'image' ? imageTokens : await this.embeddings.rows(seg.ids));
    const ids = this.prompt.referIds(question);
    parts.push(await this.embeddings.rows(ids));
    const { numLayers, numKeyValueHeads, headDim, hiddenSize: H } = this.manifest.architecture;
    const empty = (): ort.Tensor => f32Tensor(new Float32Array(0), [1, numKeyValueHeads, 0, headDim]);
    const none: KvCache = { length: 0, keys: Array.from({ length: numLayers }, empty), values: Array.from({ length: numLayers }, empty) };
    const { hidden } = await this.runLlm(concat(parts), none, { withCache: false });
    return hidden.slice(hidden.length - ids.length * H);
  }

  private async runLlm(embeds: Float32Array, past: KvCache): Promise<{ hidden: Float32Array; kv: KvCache }>;
  private async runLlm(embeds: Float32Array, past: KvCache, opts: { withCache: false }): Promise<{ hidden: Float32Array }>;
  private async runLlm(
    embeds: Float32Array,
    past: KvCache,
    opts: { withCache: boolean } = { withCache: true },
  ): Promise<{ hidden: Float32Array; kv?: KvCache }> {
    const { hiddenSize: H, numLayers } = this.manifest.architecture;
    const k = this.manifest.kvCache;
    const T = embeds.length / H;
    const feeds: Record<string, ort.Tensor> = {
      inputs_embeds: f32Tensor(embeds, [1, T, H]),
      position_ids: i64Tensor(
        Array.from({ length: T }, (_, i) => past.length + i),
        [1, T],
      ),
    };
    for (let i = 0; i < numLayers; i++) {
      feeds[kvName(k.pastKey, i)] = past.keys[i]!;
      feeds[kvName(k.pastValue, i)] = past.values[i]!;
    }
    if (!opts.withCache) return { hidden: f32Output(await this.llm.run(feeds, ['last_hidden_state']), 'last_hidden_state') };
    const out: Fetches = await this.llm.run(feeds);
    const keys: ort.Tensor[] = [];
    const values: ort.Tensor[] = [];
    for (let i = 0; i < numLayers; i++) {
      keys.push(out[kvName(k.presentKey, i)]!);
      values.push(out[kvName(k.presentValue, i)]!);
    }
    return { hidden: f32Output(out, 'last_hidden_state'), kv: { length: past.length + T, keys, values } };
  }

  async dispose(): Promise<void> {
    await Promise.all([this.image.release(), this.llm.release(), this.head.release(), this.embeddings.close()]);
  }
}

async function loadPrefix(dir: string, manifest: Manifest): Promise<KvCache> {
  const file = await SafetensorsFile.load(`${dir}/${manifest.prefixCache.file}`);
  const { numLayers, numKeyValueHeads, headDim } = manifest.architecture;
  const length = manifest.prefixCache.length;
  const k = manifest.kvCache;
  const read = (name: string): ort.Tensor => {
    const info = file.info(name);
    const want = [1, numKeyValueHeads, length, headDim];
    if (info.shape.join(',') !== want.join(',')) {
      throw new SegEarthError('MODEL_INVALID', `Prefix cache tensor ${name} has shape [${info.shape.join(',')}], expected [${want.join(',')}].`, {
        hint: 'Re-export the model bundle.',
      });
    }
    return f32Tensor(file.float32(name), want);
  };
  const keys: ort.Tensor[] = [];
  const values: ort.Tensor[] = [];
  for (let i = 0; i < numLayers; i++) {
    keys.push(read(kvName(k.pastKey, i)));
    values.push(read(kvName(k.pastValue, i)));
  }
  return { length, keys, values };
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Throws `CANCELLED` when the signal fired (checked between graph runs). */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new SegEarthError('CANCELLED', 'Cancelled.', { hint: 'The request was cancelled; nothing was written.' });
}
