/**
 * @module e2e/support/browser
 * End-to-end harness for the browser: builds the renderer when it is stale, starts server mode in this
 * process (test hooks on, a fresh data folder, roots = the test's folder), and drives Debian's Chromium
 * through playwright-core. Tests wait for named app events from `window.SegEarthTestHooks`, never for time.
 */
/// <reference lib="dom" />
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { REPO_ROOT, startServerApp, type ServerApp, type ServerAppOptions } from '../../src/main/serverApp.js';

/** What the renderer's test hook exposes (see src/renderer/testHooks.ts), as the tests read it. */
export interface CiMapState {
  projection: string | null;
  center: number[];
  resolution: number;
  size: number[];
  extent: number[] | null;
  basemap: boolean;
  rasters: Array<{ id: string; name: string; visible: boolean; opacity: number; zIndex: number; projection: string }>;
  results: Record<string, { visible: boolean; heatmap: boolean; features: Array<{ properties: Record<string, unknown>; extent: number[]; anchor: number[] | null }> }>;
  tilesLoaded: number;
  tileErrors: number;
}

declare global {
  interface Window {
    SegEarthTestHooks?: {
      events: string[];
      map(): CiMapState;
      state(): {
        layers: Array<{ layer: { id: string; name: string; path: string }; visible: boolean; opacity: number }>;
        results: Array<{
          summary: {
            id: string;
            question: string;
            featureCount: number;
            totalAreaM2: number;
            threshold: number;
            minAreaM2: number;
            maxProbability: number;
            aoi: { kind: string; extent?: number[] };
            probability: { extent: number[]; width: number; height: number } | null;
          };
        }>;
        selectedResultId: string | null;
        error: { code: string; message: string; hint?: string; title?: string } | null;
        notice: string | null;
        activeLayerId: string | null;
        jobRunning: boolean;
      };
      coordinateAt(pixel: [number, number]): number[] | null;
      pixelAt(coordinate: [number, number]): number[] | null;
    };
  }
}

export const CHROMIUM = process.env.SEGEARTH_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = join(REPO_ROOT, 'docs', 'screenshots');
export const OUTPUT_DIR = join(REPO_ROOT, 'e2e-output');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const s = statSync(join(dir, name));
    if (s.isFile()) newest = Math.max(newest, s.mtimeMs);
  }
  return newest;
}

function rendererIsFresh(): boolean {
  const index = join(REPO_ROOT, 'dist-renderer', 'index.html');
  const sources = Math.max(newestMtime(join(REPO_ROOT, 'src', 'renderer')), newestMtime(join(REPO_ROOT, 'src', 'shared')));
  return existsSync(index) && statSync(index).mtimeMs >= sources;
}

/**
 * Runs `vite build` when dist-renderer is missing or older than the renderer or shared sources. Test files run
 * in parallel processes: an exclusive lock file makes one of them build while the others wait (a build empties
 * dist-renderer first, so a page must never load during someone else's build).
 */
export function ensureRendererBuilt(): void {
  if (rendererIsFresh()) return;
  const lock = join(REPO_ROOT, '.renderer-build.lock');
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch {
      // Held by another test process; take it over when it is stale (a crashed build).
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 180_000) rmSync(lock, { force: true });
      Atomics.wait(pause, 0, 0, 200);
    }
  }
  try {
    if (rendererIsFresh()) return;
    execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], { cwd: REPO_ROOT, stdio: 'inherit' });
  } finally {
    rmSync(lock, { force: true });
  }
}

export interface Session {
  app: ServerApp;
  context: BrowserContext;
  page: Page;
  dataDir: string;
  profileDir: string;
  close(): Promise<void>;
}

export async function startSession(options: Omit<ServerAppOptions, 'testHooks'>): Promise<Session> {
  ensureRendererBuilt();
  const dataDir = mkdtempSync(join(tmpdir(), 'segearth-e2e-data-'));
  const profileDir = mkdtempSync(join(tmpdir(), 'segearth-e2e-profile-'));
  const app = await startServerApp({ dataDir, ...options, testHooks: true });
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 860 },
    deviceScaleFactor: 1,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (err) => console.error('[page error]', err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') console.error('[console]', msg.text());
  });
  await page.goto(app.server.url);
  await waitForEvent(page, 'app-loaded');
  return {
    app,
    context,
    page,
    dataDir,
    profileDir,
    async close() {
      await context.close();
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(profileDir, { recursive: true, force: true });
    },
  };
}

/** Waits until the app has emitted `name` at least `count` times in total. */
export async function waitForEvent(page: Page, name: string, count = 1): Promise<void> {
  await page.waitForFunction(
    ([n, c]) => (window.SegEarthTestHooks?.events.filter((e) => e === n).length ?? 0) >= (c as number),
    [name, count] as const,
    { timeout: 60_000, polling: 50 },
  );
}

export async function eventCount(page: Page, name: string): Promise<number> {
  return page.evaluate((n) => window.SegEarthTestHooks?.events.filter((e) => e === n).length ?? 0, name);
}

/**
 * Saves a screenshot to e2e-output/ and, when `doc` is set and the run was asked to refresh the documentation
 * (`SEGEARTH_DOC_SCREENSHOTS=1`, `npm run screenshots`), to docs/screenshots/ (committed) — a plain test run never
 * modifies tracked files.
 */
export async function screenshot(page: Page, name: string, doc = false): Promise<void> {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  await page.screenshot({ path: join(OUTPUT_DIR, `${name}.png`) });
  if (doc && process.env.SEGEARTH_DOC_SCREENSHOTS === '1') {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`) });
  }
}

/** RGBA of the map canvas at a CSS pixel of the map element. */
export async function mapPixel(page: Page, pixel: number[]): Promise<number[]> {
  return page.evaluate(([x, y]) => {
    const mapEl = document.querySelector('[data-testid="map"]');
    if (!mapEl) throw new Error('no map');
    for (const canvas of Array.from(mapEl.querySelectorAll('canvas'))) {
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      if (!ctx) continue;
      const scale = canvas.width / canvas.getBoundingClientRect().width;
      const data = ctx.getImageData(Math.round(x! * scale), Math.round(y! * scale), 1, 1).data;
      if (data[3]! > 0) return Array.from(data);
    }
    return [0, 0, 0, 0];
  }, pixel);
}

/** Opens a raster through the browser file picker (as an analyst does) and waits until its tiles are drawn. */
export async function openThroughPicker(page: Page, fileName: string): Promise<void> {
  const before = await eventCount(page, 'layer-opened');
  await page.getByTestId('open-raster').click();
  await page.getByTestId('file-picker').waitFor();
  await page.getByTestId('picker-file').filter({ hasText: fileName }).click();
  await waitForEvent(page, 'layer-opened', before + 1);
  await page.waitForFunction(() => (window.SegEarthTestHooks?.map().tilesLoaded ?? 0) > 0);
}

/** Moves a range input with the keyboard (each step is what a user's arrow key does). */
export async function stepSlider(page: Page, testId: string, steps: number): Promise<void> {
  const slider = page.getByTestId(testId);
  await slider.focus();
  const key = steps < 0 ? 'ArrowLeft' : 'ArrowRight';
  for (let i = 0; i < Math.abs(steps); i++) await slider.press(key);
}
