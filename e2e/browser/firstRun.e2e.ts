/**
 * First run without a model, in a browser (server mode with the real runtime): the model folders are empty
 * (SEGEARTH_MODELS_DIR and the shipped folder point at empty folders), the workspace opens and shows a raster
 * normally, masks are vectorized and exported (CLI), and the question panel explains how to get the model (the
 * model manager's first-run guide: one button to the Get card, the other ways folded below). Then the tiny
 * test bundle is imported through Model → Model & device… and the status bar switches to it. (The Get flow
 * itself: getModel.e2e.ts.)
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gdal from 'gdal-async';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyBundle, REPO_ROOT } from '../../test/support/tinyBundle.js';
import { openThroughPicker, screenshot, startSession, type Session } from '../support/browser.js';

let dir: string;
let modelsDir: string;
let bundleCopy: string;
let session: Session;
const saved: Record<string, string | undefined> = {};
const ENV = ['SEGEARTH_MODELS_DIR', 'SEGEARTH_SHIPPED_MODELS_DIR', 'SEGEARTH_DATA_DIR', 'SEGEARTH_MODEL_DIR'] as const;

/** A 0/1 mask with one 30 × 20 pixel rectangle (5 m pixels: 15 000 m²). */
function makeMask(path: string): void {
  const ds = gdal.open(path, 'w', 'GTiff', 64, 64, 1, gdal.GDT_Byte);
  ds.srs = gdal.SpatialReference.fromEPSG(32632);
  ds.geoTransform = [600000, 5, 0, 5100000, 0, -5];
  const data = new Uint8Array(64 * 64);
  for (let y = 10; y < 30; y++) for (let x = 10; x < 40; x++) data[y * 64 + x] = 1;
  ds.bands.get(1).pixels.write(0, 0, 64, 64, data);
  ds.close();
}

function makeScene(path: string): void {
  const size = 256;
  const ds = gdal.open(path, 'w', 'GTiff', size, size, 3, gdal.GDT_Byte);
  ds.srs = gdal.SpatialReference.fromEPSG(32632);
  ds.geoTransform = [600000, 5, 0, 5100000, 0, -5];
  for (let b = 1; b <= 3; b++) {
    const data = new Uint8Array(size * size);
    for (let i = 0; i < data.length; i++) data[i] = (i % size) < 128 ? [60, 140, 60][b - 1]! : [180, 170, 150][b - 1]!;
    ds.bands.get(b).pixels.write(0, 0, size, size, data);
  }
  ds.close();
}

beforeAll(async () => {
  const bundle = await ensureTinyBundle();
  dir = mkdtempSync(join(tmpdir(), 'segearth-e2e-firstrun-'));
  modelsDir = join(dir, 'models');
  mkdirSync(modelsDir);
  mkdirSync(join(dir, 'shipped'));
  for (const k of ENV) saved[k] = process.env[k];
  // No model anywhere: an empty install folder, an empty "shipped with the app" folder, a fresh data folder.
  process.env.SEGEARTH_MODELS_DIR = modelsDir;
  process.env.SEGEARTH_SHIPPED_MODELS_DIR = join(dir, 'shipped');
  process.env.SEGEARTH_DATA_DIR = join(dir, 'user-data');
  delete process.env.SEGEARTH_MODEL_DIR;
  // The bundle an analyst received from a colleague, inside the folders the server may read.
  bundleCopy = join(dir, 'received', 'segearth-tiny-bundle');
  cpSync(bundle, bundleCopy, { recursive: true, filter: (src) => !src.endsWith('.stamp') });
  makeScene(join(dir, 'fields_utm32.tif'));
  makeMask(join(dir, 'flood_mask.tif'));
  session = await startSession({ roots: [dir] });
});

afterAll(async () => {
  await session?.close();
  for (const k of ENV) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('first run without a model (browser)', () => {
  it('opens normally and the question panel explains exactly how to get the model', async () => {
    const { page } = session;
    await page.getByTestId('no-model').waitFor();
    // One click leads to the Get card of the recommended checkpoint; the other ways are folded below it.
    await page.getByTestId('first-run-get').waitFor();
    expect(await page.getByTestId('first-run-get').innerText()).toBe('Get SegEarth-R1 EarthReason…');
    await page.getByTestId('first-run-guide').locator('summary').click();
    const text = await page.getByTestId('no-model').innerText();
    expect(text).toContain('No model installed yet');
    expect(text).toMatch(/about 5\.7 GB from the model hub \(Apache-2\.0\)/);
    // The released checkpoints, every way to get a bundle with its command, and where it goes.
    expect(text).toContain('earth-insights/SegEarth-R1-EarthReason');
    expect(text).toContain('earth-insights/SegEarth-R1-RRSIS-D');
    expect(text).toContain('$ segearth models get earthreason');
    expect(text).toContain('$ segearth models convert <checkpoint-folder> --install');
    expect(text).toContain('$ segearth models import <bundle-folder-or-archive.tar.gz>');
    expect(text).toContain('$ segearth models download <https-url-of-bundle.tar.gz> --sha256 <checksum>');
    expect(text).toContain('$ /usr/bin/python3 -m tools.export ckpt/SegEarth-R1-EarthReason -o segearth-r1-earthreason');
    expect(text).toContain(modelsDir);
    expect(text).toMatch(/viewing scenes, vectorizing masks, exporting — works without it/);
    await expect(page.getByTestId('status-model').innerText()).resolves.toBe('No model installed');

    // Viewing works: the raster opens and its tiles are drawn, with no error.
    await openThroughPicker(page, 'fields_utm32.tif');
    const state = await page.evaluate(() => window.SegEarthTestHooks!.state());
    expect(state.layers.map((l) => l.layer.name)).toEqual(['fields_utm32.tif']);
    expect(state.error).toBeNull();
    expect(await page.getByTestId('question-input').count()).toBe(0); // no question box that would fail
    await screenshot(page, 'first-run-guide');
  });

  it('vectorizes a mask and exports polygons without a model (same empty model folders)', () => {
    for (const [out, format] of [
      ['flood.gpkg', 'gpkg'],
      ['flood.geojson', 'geojson'],
    ] as const) {
      const stdout = execFileSync(process.execPath, [join(REPO_ROOT, 'bin', 'segearth.js'), 'vectorize', join(dir, 'flood_mask.tif'), '-o', join(dir, out), '--json'], {
        env: process.env,
        encoding: 'utf8',
      });
      expect(JSON.parse(stdout)).toMatchObject({ format, featureCount: 1, totalAreaM2: 15000, crs: 'EPSG:32632' });
    }
    const geojson = JSON.parse(readFileSync(join(dir, 'flood.geojson'), 'utf8')) as { features: unknown[] };
    expect(geojson.features).toHaveLength(1);
  });

  it('imports the tiny bundle through Model & device…, and the status bar switches to it', async () => {
    const { page } = session;
    await page.getByTestId('no-model').getByRole('button', { name: 'Model & device…' }).click();
    const dialog = page.getByTestId('model-dialog');
    await dialog.waitFor();
    await dialog.getByTestId('no-models').waitFor();
    // The execution providers of this machine: the CPU always works.
    await dialog.getByTestId('device-table').waitFor();
    const devices = await dialog.getByTestId('device-table').innerText();
    expect(devices).toMatch(/CPU\s+works/);

    await dialog.getByTestId('import-source').fill(bundleCopy);
    await dialog.getByTestId('import-model').click();
    await dialog.getByTestId('model-notice').filter({ hasText: 'Installed' }).waitFor({ timeout: 60_000 });
    expect(await dialog.getByTestId('model-notice').innerText()).toContain('Installed Test fixture (random weights, NOT a model) (tiny test fixture');

    const row = dialog.locator('[data-testid="model-row"][data-model-id="tiny-test"]');
    await row.waitFor();
    const rowText = await row.innerText();
    expect(rowText).toContain('verified'); // every file hashed against the manifest while importing
    expect(rowText).toContain('synthetic');
    await row.getByText('in use').waitFor(); // the app now runs this bundle
    expect(await row.getByRole('radio').isChecked()).toBe(true); // default of its variant

    // The status bar switched to it, with the execution provider it runs on.
    await page.waitForFunction(() => document.querySelector('[data-testid="status-model"]')?.textContent?.startsWith('Test fixture'));
    expect(await page.getByTestId('status-model').innerText()).toMatch(/^Test fixture \(random weights, NOT a model\) · (CPU|CUDA|WebGPU)/);
    await screenshot(page, 'model-dialog-import');

    await dialog.getByRole('button', { name: 'Close' }).click();
    // The question panel now offers the question box instead of the guide.
    await page.getByTestId('question-input').waitFor();
    expect(await page.getByTestId('no-model').count()).toBe(0);
  });
});
