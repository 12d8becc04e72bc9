/**
 * The Get flow in the browser (server mode, Chromium), against a local server that speaks the model hub's API
 * (test/support/localHub.ts) serving a checkpoint made from the official-key fixtures, with graph templates at
 * the fixtures' sizes as the app's shipped templates. Empty model folders → the question panel's guide → one
 * click to the Get card (size from the hub, precision for this device, licence) → Get → download progress with
 * rate → Pause → the app restarted: "Paused at N %" → Resume → conversion → ready and the default (status bar)
 * → a question answered with it. Skips with a printed reason without ../shared or Debian's python3 with torch.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARD_NAMES, writeFixtureCheckpoint } from '../../test/support/checkpointFolder.js';
import { startLocalHub, type LocalHub } from '../../test/support/localHub.js';
import { paritySkipReason, python } from '../../test/support/parityFixtures.js';
import { ensureTinyBundle } from '../../test/support/tinyBundle.js';
import { openThroughPicker, screenshot, startSession, waitForEvent, type Session } from '../support/browser.js';
import { makeRiverScene } from '../support/riverScene.js';

const reason = paritySkipReason('getModel e2e', 'weights.safetensors');
const REPO = 'earth-insights/SegEarth-R1-EarthReason';
const ENV = ['SEGEARTH_MODELS_DIR', 'SEGEARTH_SHIPPED_MODELS_DIR', 'SEGEARTH_DATA_DIR', 'SEGEARTH_MODEL_DIR', 'HF_ENDPOINT', 'HF_HOME', 'HF_HUB_CACHE', 'HF_TOKEN'] as const;

let dir: string;
let hub: LocalHub;
let session: Session | null = null;
let checkpointBytes = 0;
const saved: Record<string, string | undefined> = {};

function card(s: Session) {
  return s.page.locator(`[data-testid="release-card"][data-repo="${REPO}"]`);
}

describe.skipIf(reason !== undefined)('Get SegEarth-R1 in the app (browser, local hub)', () => {
  beforeAll(async () => {
    const tiny = await ensureTinyBundle();
    dir = mkdtempSync(join(tmpdir(), 'segearth-e2e-get-'));
    const ckpt = join(dir, 'hub-repo', 'SegEarth-R1-EarthReason');
    await writeFixtureCheckpoint(ckpt, tiny);
    for (const name of readdirSync(ckpt)) checkpointBytes += statSync(join(ckpt, name)).size;
    mkdirSync(join(dir, 'models'));
    mkdirSync(join(dir, 'shipped', 'graph-templates'), { recursive: true });
    await python(['-m', 'tools.export.template', '-o', join(dir, 'shipped', 'graph-templates', 'cpu'), '--profile', 'cpu', '--model-config', join(tiny, 'config.json'), '--threads', '1']);
    hub = await startLocalHub({ [REPO]: { dir: ckpt }, 'earth-insights/SegEarth-R1-RRSIS-D': { dir: ckpt } });
    // The first shard stops after 1 MiB and the connection stays open: Pause lands mid-download.
    hub.stallNext(SHARD_NAMES[0], 1 << 20);
    for (const k of ENV) saved[k] = process.env[k];
    process.env.SEGEARTH_MODELS_DIR = join(dir, 'models');
    process.env.SEGEARTH_SHIPPED_MODELS_DIR = join(dir, 'shipped');
    process.env.SEGEARTH_DATA_DIR = join(dir, 'user-data');
    process.env.HF_ENDPOINT = hub.endpoint;
    process.env.HF_HOME = join(dir, 'hf-home');
    delete process.env.SEGEARTH_MODEL_DIR;
    delete process.env.HF_HUB_CACHE;
    delete process.env.HF_TOKEN;
    makeRiverScene(join(dir, 'river_utm31.tif'), { size: 256, originX: 300000, centreY: 100, amplitude: 30, period: 40, phase: 0, halfWidth: 12, fieldX: 160, fieldY: 150 });
    session = await startSession({ roots: [dir] });
  }, 600_000);

  afterAll(async () => {
    await session?.close();
    await hub?.close();
    for (const k of ENV) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('leads from the first-run guide to the Get card, downloads with progress and pauses', async () => {
    const s = session!;
    s.page.on('dialog', (d) => void d.accept());
    await s.page.getByTestId('first-run-get').click();
    await s.page.getByTestId('model-dialog').waitFor();
    await card(s).waitFor();
    const text = await card(s).innerText();
    expect(text).toContain('Apache-2.0');
    expect(await card(s).getByTestId('release-size').innerText()).not.toContain('about'); // the hub answered
    expect(await card(s).getByTestId('release-size').innerText()).toBe(`${(checkpointBytes / (1 << 20)).toFixed(1)} MB`);
    expect(await card(s).getByTestId('release-precision').innerText()).toBe('CPU (int8 image + int8 language model)');
    expect(await s.page.getByTestId('get-precision-reason').innerText()).toMatch(/^Converted on this computer as CPU \(int8 image \+ int8 language model\): no GPU execution provider works here/);

    await card(s).getByTestId('get-model').click();
    await s.page.waitForFunction(
      (repo) => /Downloading — .+ of .+ \(\d+ %\)/.test(document.querySelector(`[data-repo="${repo}"] [data-testid="get-progress-text"]`)?.textContent ?? ''),
      REPO,
      { timeout: 60_000 },
    );
    await screenshot(s.page, 'get-progress', true);
    await card(s).getByTestId('pause-get').click();
    await card(s).locator('[data-testid="get-state"][data-status="paused"]').waitFor({ timeout: 60_000 });
    expect(await card(s).getByTestId('get-state').innerText()).toMatch(/Paused at \d+ %/);
  });

  it('after a restart shows the paused Get, resumes it, installs the model as the default and answers a question with it', async () => {
    await session!.close();
    session = null;
    const s = (session = await startSession({ roots: [dir] }));
    s.page.on('dialog', (d) => void d.accept());
    await s.page.getByTestId('first-run-get').click();
    await card(s).locator('[data-testid="get-state"][data-status="paused"]').waitFor();
    const paused = await card(s).getByTestId('get-state').innerText();
    const pct = Number(/Paused at (\d+) %/.exec(paused)?.[1]);
    expect(pct).toBeGreaterThanOrEqual(0);
    expect(pct).toBeLessThan(100);
    expect(paused).toContain(`of ${(checkpointBytes / (1 << 20)).toFixed(1)} MB`);

    await card(s).getByTestId('resume-get').click();
    await card(s).getByTestId('get-installed').waitFor({ timeout: 300_000 });
    expect(await card(s).getByTestId('get-installed').innerText()).toBe('Installed (segearth-r1-earthreason-cpu) and set as the default model.');
    const row = s.page.locator('[data-testid="model-row"][data-model-id="segearth-r1-earthreason-cpu"]');
    await row.waitFor();
    expect(await row.getByRole('radio').isChecked()).toBe(true);
    await s.page.waitForFunction(() => document.querySelector('[data-testid="status-model"]')?.textContent?.startsWith('SegEarth-R1'));
    await screenshot(s.page, 'model-dialog', true);
    await s.page.getByTestId('model-dialog').getByRole('button', { name: 'Close' }).click();

    await openThroughPicker(s.page, 'river_utm31.tif');
    await s.page.getByTestId('question-input').fill('where could flood water spread?');
    await s.page.getByTestId('ask').click();
    await waitForEvent(s.page, 'result');
    const state = await s.page.evaluate(() => window.SegEarthTestHooks!.state());
    expect(state.error).toBeNull();
    expect(state.results).toHaveLength(1);
    expect(state.results[0]!.summary.question).toBe('where could flood water spread?');
    // Answered by the bundle the Get installed (the manifest id of the converted checkpoint).
    expect((state.results[0]!.summary as { modelId?: string }).modelId).toBe('segearth-r1-earthreason-cpu');
  });
});
