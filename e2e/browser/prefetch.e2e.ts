/**
 * Browser end-to-end (server mode, Debian's Chromium, tiny bundle): typing a question reads its view ahead of
 * it. With a scene open and the model loaded, the analyst clicks into the question box and types at a
 * human pace; the status bar says the view is being read, then that it is ready, and the model's image graph
 * has run once (the backend's graph run counters, read in this process); pressing Ask then answers from
 * the cached view — no image graph run, only the question's tokens and the head — and draws the polygons.
 * Typing on about the same view reads nothing again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelStore } from '../../src/inference/models/ModelStore.js';
import type { RunStats } from '../../src/inference/sessions/model.js';
import { createRuntimeAdapter } from '../../src/main/services/runtimeAdapter.js';
import type { InferenceBackend } from '../../src/main/services/backends.js';
import { ensureTinyBundle } from '../../test/support/tinyBundle.js';
import { makeRiverScene } from '../support/riverScene.js';
import { eventCount, openThroughPicker, screenshot, startSession, waitForEvent, type Session } from '../support/browser.js';

const settings = { modelDir: null, executionProvider: 'auto' };
let dir: string;
let session: Session;
let runtime: InferenceBackend;

beforeAll(async () => {
  const bundle = await ensureTinyBundle();
  dir = mkdtempSync(join(tmpdir(), 'segearth-e2e-prefetch-'));
  makeRiverScene(join(dir, 'river_utm31.tif'), { size: 768, originX: 300000, centreY: 300, amplitude: 80, period: 90, phase: 0, halfWidth: 25, fieldX: 480, fieldY: 450 });
  runtime = createRuntimeAdapter({ store: new ModelStore(), defaultModelDir: bundle });
  session = await startSession({ roots: [dir], runtime });
});

afterAll(async () => {
  await session?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const stats = async (): Promise<RunStats> => (await runtime.graphStats!(settings))!;

describe('the question’s view is read while the analyst types', () => {
  it('typing the question reads the view; Ask then answers from the cached view', async () => {
    const { page } = session;
    await openThroughPicker(page, 'river_utm31.tif');
    // The model loads and warms up at start; the status bar says so until it is done.
    await page.getByTestId('model-load').waitFor({ state: 'detached', timeout: 120_000 });
    const s0 = await stats();

    await page.getByTestId('question-input').click();
    await page.getByTestId('question-input').pressSequentially('where could flood water spread?', { delay: 40 });
    await waitForEvent(page, 'prefetch-read');
    await page.getByTestId('view-prefetch').filter({ hasText: 'View read: ready for your question' }).waitFor();
    expect(await eventCount(page, 'prefetch-started')).toBe(1);
    const s1 = await stats();
    // The image graph and the LLM over the view's tokens ran, once; no question yet.
    expect(s1.image.runs - s0.image.runs).toBe(1);
    expect(s1.head.runs - s0.head.runs).toBe(0);
    await screenshot(page, 'view-prefetched');

    await page.getByTestId('ask').click();
    await waitForEvent(page, 'result');
    const s2 = await stats();
    expect(s2.image.runs - s1.image.runs).toBe(0);
    expect(s2.llm.runs - s1.llm.runs).toBe(1);
    expect(s2.head.runs - s1.head.runs).toBe(1);
    const result = await page.evaluate(() => window.SegEarthTestHooks!.state().results.at(-1)!.summary);
    expect(await page.evaluate((id) => id in (window.SegEarthTestHooks!.map().results as Record<string, unknown>), result.id)).toBe(true);
    expect(await page.getByTestId('view-prefetch').count()).toBe(0);

    // A follow-up about the same view: nothing is read again (the view is in the cache).
    await page.getByTestId('question-input').fill('');
    await page.getByTestId('question-input').pressSequentially('which fields could be irrigated?', { delay: 40 });
    await waitForEvent(page, 'prefetch-cached');
    expect((await stats()).image.runs).toBe(s2.image.runs);
  });
});
