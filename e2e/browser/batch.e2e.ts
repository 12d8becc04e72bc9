/**
 * Browser end-to-end of the batch panel with the real inference runtime and the tiny test bundle: choose
 * the scenes folder through the server's folder picker, type a question and an output folder, start, see
 * overall and per-scene progress, and get the per-scene table — 2 scenes done and 1 corrupt scene failed
 * with its error — with merged.gpkg on disk holding exactly the summary's polygons (read back with OGR's
 * own command-line tools).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ogrReadLayers } from '../../test/support/ogrRead.js';
import { ensureTinyBundle } from '../../test/support/tinyBundle.js';
import { makeRiverScene } from '../support/riverScene.js';
import { screenshot, startSession, waitForEvent, type Session } from '../support/browser.js';

const SIZE = 384;

/** A small UTM scene with a river and a field (the same kind of picture as the ask e2e). */
function makeScene(path: string, x0: number): void {
  makeRiverScene(path, { size: SIZE, originX: x0, centreY: 150, amplitude: 40, period: 45, phase: x0 / 10, halfWidth: 14, fieldX: 240, fieldY: 230 });
}

let dir: string;
let session: Session;

beforeAll(async () => {
  const bundle = await ensureTinyBundle();
  dir = mkdtempSync(join(tmpdir(), 'segearth-e2e-batch-'));
  mkdirSync(join(dir, 'scenes'));
  makeScene(join(dir, 'scenes', 'a_river.tif'), 300000);
  makeScene(join(dir, 'scenes', 'b_river.tif'), 301000);
  writeFileSync(join(dir, 'scenes', 'c_corrupt.tif'), 'this is not a GeoTIFF\n');
  session = await startSession({ roots: [dir], defaultModelDir: bundle });
});

afterAll(async () => {
  await session?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('batch processing a folder in the browser (tiny test bundle)', () => {
  it('runs 3 scenes, shows progress and a table of 2 done + 1 failed, and writes merged.gpkg', async () => {
    const { page } = session;
    // A scene on the map behind the panel, as an analyst would have.
    await page.getByTestId('open-raster').click();
    await page.getByTestId('file-picker').waitFor();
    await page.getByRole('button', { name: /scenes/ }).click();
    await page.getByTestId('picker-file').filter({ hasText: 'a_river.tif' }).click();
    await waitForEvent(page, 'layer-opened');

    await page.getByTestId('open-batch').click();
    await page.getByTestId('batch-panel').waitFor();
    // Scenes folder through the server's folder picker.
    await page.getByTestId('batch-input-browse').click();
    await page.getByTestId('folder-picker').waitFor();
    await page.getByTestId('folder-entry').filter({ hasText: 'scenes' }).click();
    await page.getByTestId('folder-picker-dir').filter({ hasText: 'scenes' }).waitFor();
    await expect(page.getByTestId('folder-picker').innerText()).resolves.toContain('3 rasters directly in this folder');
    await page.getByTestId('folder-choose').click();
    const input = await page.getByTestId('batch-input').inputValue();
    expect(input.endsWith('/scenes')).toBe(true);

    await page.getByTestId('batch-question').first().fill('where could flood water spread?');
    const out = join(dir, 'results');
    await page.getByTestId('batch-output').fill(out);
    await page.getByTestId('batch-threshold').fill('0.3');
    await page.getByTestId('batch-start').click();
    await waitForEvent(page, 'batch-started');
    await waitForEvent(page, 'batch-progress');
    await page.getByTestId('batch-run').waitFor();
    await expect(page.getByTestId('batch-counts').innerText()).resolves.toMatch(/\d+ \/ 3 items/);
    // Mid-run: one scene done, the next one being worked on.
    await page.getByTestId('batch-counts').filter({ hasText: '1 / 3 items' }).waitFor({ timeout: 60_000 });
    await page.getByTestId('batch-current').waitFor();
    await expect(page.getByTestId('batch-pause').isEnabled()).resolves.toBe(true);
    await screenshot(page, 'batch-running', true);

    // The rest of the app stays usable: a question asked in the question panel during the batch is answered
    // (it shares the model's worker with the batch, window by window).
    await page.getByTestId('question-input').fill('where are the bright areas?');
    await page.getByTestId('ask').click();
    await waitForEvent(page, 'result');
    const asked = await page.evaluate(() => window.SegEarthTestHooks!.state().results.map((r) => r.summary.question));
    expect(asked).toEqual(['where are the bright areas?']);

    await waitForEvent(page, 'batch-finished');
    await page.getByTestId('batch-table').waitFor();
    const rows = await page.getByTestId('batch-row').evaluateAll((trs) =>
      trs.map((tr) => ({ status: tr.getAttribute('data-status'), text: (tr as HTMLElement).innerText })),
    );
    expect(rows.map((r) => r.status)).toEqual(['done', 'done', 'failed']);
    expect(rows[2]!.text).toContain('c_corrupt.tif');
    expect(rows[2]!.text).toMatch(/not|cannot|corrupt|recogni/i);

    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { totals: { done: number; failed: number; polygons: number; totalAreaM2: number } };
    expect(summary.totals).toMatchObject({ done: 2, failed: 1 });
    const totals = await page.getByTestId('batch-totals').innerText();
    expect(totals).toContain('2 done, 1 failed');
    expect(totals).toContain(`${summary.totals.polygons.toLocaleString('en')} polygon`);
    await expect(page.getByTestId('batch-merged-path').innerText()).resolves.toBe(join(out, 'merged.gpkg'));

    // merged.gpkg read back with OGR: one layer for the question, exactly the summary's polygons.
    const layers = ogrReadLayers(join(out, 'merged.gpkg'));
    expect(layers).toHaveLength(1);
    expect(layers[0]!.featureCount).toBe(summary.totals.polygons);
    const sources = new Set(layers[0]!.features.map((f) => f.properties['source']));
    for (const s of sources) expect(['a_river.tif', 'b_river.tif']).toContain(s);

    // The workspace stayed usable: the raster is still open, and the panel can be closed.
    await screenshot(page, 'batch-panel', true);
    await page.getByRole('button', { name: 'Close the batch panel' }).click();
    await expect(page.getByTestId('batch-panel').count()).resolves.toBe(0);
  });

  it('refuses to start a new batch in the same output folder, and offers to resume it', async () => {
    const { page } = session;
    await page.getByTestId('open-batch').click();
    await page.getByTestId('batch-new').click();
    await page.getByTestId('batch-input').fill(join(dir, 'scenes'));
    // Other settings than the batch in that folder: resuming takes the folder's own (batch.json).
    await page.getByTestId('batch-question').first().fill('which fields are flooded?');
    await page.getByTestId('batch-output').fill(join(dir, 'results'));
    await page.getByTestId('batch-start').click();
    await waitForEvent(page, 'batch-error');
    const text = await page.getByTestId('batch-error').innerText();
    expect(text).toContain('already holds a batch');
    expect(text).toContain('Resume');
    // Resuming a finished batch retries only its failed scene, with the question it was started with.
    await page.getByRole('button', { name: 'Resume that batch with its settings' }).click();
    await waitForEvent(page, 'batch-finished', 2);
    await page.getByTestId('batch-table').waitFor();
    await expect(page.getByTestId('batch-totals').innerText()).resolves.toContain('2 done, 1 failed');
    await expect(page.getByTestId('batch-run').innerText()).resolves.toContain('where could flood water spread?');
    const plan = JSON.parse(readFileSync(join(dir, 'results', 'batch.json'), 'utf8')) as { options: { questions: string[]; threshold: number } };
    expect(plan.options).toMatchObject({ questions: ['where could flood water spread?'], threshold: 0.3 });
  });
});

