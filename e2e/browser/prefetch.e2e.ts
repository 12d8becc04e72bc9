/**
 * Browser end-to-end (server mode, Debian's Chromium, tiny bundle): the question's view is read before the
 * question. With the model loaded, opening a scene reads its view (the status bar says so, then that it is
 * ready; the model's image graph has run once: the backend's graph run counters, read in this process); the
 * analyst then types a question — nothing is read again — and Ask answers from the cached view: no image
 * graph run, only the question's tokens and the head. With the "current view" AOI tool (whose area moves with
 * the map) nothing is read on opening; typing reads the view, and Ask again runs no image graph.
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

describe('the question’s view is read before the question', () => {
  it('opening a scene reads its view; typing reads nothing more; Ask then answers from the cached view', async () => {
    const { page } = session;
    // The model loads and warms up at start; the status bar says so until it is done.
    await page.getByTestId('model-load').waitFor({ state: 'detached', timeout: 120_000 });
    const s0 = await stats();

    await openThroughPicker(page, 'river_utm31.tif');
    await waitForEvent(page, 'prefetch-read');
    await page.getByTestId('view-prefetch').filter({ hasText: 'View read: ready for your question' }).waitFor();
    const s1 = await stats();
    // The image graph and the LLM over the view's tokens ran, once; no question yet.
    expect(s1.image.runs - s0.image.runs).toBe(1);
    expect(s1.head.runs - s0.head.runs).toBe(0);
    await screenshot(page, 'view-prefetched');

    await page.getByTestId('question-input').click();
    await page.getByTestId('question-input').pressSequentially('where could flood water spread?', { delay: 40 });
    expect(await eventCount(page, 'prefetch-started')).toBe(1);
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

  it('with the "current view" tool, typing the question reads the view; Ask then answers from the cached view', async () => {
    const { page } = session;
    await page.getByTestId('aoi-view').check();
    // Longer than the wait before a known view is read (useViewPrefetch's SETTLE_MS).
    await new Promise((r) => setTimeout(r, 1500));
    const started = await eventCount(page, 'prefetch-started');
    const s0 = await stats();
    // The map's view moved: the view a question would now be about has not been read.
    const box = (await page.getByTestId('map').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -200);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await eventCount(page, 'prefetch-started')).toBe(started);

    await page.getByTestId('question-input').fill('');
    await page.getByTestId('question-input').click();
    await page.getByTestId('question-input').pressSequentially('where could flood water spread?', { delay: 40 });
    await waitForEvent(page, 'prefetch-read');
    expect(await eventCount(page, 'prefetch-started')).toBe(started + 1);
    const s1 = await stats();
    expect(s1.image.runs - s0.image.runs).toBe(1);
    await page.getByTestId('ask').click();
    await waitForEvent(page, 'result', 2);
    expect((await stats()).image.runs).toBe(s1.image.runs);
  });
});
