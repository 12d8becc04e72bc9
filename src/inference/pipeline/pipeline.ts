/**
 * @module inference/pipeline/pipeline
 * `SegEarthPipeline`: a loaded model plus the per-view cache, turning an RGB window and a question into mask
 * logits in the window's own grid (processor → model → post-process, as in transformers.js pipelines).
 *
 * Views are cached in a byte-bounded LRU under a caller-chosen key (raster path, window, output size, band
 * mapping): a follow-up question on the same view only runs the question tokens through the LLM and the head.
 */
import { isSegEarthError } from '../../shared/errors.js';
import { ByteLru } from './lruCache.js';
import { SegEarthModel, throwIfAborted, type LoadOptions, type ViewState } from '../sessions/model.js';
import { letterbox, unletterbox, type Letterbox } from '../preprocessing/preprocess.js';

export interface PipelineOptions extends LoadOptions {
  /** Upper bound of the bytes kept by cached views (image features + KV). Default 1 GiB. */
  viewCacheBytes?: number;
}

/** An RGB window ready for the model: HWC uint8 plus its size. */
export interface RgbWindow {
  rgb: Uint8Array;
  width: number;
  height: number;
  /** 1 where the source has data (kept with the cached view, returned with every prediction). */
  valid?: Uint8Array;
}

export interface WindowPrediction {
  /** Mask logits of the model, `maskSize²`, in the letterboxed frame. */
  logits: Float32Array;
  maskSize: number;
  letterbox: Letterbox;
  /** Whether the view came from the cache (the image graph did not run). */
  cached: boolean;
  /** The window's valid mask (read grid), when the reader gave one. */
  valid: Uint8Array | undefined;
}

type CachedView = ViewState & { letterbox: Letterbox; valid: Uint8Array | undefined };

/** What `warmUp` did: its time, the complete question passes it ran, and whether a real question cut it short. */
export interface WarmUpReport {
  ms: number;
  runs: number;
  interrupted: boolean;
}

/**
 * Question passes (image graph, LLM, head) that `warmUp` runs: the first pass after loading allocates
 * onnxruntime's arena, the second its memory pattern, and both write to fresh memory — the slow part where a
 * first touch costs a page fault (a host fault in a VM); from the third on a pass runs at its steady speed.
 */
export const WARM_UP_RUNS = 2;
const WARM_UP_QUESTION = 'Where is the water?';

/** What the scene strategies need from a model: in-process (`SegEarthPipeline`) or in the worker (`InferenceWorker`). */
export interface WindowPredictor {
  readonly info: PredictorInfo;
  /** Rejects an empty, overly long or too-many-tokens question with `BAD_ARGUMENT`. */
  checkQuestion(question: string): Promise<void>;
  /** See `SegEarthPipeline.predict`. */
  predict(key: string | null, read: () => Promise<RgbWindow>, question: string, signal?: AbortSignal): Promise<WindowPrediction>;
  /** See `SegEarthPipeline.prefetch`. */
  prefetch(key: string, read: () => Promise<RgbWindow>, signal?: AbortSignal): Promise<PrefetchedView>;
}

/** What `prefetch` did: whether the view was already cached (nothing ran), and its time. */
export interface PrefetchedView {
  cached: boolean;
  ms: number;
}

export interface PredictorInfo {
  modelId: string;
  /** sha256 of the bundle's manifest.json. */
  bundleSha256: string;
  /** Side of the model's square input (1024). */
  inputSize: number;
}

export class SegEarthPipeline implements WindowPredictor {
  private readonly views: ByteLru<CachedView>;

  private constructor(
    readonly model: SegEarthModel,
    cacheBytes: number,
  ) {
    this.views = new ByteLru(cacheBytes);
  }

  static async create(modelDir: string, options: PipelineOptions = {}): Promise<SegEarthPipeline> {
    const model = await SegEarthModel.load(modelDir, options);
    return new SegEarthPipeline(model, options.viewCacheBytes ?? 2 ** 30);
  }

  get info(): PredictorInfo {
    return { modelId: this.model.manifest.id, bundleSha256: this.model.bundle.hash, inputSize: this.model.manifest.image.size };
  }

  async checkQuestion(question: string): Promise<void> {
    this.model.prompt.referIds(question);
  }

  /** Whether a view is cached (no image graph run needed). */
  hasView(key: string): boolean {
    return this.views.get(key) !== undefined;
  }

  /**
   * Logits for `question` on a window. `key` identifies the view for the cache (null: do not cache, e.g.
   * one-off tiles); `read` is only called when the view is not cached.
   */
  async predict(
    key: string | null,
    read: () => Promise<RgbWindow>,
    question: string,
    signal?: AbortSignal,
  ): Promise<WindowPrediction> {
    // Validate the question before any expensive work.
    this.model.prompt.referIds(question);
    const { view, cached } = await this.view(key, read, signal);
    throwIfAborted(signal);
    const logits = await this.model.ask(view, question, signal);
    return { logits, maskSize: this.model.manifest.architecture.maskSize, letterbox: view.letterbox, cached, valid: view.valid };
  }

  /**
   * The question-independent part of `predict` ahead of the question: the view under `key` is read and encoded
   * (image graph + LLM over the image tokens and instruction text) into the cache, so that a `predict` with
   * the same key only runs the question tokens and the head. Nothing runs when it is cached already. What it
   * holds is a cached view like any other (the cache's byte bound and LRU apply).
   */
  async prefetch(key: string, read: () => Promise<RgbWindow>, signal?: AbortSignal): Promise<PrefetchedView> {
    const t0 = performance.now();
    const { cached } = await this.view(key, read, signal);
    return { cached, ms: performance.now() - t0 };
  }

  /** The cached view under `key`, else the window read and encoded (and cached, when `key` is not null). */
  private async view(key: string | null, read: () => Promise<RgbWindow>, signal?: AbortSignal): Promise<{ view: CachedView; cached: boolean }> {
    const hit = key === null ? undefined : this.views.get(key);
    if (hit) return { view: hit, cached: true };
    const window = await read();
    throwIfAborted(signal);
    const { pixelValues, letterbox: lb } = letterbox(window.rgb, window.width, window.height, {
      size: this.model.manifest.image.size,
      normalize: { mean: this.model.manifest.image.mean, std: this.model.manifest.image.std },
    });
    const state = await this.model.encodeView(pixelValues, signal);
    const view: CachedView = { ...state, bytes: state.bytes + (window.valid?.byteLength ?? 0), letterbox: lb, valid: window.valid };
    if (key !== null) this.views.set(key, view);
    return { view, cached: false };
  }

  /**
   * Runs the question passes of a first question on a blank (uncached) view `WARM_UP_RUNS` times, so that the
   * analyst's first question does not pay for the slow first passes (see `WARM_UP_RUNS`). `signal` stops it between two
   * graph runs — the worker aborts it as soon as a real question arrives, which then waits at most for the
   * graph run in progress.
   */
  async warmUp(signal?: AbortSignal): Promise<WarmUpReport> {
    const size = this.model.manifest.image.size;
    const grey = new Uint8Array(size * size * 3).fill(128);
    const t0 = performance.now();
    let runs = 0;
    for (; runs < WARM_UP_RUNS && !signal?.aborted; runs++) {
      try {
        await this.predict(null, async () => ({ rgb: grey, width: size, height: size }), WARM_UP_QUESTION, signal);
      } catch (err) {
        if (isSegEarthError(err, 'CANCELLED')) break;
        throw err;
      }
    }
    return { ms: performance.now() - t0, runs, interrupted: runs < WARM_UP_RUNS };
  }

  /** Logits of a prediction resampled onto a `width × height` grid covering the same window. */
  static toGrid(prediction: WindowPrediction, width: number, height: number): Float32Array {
    return unletterbox(prediction.logits, prediction.maskSize, { ...prediction.letterbox, srcWidth: width, srcHeight: height });
  }

  /** Drops every cached view (frees their memory). */
  clearViews(): void {
    this.views.clear();
  }

  get cacheInfo(): { views: number; bytes: number; evictions: number } {
    return { views: this.views.size, bytes: this.views.bytes, evictions: this.views.evictions };
  }

  async dispose(): Promise<void> {
    this.views.clear();
    await this.model.dispose();
  }
}
