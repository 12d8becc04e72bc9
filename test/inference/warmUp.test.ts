import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SegEarthPipeline, WARM_UP_RUNS, type RgbWindow } from '../../src/inference/pipeline/pipeline.js';
import { InferenceWorker } from '../../src/inference/worker/client.js';
import { ensureTinyBundle } from '../support/tinyBundle.js';

let tiny: string;
let reference: SegEarthPipeline;
const workers: InferenceWorker[] = [];

beforeAll(async () => {
  tiny = await ensureTinyBundle();
  reference = await SegEarthPipeline.create(tiny, { ep: 'cpu' });
}, 600_000);
afterAll(async () => {
  await reference?.dispose();
  await Promise.all(workers.map((w) => w.dispose()));
});

async function startWorker(): Promise<InferenceWorker> {
  const w = await InferenceWorker.start({ modelDir: tiny, ep: 'cpu' });
  workers.push(w);
  return w;
}

function scene(size: number): () => Promise<RgbWindow> {
  const rgb = new Uint8Array(size * size * 3).map((_, i) => (i * 2654435761) >>> 24);
  return async () => ({ rgb: rgb.slice(), width: size, height: size });
}

describe('warming the model up after loading', () => {
  it('runs the first-question passes on a blank view without caching it, and changes no answer', async () => {
    const worker = await startWorker();
    const report = await worker.warmUp();
    expect(report).toMatchObject({ runs: WARM_UP_RUNS, interrupted: false });
    const { stats, cache } = await worker.stats();
    // Each pass: the image graph, the LLM over the view and over the question, the head.
    expect(stats.image.runs).toBe(WARM_UP_RUNS);
    expect(stats.llm.runs).toBe(2 * WARM_UP_RUNS);
    expect(stats.head.runs).toBe(WARM_UP_RUNS);
    expect(cache.views).toBe(0);
    const size = worker.model.inputSize;
    const question = 'where could flood water spread?';
    const warm = await worker.predict('scene', scene(size), question);
    const cold = await reference.predict(null, scene(size), question);
    expect(warm.cached).toBe(false);
    expect(warm.logits).toEqual(cold.logits);
  }, 600_000);

  it('stops as soon as a question arrives, and the question is answered next', async () => {
    const worker = await startWorker();
    const size = worker.model.inputSize;
    const warming = worker.warmUp();
    // As askScene asks: the question's check first, then its prediction.
    await worker.checkQuestion('which roofs could hold solar panels?');
    const answer = worker.predict('scene', scene(size), 'which roofs could hold solar panels?');
    const report = await warming;
    expect(report.interrupted).toBe(true);
    expect(report.runs).toBeLessThan(WARM_UP_RUNS);
    const expected = await reference.predict(null, scene(size), 'which roofs could hold solar panels?');
    expect((await answer).logits).toEqual(expected.logits);
    const { stats } = await worker.stats();
    expect(stats.image.runs).toBeLessThanOrEqual(WARM_UP_RUNS); // at most one warm-up image run, then the question's
  }, 600_000);
});
