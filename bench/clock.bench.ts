/**
 * @module bench/clock.bench
 * `npm run bench:clock [-- <bundle-dir>] [--size 4096] [--strategy view|auto|tiled|coarse-to-fine]
 * [--no-preload] [--cps 5] [--look 3]` — not a test. The analyst's clock: the time each step takes as the analyst lives it, measured
 * end to end in Chromium through server mode (as the browser tests drive it: e2e/support/browser.ts), with
 * Playwright waiting on the UI itself and the model's graph times beside each step, so our overhead shows:
 *
 * 1. server start (the backend and the HTTP server, in this process) → page loaded (`app-loaded`) → model
 *    ready: the status bar stops saying "loading the model" / "warming up" (the model loads and warms up in
 *    the background from the start; `--no-preload` measures the old road, where it loads with the first question);
 * 2. open a `--size`² scene through the file picker → first tiles drawn;
 * 3. Ask → polygons drawn (the `result` event: the result's polygons are on the map): the *cold* question — the
 *    first after the model loaded — then the *warm* one, the same question on a second scene (a new view: the
 *    image graph runs again);
 * 4. a follow-up question on the second scene (its view is cached: LLM over the question + head only);
 * 5. a third scene, the question *typed* at `--cps` characters a second (default 5) before Ask: the view is read
 *    while typing (`useViewPrefetch`), Ask → polygons drawn is what is left (steps 3–4 *paste* the question and
 *    press Ask as soon as the scene's first tiles are drawn: next to nothing can be read ahead);
 * 5b. a fourth scene looked at for `--look` seconds (default 3), then the question pasted and Ask pressed: the
 *    view is read from the moment the scene is known (`useViewPrefetch`);
 * 6. the threshold slider moved 10 steps down → the redrawn polygons (`revectorized`; the model does not run).
 *
 * Without a bundle argument it runs the tiny test bundle (random tiny weights: checks the harness, not speed).
 * The scenes (synthetic, tiled GeoTIFFs with overviews, like the river scenes of the browser tests) are made
 * once in the OS temp folder. Strategy default: `view` (one 1024² view: with random weights the tiles
 * `auto`'s coarse-to-fine would refine are arbitrary). Results also in bench/out/clock.json.
 */
/// <reference lib="dom" />
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import gdal from 'gdal-async';
import { chromium } from 'playwright-core';
import type { RunStats } from '../src/inference/sessions/model.js';
import { startServerApp } from '../src/main/serverApp.js';
import type { InferenceBackend } from '../src/main/services/backends.js';
import { ModelStore } from '../src/inference/models/ModelStore.js';
import { createRuntimeAdapter } from '../src/main/services/runtimeAdapter.js';
import { ensureTinyBundle } from '../test/support/tinyBundle.js';
import { CHROMIUM, ensureRendererBuilt, eventCount, openThroughPicker, stepSlider, waitForEvent } from '../e2e/support/browser.js';
import { makeRiverScene } from '../e2e/support/riverScene.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const size = Number(option('--size') ?? 4096);
const strategy = option('--strategy') ?? 'view';
const preload = !args.includes('--no-preload');
/** An analyst's typing speed for the typed question (5 characters a second ≈ 60 words a minute). */
const TYPED_CPS = Number(option('--cps') ?? 5);
/** How long the analyst looks at the fourth scene before pasting the question (seconds). */
const LOOK_S = Number(option('--look') ?? 3);
const givenBundle = args.find((a, i) => !a.startsWith('--') && !['--size', '--strategy', '--cps', '--look'].includes(args[i - 1] ?? ''));
const bundle = givenBundle ? resolve(givenBundle) : await ensureTinyBundle();
if (!existsSync(join(bundle, 'manifest.json'))) {
  console.error(`No bundle at ${bundle}.`);
  process.exit(2);
}

/** Four scenes of `size`², tiled, with overviews (as analysts' scenes usually are), each made once. */
function ensureScenes(): string {
  const dir = join(os.tmpdir(), `segearth-bench-clock-${size}`);
  mkdirSync(dir, { recursive: true });
  const river = { size, centreY: size / 3, amplitude: size / 10, period: size / 8, halfWidth: size / 30, fieldX: size * 0.6, fieldY: size * 0.6 };
  for (const [name, originX, phase] of [['scene_a.tif', 300000, 0], ['scene_b.tif', 320000, size / 5], ['scene_c.tif', 340000, size / 3], ['scene_d.tif', 360000, size / 2]] as const) {
    const done = join(dir, `.${name}.done`);
    if (existsSync(done) || (name !== 'scene_c.tif' && name !== 'scene_d.tif' && existsSync(join(dir, '.done')))) continue;
    const raw = join(dir, `raw_${name}`);
    makeRiverScene(raw, { ...river, originX, phase });
    const src = gdal.open(raw);
    const out = gdal.drivers.get('GTiff').createCopy(join(dir, name), src, { TILED: 'YES', COMPRESS: 'DEFLATE' });
    src.close();
    out.buildOverviews('AVERAGE', [2, 4, 8, 16]);
    out.close();
    rmSync(raw);
    writeFileSync(done, '');
  }
  return dir;
}

interface Step {
  step: string;
  ms: number;
  /** Asks: ms spent in each job stage (from the backend's inference.job events), then 'drawing' (result → on the map). */
  stages?: Record<string, number>;
  /** Graph time (image + LLM + head) during the step, and each graph's. */
  graphs: { total: number; image: number; llm: number; head: number } | null;
}

ensureRendererBuilt();
const sceneDir = ensureScenes();
const dataDir = mkdtempSync(join(os.tmpdir(), 'segearth-clock-data-'));
const profileDir = mkdtempSync(join(os.tmpdir(), 'segearth-clock-profile-'));
const adapter = createRuntimeAdapter({ store: new ModelStore(), defaultModelDir: bundle });
// --no-preload: the runtime without `prepare` (the model loads with the first question, as before).
const runtime: InferenceBackend = preload ? adapter : { ...adapter, prepare: undefined };
const modelSettings = { modelDir: null, executionProvider: 'auto' };
const graphStats = async (): Promise<RunStats | null> => (await adapter.graphStats?.(modelSettings)) ?? null;
const delta = (a: RunStats | null, b: RunStats | null): Step['graphs'] => {
  if (!b) return null;
  const d = (k: keyof RunStats) => b[k].ms - (a?.[k].ms ?? 0);
  return { total: d('image') + d('llm') + d('head'), image: d('image'), llm: d('llm'), head: d('head') };
};

const steps: Step[] = [];
/** When the backend's model load state first took each value. */
const backendLoad = new Map<string, number>();
const watchLoad = setInterval(() => {
  void adapter.loadState?.(modelSettings).then((state) => {
    if (!backendLoad.has(state)) backendLoad.set(state, performance.now());
  });
}, 20);
const t0 = performance.now();
const app = await startServerApp({ roots: [sceneDir], dataDir, runtime, testHooks: true });
/** Job stage transitions as the backend emits them: [stage, time]. */
let stageLog: Array<[string, number]> = [];
app.backend.events.subscribe(({ event, payload }) => {
  if (event !== 'inference.job') return;
  const e = payload as { type: string; stage?: string };
  const stage = e.type === 'progress' ? e.stage! : e.type;
  if (stageLog[stageLog.length - 1]?.[0] !== stage) stageLog.push([stage, performance.now()]);
});
/** ms per stage from the log, the last one ('result') running until `end` (polygons drawn) as 'drawing'. */
function stageTimes(start: number, end: number): Record<string, number> {
  const out: Record<string, number> = {};
  let [prevStage, prevT] = ['request', start];
  for (const [stage, t] of stageLog) {
    out[prevStage] = (out[prevStage] ?? 0) + (t - prevT);
    [prevStage, prevT] = [stage === 'result' ? 'drawing' : stage, t];
  }
  out[prevStage] = (out[prevStage] ?? 0) + (end - prevT);
  return out;
}
steps.push({ step: 'server start (backend + HTTP server)', ms: performance.now() - t0, graphs: null });
const browser = await chromium.launchPersistentContext(profileDir, {
  executablePath: CHROMIUM,
  headless: true,
  viewport: { width: 1400, height: 860 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = browser.pages()[0] ?? (await browser.newPage());
  page.on('pageerror', (err) => console.error('[page error]', err.message));
  let t = performance.now();
  await page.goto(app.server.url);
  await waitForEvent(page, 'app-loaded');
  steps.push({ step: 'page loaded (Chromium, app-loaded)', ms: performance.now() - t, graphs: null });

  const statusText = () => page.getByTestId('status-model').innerText();
  if (preload) {
    t = performance.now();
    // The status bar tells the load state (it polls system.info every 0.5 s while loading); the backend's own
    // transitions are timed here every 20 ms.
    const seen: Array<[string, number]> = [];
    for (;;) {
      const text = await page.evaluate(() => document.querySelector('[data-testid="model-load"]')?.textContent ?? '');
      if (seen[seen.length - 1]?.[0] !== text) seen.push([text, performance.now()]);
      if (text === '') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    console.error(`status bar load notes: ${seen.map(([text, at]) => `${((at - t0) / 1000).toFixed(2)} s "${text}"`).join(', ')}`);
    const loadedAt = seen.find(([text]) => !text.startsWith('loading'))?.[1] ?? NaN;
    const readyAt = performance.now();
    steps.push({ step: 'model loaded (backend), from server start', ms: (backendLoad.get('warming-up') ?? backendLoad.get('loaded') ?? NaN) - t0, graphs: null });
    steps.push({ step: 'model warmed up (backend), from server start', ms: (backendLoad.get('loaded') ?? NaN) - t0, graphs: null });
    steps.push({ step: 'model loaded (status bar: loading → warming up), from server start', ms: loadedAt - t0, graphs: null });
    steps.push({ step: 'model warmed up (status bar: ready), from server start', ms: readyAt - t0, graphs: delta(null, await graphStats()) });
  }
  console.error(`status bar: ${await statusText()}`);

  t = performance.now();
  await openThroughPicker(page, 'scene_a.tif');
  steps.push({ step: `open a ${size}² scene → first tiles drawn`, ms: performance.now() - t, graphs: null });

  /** Views read ahead so far (`useViewPrefetch`), and their count when the last scene was opened. */
  const viewsRead = async (): Promise<number> => (await eventCount(page, 'prefetch-read')) + (await eventCount(page, 'prefetch-cached'));
  let readAtOpen = 0;
  const openScene = async (name: string): Promise<void> => {
    readAtOpen = await viewsRead();
    await openThroughPicker(page, name);
  };
  /**
   * Puts a question in the box, presses Ask and waits until its polygons are on the map; the clock runs from
   * pressing Ask. Pasted (`typedCps` absent): the question appears at once and Ask follows — no time to read
   * the view ahead. Typed at `typedCps` characters a second: the view is read while typing (`useViewPrefetch`).
   */
  const ask = async (label: string, question: string, typedCps?: number) => {
    const results = await eventCount(page, 'result');
    if (typedCps) {
      await page.getByTestId('question-input').fill('');
      const typingStart = performance.now();
      await page.getByTestId('question-input').click();
      await page.getByTestId('question-input').pressSequentially(question, { delay: 1000 / typedCps });
      const typed = performance.now() - typingStart;
      console.error(`${label}: typed ${question.length} characters in ${(typed / 1000).toFixed(1)} s; view read ahead ${(await viewsRead()) > readAtOpen ? 'before' : 'not yet finished when'} Ask was pressed`);
    } else {
      await page.getByTestId('question-input').fill(question);
    }
    const before = await graphStats();
    stageLog = [];
    const start = performance.now();
    await page.getByTestId('ask').click();
    await waitForEvent(page, 'result', results + 1);
    const end = performance.now();
    steps.push({ step: label, ms: end - start, graphs: delta(before, await graphStats()), stages: stageTimes(start, end) });
  };
  // Chosen once, with the question box empty (a detail chosen with a question typed reads its view ahead).
  await page.getByTestId('strategy').selectOption(strategy);
  await ask(`Ask → polygons drawn, cold (first question${preload ? ' after the model loaded' : ', model loads with it'})`, 'where could flood water spread?');
  await openScene('scene_b.tif');
  await ask('Ask → polygons drawn, warm (same question, second scene: a new view)', 'where could flood water spread?');
  await ask('follow-up question (same view: cached) → polygons drawn', 'which fields could be irrigated?');
  await openScene('scene_c.tif');
  await ask(
    `Ask → polygons drawn, question typed at ${TYPED_CPS} characters/s first (third scene: a new view, read while typing)`,
    'where could flood water spread?',
    TYPED_CPS,
  );
  await openScene('scene_d.tif');
  await new Promise((r) => setTimeout(r, LOOK_S * 1000));
  console.error(`fourth scene: its view read ${(await viewsRead()) > readAtOpen ? 'before' : 'not yet finished when'} Ask was pressed`);
  await ask(`Ask → polygons drawn, question pasted ${LOOK_S} s after the fourth scene's first tiles (its view read on opening)`, 'where could flood water spread?');

  const redrawn = await eventCount(page, 'revectorized');
  t = performance.now();
  await stepSlider(page, 'threshold', -10);
  await page.waitForFunction(
    () => {
      const s = window.SegEarthTestHooks!.state();
      const r = s.results.find((x) => x.summary.id === s.selectedResultId) ?? s.results[s.results.length - 1];
      return !!r && Math.abs(r.summary.threshold - 0.4) < 1e-9;
    },
    null,
    { timeout: 120_000, polling: 20 },
  );
  await waitForEvent(page, 'revectorized', redrawn + 1);
  steps.push({ step: 'threshold slider 10 steps down → polygons redrawn', ms: performance.now() - t, graphs: null });
} finally {
  clearInterval(watchLoad);
  await browser.close();
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(profileDir, { recursive: true, force: true });
}

console.log(
  `\nanalyst's clock; bundle ${bundle}; ${size}² scenes, strategy ${strategy}, ${preload ? 'model preloaded and warmed up at start' : 'no preload'}; ` +
    `${os.cpus().length} CPU(s), load average ${os.loadavg()[0]!.toFixed(1)}\n`,
);
console.log('| step | ms | graphs ms (image + LLM + head) | overhead ms |\n|---|---:|---:|---:|');
for (const s of steps) {
  const g = s.graphs;
  const graphs = g && g.total > 0 ? `${g.total.toFixed(0)} (${g.image.toFixed(0)} + ${g.llm.toFixed(0)} + ${g.head.toFixed(0)})` : '';
  console.log(`| ${s.step} | ${s.ms.toFixed(0)} | ${graphs} | ${g && g.total > 0 && !/from server start/.test(s.step) ? (s.ms - g.total).toFixed(0) : ''} |`);
}
console.log('\nWhere each question\'s time went (ms per job stage, from the backend\'s events; "drawing": result sent → polygons on the map):');
for (const s of steps.filter((x) => x.stages)) {
  console.log(`- ${s.step}: ${Object.entries(s.stages!).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}`);
}
mkdirSync('bench/out', { recursive: true });
writeFileSync('bench/out/clock.json', JSON.stringify({ bundle, size, strategy, preload, load1: os.loadavg()[0], steps }, null, 2));
