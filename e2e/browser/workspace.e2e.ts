/**
 * Browser end-to-end: server mode started by the test, Debian's Chromium, a synthetic georeferenced scene
 * made here with GDAL. Opens the scene through the UI (file picker), checks that it is drawn at the right
 * map coordinates (pixel colours under known coordinates, pointer read-out), and that a corrupt file gives
 * a clear message.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gdal from 'gdal-async';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gdaltransform } from '../../test/support/syntheticRaster.js';
import { eventCount, mapPixel, openThroughPicker, screenshot, startSession, waitForEvent, type Session } from '../support/browser.js';

const GT: [number, number, number, number, number, number] = [500000, 10, 0, 5000000, 0, -10];
/** The bright square of the scene, in pixels [x0, y0, x1, y1) and in map coordinates (UTM 33N). */
const SQUARE = { x0: 100, y0: 100, x1: 200, y1: 200 };

/** A scene in EPSG:4326 east of the UTM one, red where lon < 15.03, blue elsewhere. */
const GT_LL: [number, number, number, number, number, number] = [15.02, 0.0001, 0, 45.14, 0, -0.0001];
function makeLonLatScene(path: string): void {
  const w = 400;
  const h = 300;
  const ds = gdal.open(path, 'w', 'GTiff', w, h, 3, gdal.GDT_Byte);
  ds.srs = gdal.SpatialReference.fromEPSG(4326);
  ds.geoTransform = GT_LL;
  for (let b = 1; b <= 3; b++) {
    const data = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = x < 100 ? (b === 1 ? 230 : 20) : b === 3 ? 230 : 20;
    ds.bands.get(b).pixels.write(0, 0, w, h, data);
  }
  ds.close();
}

/** A PNG without georeferencing: 300×200, white in its top-left 50×40 px, dark elsewhere. */
function makePhoto(path: string): void {
  const mem = gdal.open('', 'w', 'MEM', 300, 200, 3, gdal.GDT_Byte);
  for (let b = 1; b <= 3; b++) {
    const data = new Uint8Array(300 * 200);
    for (let y = 0; y < 200; y++) for (let x = 0; x < 300; x++) data[y * 300 + x] = x < 50 && y < 40 ? 255 : 40;
    mem.bands.get(b).pixels.write(0, 0, 300, 200, data);
  }
  gdal.drivers.get('PNG').createCopy(path, mem).close();
  mem.close();
}

function makeScene(path: string): void {
  const w = 512;
  const h = 512;
  const ds = gdal.open(path, 'w', 'GTiff', w, h, 3, gdal.GDT_Byte);
  ds.srs = gdal.SpatialReference.fromEPSG(32633);
  ds.geoTransform = GT;
  const inSquare = (x: number, y: number): boolean => x >= SQUARE.x0 && x < SQUARE.x1 && y >= SQUARE.y0 && y < SQUARE.y1;
  for (let b = 1; b <= 3; b++) {
    const data = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = inSquare(x, y) ? 250 : b === 2 ? 90 + ((x + y) % 7) : 30 + ((x * y) % 5);
    ds.bands.get(b).pixels.write(0, 0, w, h, data);
    ds.bands.get(b).colorInterpretation = ['Red', 'Green', 'Blue'][b - 1]!;
  }
  ds.close();
}

const mapX = (px: number): number => GT[0] + px * GT[1];
const mapY = (py: number): number => GT[3] + py * GT[5];

let dir: string;
let session: Session;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'segearth-e2e-scene-'));
  makeScene(join(dir, 'scene_utm33.tif'));
  makeLonLatScene(join(dir, 'scene_wgs84.tif'));
  makePhoto(join(dir, 'photo.png'));
  writeFileSync(join(dir, 'corrupt.tif'), Buffer.concat([Buffer.from('II*\0', 'binary'), Buffer.alloc(300, 0x5a)]));
  session = await startSession({ roots: [dir] });
});

afterAll(async () => {
  await session?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('workspace in a browser (server mode)', () => {
  it('opens a raster through the file picker and draws it at its map coordinates', async () => {
    const { page } = session;
    await page.getByTestId('open-raster').click();
    await page.getByTestId('file-picker').waitFor();
    await screenshot(page, 'file-picker', true);
    await page.getByTestId('picker-file').filter({ hasText: 'scene_utm33.tif' }).click();
    await waitForEvent(page, 'layer-opened');
    await page.waitForFunction(() => (window.SegEarthTestHooks?.map().tilesLoaded ?? 0) > 0 && document.querySelector('[data-testid="file-picker"]') === null);
    await page.waitForFunction(() => {
      const m = window.SegEarthTestHooks!.map();
      return m.tilesLoaded > 0 && m.tileErrors === 0;
    });

    const state = await page.evaluate(() => window.SegEarthTestHooks!.map());
    expect(state.projection).toBe('EPSG:32633');
    expect(state.rasters).toHaveLength(1);
    expect(state.rasters[0]!.name).toBe('scene_utm33.tif');
    // The view was fitted to the raster: its extent contains the raster's bounds.
    const [minX, minY, maxX, maxY] = state.extent!;
    expect(minX).toBeLessThanOrEqual(mapX(0));
    expect(maxX).toBeGreaterThanOrEqual(mapX(512));
    expect(minY).toBeLessThanOrEqual(mapY(512));
    expect(maxY).toBeGreaterThanOrEqual(mapY(0));

    // Let every visible tile arrive, then read colours under known map coordinates.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="map"] canvas').length > 0);
    const centre = await page.evaluate(([x, y]) => window.SegEarthTestHooks!.pixelAt([x!, y!]), [mapX(150), mapY(150)]);
    const outside = await page.evaluate(([x, y]) => window.SegEarthTestHooks!.pixelAt([x!, y!]), [mapX(350), mapY(350)]);
    await page.waitForFunction(
      ([x, y]) => {
        const canvas = document.querySelector('[data-testid="map"] canvas') as HTMLCanvasElement | null;
        const ctx = canvas?.getContext('2d', { willReadFrequently: true });
        return !!ctx && ctx.getImageData(Math.round(x!), Math.round(y!), 1, 1).data[0]! > 200;
      },
      centre!,
    );
    const bright = await mapPixel(page, centre!);
    const dark = await mapPixel(page, outside!);
    expect(bright[0]).toBeGreaterThan(200); // the bright square is where its coordinates say
    expect(dark[0]).toBeLessThan(150);
    expect(dark[1]).toBeGreaterThan(dark[0]!); // greenish background

    // Square edges: just inside vs just outside its west edge (2 px margin for resampling).
    const res = state.resolution;
    const inside = await page.evaluate(([x, y]) => window.SegEarthTestHooks!.pixelAt([x!, y!]), [mapX(SQUARE.x0) + 3 * res, mapY(150)]);
    const west = await page.evaluate(([x, y]) => window.SegEarthTestHooks!.pixelAt([x!, y!]), [mapX(SQUARE.x0) - 3 * res, mapY(150)]);
    expect((await mapPixel(page, inside!))[0]).toBeGreaterThan(200);
    expect((await mapPixel(page, west!))[0]).toBeLessThan(150);

    // The pointer read-out gives the raster CRS and lon/lat of the point under the mouse.
    const box = (await page.getByTestId('map').boundingBox())!;
    await page.mouse.move(box.x + centre![0]!, box.y + centre![1]!);
    const coords = await page.getByTestId('coords').innerText();
    const numbers = coords.split('·')[0]!.replace(/,(?=\d{3})/g, '').split(',').map((s) => Number(s.trim()));
    expect(Math.abs(numbers[0]! - mapX(150))).toBeLessThan(2 * res);
    expect(Math.abs(numbers[1]! - mapY(150))).toBeLessThan(2 * res);
    // lon/lat as GDAL's own gdaltransform computes it for the same point.
    const [ref] = gdaltransform('EPSG:32633', 'EPSG:4326', [[numbers[0]!, numbers[1]!]]);
    const ll = /([\d.]+)° N\s+([\d.]+)° E/.exec(coords)!;
    expect(Math.abs(Number(ll[1]) - ref![1])).toBeLessThan(2e-5);
    expect(Math.abs(Number(ll[2]) - ref![0])).toBeLessThan(2e-5);
    await screenshot(page, 'workspace-raster', true);
    expect(await eventCount(page, 'error')).toBe(0);
  });

  it('says clearly that a corrupt file cannot be opened', async () => {
    const { page } = session;
    await page.getByTestId('open-raster').click();
    await page.getByTestId('picker-path').fill('corrupt.tif');
    await page.getByTestId('picker-path').press('Enter');
    await waitForEvent(page, 'error');
    const error = await page.evaluate(() => window.SegEarthTestHooks!.state().error);
    expect(error?.title).toBe('Could not open corrupt.tif');
    expect(['CORRUPT_RASTER', 'NOT_A_RASTER']).toContain(error?.code);
    expect(error?.message).toContain('corrupt.tif');
    await expect(page.getByTestId('error-banner').isVisible()).resolves.toBe(true);
    await page.keyboard.press('Escape');
    await screenshot(page, 'error-corrupt-file', true);
    // The open scene is untouched.
    expect((await page.evaluate(() => window.SegEarthTestHooks!.map())).rasters).toHaveLength(1);
  });

  it('reprojects a raster in another CRS on the fly and manages layers (order, visibility, opacity, zoom, remove)', async () => {
    const { page } = session;
    await openThroughPicker(page, 'scene_wgs84.tif');
    let m = await page.evaluate(() => window.SegEarthTestHooks!.map());
    expect(m.projection).toBe('EPSG:32633'); // the view keeps the first raster's CRS
    expect(m.rasters.map((r) => [r.name, r.projection])).toEqual([
      ['scene_utm33.tif', 'EPSG:32633'],
      ['scene_wgs84.tif', 'EPSG:4326'],
    ]);
    // The new layer is on top, and the view was zoomed to it.
    const top = (name: string) => m.rasters.find((r) => r.name === name)!;
    expect(top('scene_wgs84.tif').zIndex).toBeGreaterThan(top('scene_utm33.tif').zIndex);
    // A lon/lat inside the red part, converted to UTM by GDAL, is drawn red; one in the blue part blue.
    const [red, blue] = gdaltransform('EPSG:4326', 'EPSG:32633', [
      [15.025, 45.125],
      [15.045, 45.125],
    ]);
    const redPx = (await page.evaluate(([x, y]) => window.SegEarthTestHooks!.pixelAt([x!, y!]), red!))!;
    const bluePx = (await page.evaluate(([x, y]) => window.SegEarthTestHooks!.pixelAt([x!, y!]), blue!))!;
    // Wait until both points are drawn (tiles arrive one by one).
    await page.waitForFunction(
      ([rp, bp]) => {
        const c = document.querySelector('[data-testid="map"] canvas') as HTMLCanvasElement | null;
        const ctx = c?.getContext('2d', { willReadFrequently: true });
        if (!ctx) return false;
        const at = (p: number[]) => ctx.getImageData(Math.round(p[0]!), Math.round(p[1]!), 1, 1).data;
        return at(rp!)[0]! > 180 && at(bp!)[2]! > 180;
      },
      [redPx, bluePx],
    );
    const r = await mapPixel(page, redPx);
    const b = await mapPixel(page, bluePx);
    expect(r[0]).toBeGreaterThan(180);
    expect(r[2]).toBeLessThan(80);
    expect(b[2]).toBeGreaterThan(180);
    expect(b[0]).toBeLessThan(80);
    await screenshot(page, 'two-crs-layers', true);

    const item = (name: string) => page.getByTestId('layer-item').filter({ hasText: name });
    // Order: move the lon/lat layer down.
    await item('scene_wgs84.tif').getByTitle('Move down').click();
    m = await page.evaluate(() => window.SegEarthTestHooks!.map());
    expect(top('scene_utm33.tif').zIndex).toBeGreaterThan(top('scene_wgs84.tif').zIndex);
    // Visibility and opacity.
    await item('scene_utm33.tif').getByRole('checkbox').uncheck();
    await item('scene_wgs84.tif').locator('input[type=range]').fill('0.5');
    m = await page.evaluate(() => window.SegEarthTestHooks!.map());
    expect(top('scene_utm33.tif').visible).toBe(false);
    expect(top('scene_wgs84.tif').opacity).toBe(0.5);
    await item('scene_utm33.tif').getByRole('checkbox').check();
    // Zoom to layer fits the view to the UTM scene.
    await item('scene_utm33.tif').getByTitle('Zoom to layer').click();
    m = await page.evaluate(() => window.SegEarthTestHooks!.map());
    const [minX, minY, maxX, maxY] = m.extent!;
    expect(minX).toBeLessThanOrEqual(GT[0]);
    expect(maxX).toBeGreaterThanOrEqual(GT[0] + 5120);
    expect(maxX - minX).toBeLessThan(5120 * 3);
    expect(maxY - minY).toBeLessThan(5120 * 3);
    // Remove.
    await item('scene_wgs84.tif').getByTitle('Remove layer').click();
    await page.waitForFunction(() => window.SegEarthTestHooks!.map().rasters.length === 1);
    expect(await page.evaluate(() => window.SegEarthTestHooks!.state().layers.map((l) => l.layer.name))).toEqual(['scene_utm33.tif']);
  });

  it('explains what to do when no model is installed', async () => {
    const { page } = session;
    const empty = join(dir, 'no-model-here');
    mkdirSync(empty);
    await page.getByRole('button', { name: 'Model & device…' }).first().click();
    await page.getByTestId('model-dialog').waitFor();
    await page.getByPlaceholder('/path/to/segearth-r1-bundle').fill(empty);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('no-model').waitFor();
    const text = await page.getByTestId('no-model').innerText();
    expect(text).toContain('No model installed yet');
    expect(text).toContain(`${empty} holds no model bundle (manifest.json is missing).`);
    await expect(page.getByTestId('status-model').innerText()).resolves.toBe('No model installed');
    await screenshot(page, 'first-run-no-model', true);
    // Back to the default model.
    await page.getByRole('button', { name: 'Model & device…' }).first().click();
    await page.getByPlaceholder('/path/to/segearth-r1-bundle').fill('');
    await page.getByRole('button', { name: 'Save' }).click();
  });

  it('shows a raster without georeferencing upright, in pixel coordinates, with a warning', async () => {
    const { page } = session;
    await openThroughPicker(page, 'photo.png');
    // Only layer: remove the others so the view takes the photo's pixel space.
    for (const name of ['scene_utm33.tif']) {
      await page.getByTestId('layer-item').filter({ hasText: name }).getByTitle('Remove layer').click();
    }
    await page.waitForFunction(() => window.SegEarthTestHooks!.map().rasters.length === 1);
    await page.getByTestId('layer-item').getByTitle('Zoom to layer').click();
    const item = await page.getByTestId('layer-item').innerText();
    expect(item).toContain('pixel coordinates (no georeferencing)');
    expect(item).toMatch(/georeferenc/i); // the warning of the geo engine is shown with the layer
    // The white block is at the top-left of the image: column 25, row 20 ⇒ map (25, −20).
    const px = (await page.evaluate(() => window.SegEarthTestHooks!.pixelAt([25, -20])))!;
    const dark = (await page.evaluate(() => window.SegEarthTestHooks!.pixelAt([200, -150])))!;
    expect((await page.evaluate(() => window.SegEarthTestHooks!.map())).projection).toMatch(/^SEGEARTH:PIXEL:/);
    await page.waitForFunction(([x, y]) => {
      const c = document.querySelector('[data-testid="map"] canvas') as HTMLCanvasElement | null;
      return !!c && c.getContext('2d', { willReadFrequently: true })!.getImageData(Math.round(x!), Math.round(y!), 1, 1).data[0]! > 200;
    }, px);
    expect((await mapPixel(page, dark))[0]).toBeLessThan(100);
    const box = (await page.getByTestId('map').boundingBox())!;
    await page.mouse.move(box.x + px[0]!, box.y + px[1]!);
    await expect(page.getByTestId('coords').innerText()).resolves.toMatch(/^column 2\d\.\d, row (19|20|21)\.\d$/);
    await screenshot(page, 'no-georeferencing', true);
  });

  it('opens a path dropped on the map, and explains why a dropped browser file cannot be opened', async () => {
    const { page } = session;
    const opened = await eventCount(page, 'layer-opened');
    const drop = async (data: { text?: string; fileName?: string }) =>
      page.getByTestId('map').evaluate((el, d) => {
        const dt = new DataTransfer();
        if (d.text) dt.setData('text/plain', d.text);
        if (d.fileName) dt.items.add(new File(['x'], d.fileName));
        el.dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: dt }));
        el.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt }));
      }, data);
    await drop({ text: join(dir, 'scene_utm33.tif') });
    await waitForEvent(page, 'layer-opened', opened + 1);
    expect((await page.evaluate(() => window.SegEarthTestHooks!.state().layers.map((l) => l.layer.name)))[0]).toBe('scene_utm33.tif');
    await drop({ fileName: 'from-my-laptop.tif' });
    await page.getByTestId('notice').waitFor();
    await expect(page.getByTestId('notice').innerText()).resolves.toContain('The browser does not tell the server where “from-my-laptop.tif” is');
  });
});
