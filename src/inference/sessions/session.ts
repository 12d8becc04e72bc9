/**
 * @module inference/sessions/session
 * The only place where onnxruntime sessions are created and run (transformers.js' `createInferenceSession` /
 * `runInferenceSession` split). A `GraphSession` checks at load time that the graph's inputs and outputs are
 * the ones its manifest entry declares, counts its runs (the cache tests and the benchmark read them), times
 * them, and turns onnxruntime failures into `SegEarthError`s.
 */
import { join } from 'node:path';
import { ort } from '../providers/onnxruntime.js';
import { SegEarthError } from '../../shared/errors.js';
import type { GraphName, GraphSpec } from '../bundle/manifest.js';
import { sessionOptions, spinFor, type ExecutionProvider, type ThreadSettings } from '../providers/executionProvider.js';

export type Feeds = Record<string, ort.Tensor>;
export type Fetches = Record<string, ort.Tensor>;

export class GraphSession {
  /** Completed runs of this graph since load. */
  runs = 0;
  /** Total milliseconds spent in `run`. */
  totalMs = 0;
  /** Durations of the most recent runs (ms, oldest first; at most 64) — for benchmarks and logs. */
  readonly recentMs: number[] = [];

  private constructor(
    readonly name: GraphName,
    readonly spec: GraphSpec,
    private readonly session: ort.InferenceSession,
  ) {}

  static async create(
    bundleDir: string,
    name: GraphName,
    spec: GraphSpec,
    provider: ExecutionProvider,
    threads: ThreadSettings,
  ): Promise<GraphSession> {
    const path = join(bundleDir, spec.file);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(path, sessionOptions(provider, threads, spinFor(name)));
    } catch (cause) {
      const first = ((cause as Error).message ?? String(cause)).split('\n')[0];
      throw new SegEarthError('MODEL_INVALID', `Cannot load the ${name} graph (${spec.file}): ${first}`, {
        path,
        hint: 'The ONNX file is corrupt or incomplete: re-install the model bundle.',
        cause,
      });
    }
    const problems = compareNames('input', spec.inputs.map((t) => t.name), session.inputNames).concat(
      compareNames('output', spec.outputs.map((t) => t.name), session.outputNames),
    );
    if (problems.length > 0) {
      await session.release();
      throw new SegEarthError('MODEL_INVALID', `The ${name} graph does not match the manifest: ${problems.join('; ')}.`, {
        path,
        hint: 'The graph and manifest.json come from different exports: re-export the model bundle.',
      });
    }
    return new GraphSession(name, spec, session);
  }

  /** Runs the graph, fetching `outputs` (default: all). */
  async run(feeds: Feeds, outputs?: readonly string[]): Promise<Fetches> {
    const t0 = performance.now();
    try {
      const result = outputs ? await this.session.run(feeds, outputs) : await this.session.run(feeds);
      return result as Fetches;
    } catch (cause) {
      const first = ((cause as Error).message ?? String(cause)).split('\n')[0];
      throw new SegEarthError('INFERENCE_FAILED', `The ${this.name} graph failed: ${first}`, {
        hint: 'Try --ep cpu; if it persists, the model bundle may be corrupt.',
        cause,
      });
    } finally {
      const ms = performance.now() - t0;
      this.runs++;
      this.totalMs += ms;
      this.recentMs.push(ms);
      if (this.recentMs.length > 64) this.recentMs.shift();
    }
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

function compareNames(kind: string, declared: string[], actual: readonly string[]): string[] {
  const have = new Set(actual);
  const want = new Set(declared);
  const missing = declared.filter((n) => !have.has(n));
  const extra = actual.filter((n) => !want.has(n));
  const out: string[] = [];
  if (missing.length) out.push(`${kind}s ${missing.join(', ')} declared but absent`);
  if (extra.length) out.push(`${kind}s ${extra.join(', ')} present but not declared`);
  return out;
}

/** float32 tensor helper. */
export function f32Tensor(data: Float32Array, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}

/** int64 tensor from JS numbers. */
export function i64Tensor(values: readonly number[], dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);
}

/** The float32 data of an output, or `INFERENCE_FAILED` when it is missing or has another type. */
export function f32Output(fetches: Fetches, name: string): Float32Array {
  const t = fetches[name];
  if (!t || !(t.data instanceof Float32Array)) {
    throw new SegEarthError('INFERENCE_FAILED', `Graph output ${name} is missing or not float32.`);
  }
  return t.data;
}
