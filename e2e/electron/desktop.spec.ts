/**
 * The desktop app end to end (Playwright `_electron`): the same flows as the browser tests, through the
 * Electron shell — IPC transport, the segearth-tile:// protocol, native dialogs (stubbed in the main
 * process). Runs only where an Electron binary exists; otherwise skipped with the reason printed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import gdal from 'gdal-async';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyBundle } from '../../test/support/tinyBundle.js';
import { mapPixel, screenshot, waitForEvent } from '../support/browser.js';
import { findElectronBinary, launchDesktop, type DesktopSession } from '../support/electron.js';

const found = findElectronBinary();
if (!('path' in found)) console.log(`[e2e/electron] skipped: ${found.reason}`);

const GT: [number, number, number, number, number, number] = [500000, 10, 0, 5000000, 0, -10];

function makeScene(path: string): void {
  const ds = gdal.open(path, 'w', 'GTiff', 512, 512, 3, gdal.GDT_Byte);
  ds.srs = gdal.SpatialReference.fromEPSG(32633);
  ds.geoTransform = GT;
  for (let b = 1; b <= 3; b++) {
    const data = new Uint8Array(512 * 512);
    for (let y = 0; y < 512; y++) for (let x = 0; x < 512; x++) data[y * 512 + x] = x >= 100 && x < 200 && y >= 100 && y < 200 ? 250 : b === 2 ? 90 : 30;
    ds.bands.get(b).pixels.write(0, 0, 512, 512, data);
  }
  ds.close();
}

describe.skipIf(!('path' in found))('desktop app (Electron)', () => {
  let dir: string;
  let desktop: DesktopSession;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'segearth-electron-scene-'));
    makeScene(join(dir, 'scene.tif'));
    writeFileSync(join(dir, 'corrupt.tif'), Buffer.concat([Buffer.from('II*\0', 'binary'), Buffer.alloc(300, 0x5a)]));
    const bundle = await ensureTinyBundle();
    desktop = await launchDesktop((found as { path: string }).path, { SEGEARTH_MODEL_DIR: bundle });
  });

  afterAll(async () => {
    await desktop?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs sandboxed with only the contract exposed', async () => {
    const exposed = await desktop.page.evaluate(() => ({
      bridge: Object.keys((window as unknown as { segearth: object }).segearth).sort(),
      require: typeof (window as unknown as { require?: unknown }).require,
      process: typeof (window as unknown as { process?: unknown }).process,
    }));
    expect(exposed).toEqual({ bridge: ['invoke', 'on', 'pathForFile'], require: 'undefined', process: 'undefined' });
  });

  it('opens a raster through the native dialog and draws it at its coordinates', async () => {
    const { page } = desktop;
    await desktop.answerOpenDialog(join(dir, 'scene.tif'));
    await page.getByTestId('open-raster').click();
    await waitForEvent(page, 'layer-opened');
    await page.waitForFunction(() => {
      const m = (window as unknown as { SegEarthTestHooks: { map(): { tilesLoaded: number } } }).SegEarthTestHooks.map();
      return m.tilesLoaded > 0;
    });
    const centre = await page.evaluate(([x, y]) => window.SegEarthTestHooks!.pixelAt([x!, y!]), [GT[0] + 150 * GT[1], GT[3] + 150 * GT[5]]);
    await page.waitForFunction(([x, y]) => {
      const c = document.querySelector('[data-testid="map"] canvas') as HTMLCanvasElement | null;
      return !!c && c.getContext('2d', { willReadFrequently: true })!.getImageData(Math.round(x!), Math.round(y!), 1, 1).data[0]! > 200;
    }, centre!);
    expect((await mapPixel(page, centre!))[0]).toBeGreaterThan(200);
    expect((await page.evaluate(() => window.SegEarthTestHooks!.map())).projection).toBe('EPSG:32633');
    await screenshot(page, 'electron-workspace');
  });

  it('asks a question, redraws with another threshold and exports GeoJSON', async () => {
    const { page } = desktop;
    await page.getByTestId('question-input').fill('where are the bright areas?');
    await page.getByTestId('ask').click();
    await waitForEvent(page, 'result');
    const summary = await page.evaluate(() => window.SegEarthTestHooks!.state().results[0]!.summary);
    await page.getByTestId('threshold').focus();
    for (let i = 0; i < 10; i++) await page.getByTestId('threshold').press('ArrowLeft');
    await page.waitForFunction(() => Math.abs(window.SegEarthTestHooks!.state().results[0]!.summary.threshold - 0.4) < 1e-9);
    const after = await page.evaluate(() => window.SegEarthTestHooks!.state().results[0]!.summary);
    expect(after.totalAreaM2).toBeGreaterThanOrEqual(summary.totalAreaM2);
    await page.getByTestId('export-open').click();
    const out = join(dir, 'bright.geojson');
    await page.getByTestId('export-path').fill(out);
    await page.getByTestId('export-run').click();
    await page.getByTestId('export-done').waitFor();
    expect(execFileSync('ogrinfo', ['-ro', '-so', '-al', out], { encoding: 'utf8' })).toContain(`Feature Count: ${after.featureCount}`);
    await page.keyboard.press('Escape');
  });

  it('says clearly that a corrupt file cannot be opened', async () => {
    const { page } = desktop;
    await desktop.answerOpenDialog(join(dir, 'corrupt.tif'));
    await page.getByTestId('open-raster').click();
    await waitForEvent(page, 'error');
    const error = await page.evaluate(() => window.SegEarthTestHooks!.state().error);
    expect(error?.title).toBe('Could not open corrupt.tif');
    expect(['CORRUPT_RASTER', 'NOT_A_RASTER']).toContain(error?.code);
  });

  it('File → Batch process folder… opens the batch panel; folders come from the native dialog', async () => {
    const { page, app } = desktop;
    await page.keyboard.press('Escape');
    await app.evaluate(({ Menu }) => {
      const file = Menu.getApplicationMenu()!.items.find((i) => i.label.replace('&', '') === 'File')!;
      file.submenu!.items.find((i) => i.label === 'Batch process folder…')!.click();
    });
    await page.getByTestId('batch-panel').waitFor();
    await desktop.answerOpenDialog(dir);
    await page.getByTestId('batch-input-browse').click();
    await page.waitForFunction((d) => (document.querySelector('[data-testid="batch-input"]') as HTMLInputElement | null)?.value === d, dir);
    const out = join(mkdtempSync(join(tmpdir(), 'segearth-electron-batch-')), 'results');
    await page.getByTestId('batch-output').fill(out);
    await page.getByTestId('batch-question').first().fill('where are the bright areas?');
    await page.getByTestId('batch-start').click();
    await waitForEvent(page, 'batch-finished');
    const statuses = await page.getByTestId('batch-row').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-status')));
    expect(statuses.sort()).toEqual(['done', 'failed']);
    await screenshot(page, 'electron-batch');
    rmSync(join(out, '..'), { recursive: true, force: true });
  });
});
