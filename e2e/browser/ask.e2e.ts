/**
 * Browser end-to-end with the real inference runtime and the tiny test bundle (random weights): ask a
 * question through the question panel, see polygons at the right map coordinates (read back through the
 * map and checked against GDAL's own `gdal_calc.py` + `gdal_polygonize.py` on the probability raster), move
 * the threshold slider and see them change without a model re-run, export GeoJSON and check it with
 * `ogrinfo`, ask about a drawn rectangle and polygon (non-empty answers: the threshold is lowered under the
 * answer's highest probability; areas and bounds checked), cancel a long tiled run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gdal from 'gdal-async';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSparseRaster } from '../../test/support/syntheticRaster.js';
import { ensureTinyBundle } from '../../test/support/tinyBundle.js';
import { makeRiverScene } from '../support/riverScene.js';
import { gdalPolygonize } from '../support/gdalPolygonize.js';
import { eventCount, openThroughPicker, screenshot, startSession, stepSlider, waitForEvent, type Session } from '../support/browser.js';

const GT: [number, number, number, number, number, number] = [300000, 2, 0, 4200000, 0, -2];
const SIZE = 768;

function makeScene(path: string): void {
  makeRiverScene(path, { size: SIZE, originX: GT[0], centreY: 300, amplitude: 80, period: 90, phase: 0, halfWidth: 25, fieldX: 480, fieldY: 450 });
}

let dir: string;
let session: Session;

beforeAll(async () => {
  const bundle = await ensureTinyBundle();
  dir = mkdtempSync(join(tmpdir(), 'segearth-e2e-ask-'));
  makeScene(join(dir, 'river_utm31.tif'));
  // A photo without georeferencing (pixel coordinates).
  const mem = gdal.open('', 'w', 'MEM', 400, 300, 3, gdal.GDT_Byte);
  for (let b = 1; b <= 3; b++) {
    const data = new Uint8Array(400 * 300);
    for (let y = 0; y < 300; y++) for (let x = 0; x < 400; x++) data[y * 400 + x] = (x * 3 + y * 5 + b * 40) % 256;
    mem.bands.get(b).pixels.write(0, 0, 400, 300, data);
  }
  gdal.drivers.get('PNG').createCopy(join(dir, 'photo.png'), mem).close();
  mem.close();
  // A large, empty scene for the cancellation test: many full-resolution tiles.
  createSparseRaster(join(dir, 'large_utm31.tif'), 8192, 8192, { srs: 32631, geoTransform: [300000, 1, 0, 4200000, 0, -1], bandCount: 3 });
  session = await startSession({ roots: [dir], defaultModelDir: bundle });
});

afterAll(async () => {
  await session?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type Extent = [number, number, number, number];
const within = (inner: number[], outer: number[], tol: number): boolean =>
  inner[0]! >= outer[0]! - tol && inner[1]! >= outer[1]! - tol && inner[2]! <= outer[2]! + tol && inner[3]! <= outer[3]! + tol;

function cachedProbability(resultId: string): string {
  const path = join(session.dataDir, 'cache', 'results', `${resultId}.probability.tif`);
  expect(existsSync(path)).toBe(true);
  return path;
}

async function mapResult(resultId: string) {
  return session.page.evaluate((id) => window.SegEarthTestHooks!.map().results[id]!, resultId);
}

const byCorner = (a: number[], b: number[]): number => a[0]! - b[0]! || a[1]! - b[1]!;

/** The map's polygons of a result equal GDAL's polygons of its cached probability raster (count, extents, area). */
async function expectGdalPolygons(resultId: string, threshold: number, flipY = false): Promise<void> {
  const reference = gdalPolygonize(cachedProbability(resultId), threshold);
  const refExtents = flipY ? reference.extents.map(([x0, y0, x1, y1]) => [x0, -y1, x1, -y0]).sort(byCorner) : reference.extents;
  const onMap = (await mapResult(resultId)).features.map((f) => f.extent).sort(byCorner);
  expect(onMap.length).toBe(refExtents.length);
  onMap.forEach((e, i) => e.forEach((v, k) => expect(Math.abs(v - refExtents[i]![k]!)).toBeLessThan(1e-6)));
  const summary = await session.page.evaluate((id) => window.SegEarthTestHooks!.state().results.find((r) => r.summary.id === id)!.summary, resultId);
  expect(summary.featureCount).toBe(refExtents.length);
  // area_m2 is ellipsoidal; the scenes are UTM near the central meridian (scale ≈ 0.9996 + distortion ≪ 1 %).
  if (!flipY) expect(Math.abs(summary.totalAreaM2 - reference.area)).toBeLessThanOrEqual(0.01 * reference.area + 1e-6);
}

/** Lowers the newest result's threshold under its highest probability, so the tiny model's answer has polygons. */
async function thresholdUnderMax() {
  const { page } = session;
  const before = await page.evaluate(() => window.SegEarthTestHooks!.state().results[0]!.summary);
  expect(before.maxProbability).toBeGreaterThan(0.08);
  const target = Math.max(0.05, Math.min(0.5, Math.floor((before.maxProbability - 0.02) * 100) / 100));
  if (Math.abs(target - before.threshold) > 1e-9) {
    await stepSlider(page, 'threshold', Math.round((target - before.threshold) * 100));
    await page.waitForFunction((t) => Math.abs(window.SegEarthTestHooks!.state().results[0]!.summary.threshold - t) < 1e-9, target);
  }
  const after = await page.evaluate(() => window.SegEarthTestHooks!.state().results[0]!.summary);
  expect(after.featureCount).toBeGreaterThan(0);
  expect(after.totalAreaM2).toBeGreaterThan(0);
  return after;
}

describe('asking a question in the browser (tiny test bundle)', () => {
  let resultId = '';

  it('answers with polygons at the right map coordinates', async () => {
    const { page } = session;
    await openThroughPicker(page, 'river_utm31.tif');
    await page.getByTestId('question-input').fill('where could flood water spread?');
    await page.getByTestId('ask').click();
    await waitForEvent(page, 'job-started');
    await waitForEvent(page, 'result');
    const state = await page.evaluate(() => window.SegEarthTestHooks!.state());
    expect(state.results).toHaveLength(1);
    const summary = state.results[0]!.summary;
    resultId = summary.id;
    expect(summary.threshold).toBe(0.5);

    // Independent check: GDAL's own tools vectorise the cached probability raster at the same threshold.
    await expectGdalPolygons(resultId, 0.5);
    const bounds: Extent = [GT[0], GT[3] + SIZE * GT[5], GT[0] + SIZE * GT[1], GT[3]];
    for (const f of (await mapResult(resultId)).features) expect(within(f.extent, bounds, 1e-6)).toBe(true);
    if (summary.featureCount === 0) await expect(page.getByTestId('nothing-found').innerText()).resolves.toContain('The model found nothing matching');
    await screenshot(page, 'ask-result', true);
  });

  it('redraws the polygons live when the threshold slider moves (no model re-run)', async () => {
    const { page } = session;
    const before = await page.evaluate(() => window.SegEarthTestHooks!.state().results[0]!.summary);
    const jobsBefore = await eventCount(page, 'job-started');
    const { maxProbability } = before;
    // Down to a threshold under the highest probability, so that polygons must exist.
    const target = Math.max(0.05, Math.min(0.45, Math.floor((maxProbability - 0.02) * 100) / 100));
    const steps = Math.round((target - 0.5) * 100);
    await stepSlider(page, 'threshold', steps);
    await page.waitForFunction((t) => Math.abs(window.SegEarthTestHooks!.state().results[0]!.summary.threshold - t) < 1e-9, target);
    const after = await page.evaluate(() => window.SegEarthTestHooks!.state().results[0]!.summary);
    expect(after.featureCount).toBeGreaterThan(0);
    expect(after.totalAreaM2).toBeGreaterThan(before.totalAreaM2);
    await expectGdalPolygons(resultId, target);
    expect(await eventCount(page, 'job-started')).toBe(jobsBefore); // the model did not run again
    await expect(page.getByTestId('threshold-value').innerText()).resolves.toBe(`${Math.round(target * 100)} %`);

    // A minimum area removes the small polygons.
    await stepSlider(page, 'min-area', 60); // 10^(60/20) = 1000 m²
    await page.waitForFunction(() => window.SegEarthTestHooks!.state().results[0]!.summary.minAreaM2 === 1000);
    const filtered = await page.evaluate(() => window.SegEarthTestHooks!.state().results[0]!.summary);
    const feats = (await mapResult(resultId)).features;
    for (const f of feats) expect(Number(f.properties.area_m2)).toBeGreaterThanOrEqual(1000);
    expect(filtered.featureCount).toBe(feats.length);
    await page.getByTestId('heatmap').check();
    await page.waitForFunction((id) => window.SegEarthTestHooks!.map().results[id]!.heatmap, resultId);
    await screenshot(page, 'threshold-and-heatmap', true);
    await page.getByTestId('heatmap').uncheck();
  });

  it('exports GeoJSON that ogrinfo reads back with the same polygons', async () => {
    const { page } = session;
    const summary = await page.evaluate(() => window.SegEarthTestHooks!.state().results[0]!.summary);
    await page.getByTestId('export-open').click();
    await page.getByTestId('export-dialog').waitFor();
    await page.getByTestId('format-geojson').check();
    const out = join(dir, 'flood.geojson');
    await page.getByTestId('export-path').fill(out);
    await screenshot(page, 'export-dialog', true);
    await page.getByTestId('export-run').click();
    await page.getByTestId('export-done').waitFor();
    const info = execFileSync('ogrinfo', ['-ro', '-so', '-al', out], { encoding: 'utf8' });
    expect(info).toContain(`Feature Count: ${summary.featureCount}`);
    expect(info).toMatch(/WGS 84|EPSG.*4326/);
    const geojson = JSON.parse(readFileSync(out, 'utf8')) as { features: Array<{ properties: Record<string, unknown> }> };
    expect(geojson.features).toHaveLength(summary.featureCount);
    expect(geojson.features[0]?.properties.question).toBe('where could flood water spread?');
    // Exporting again to the same file without "replace" is refused with a clear message.
    await page.getByTestId('export-run').click();
    await page.getByTestId('export-error').waitFor();
    await expect(page.getByTestId('export-error').innerText()).resolves.toMatch(/exists/i);
    await page.keyboard.press('Escape');
  });

  it('shows the attributes of a polygon when it is clicked', async () => {
    const { page } = session;
    const feats = (await mapResult(resultId)).features;
    expect(feats.length).toBeGreaterThan(0);
    const anchor = feats[0]!.anchor!;
    const pixel = await page.evaluate(([x, y]) => window.SegEarthTestHooks!.pixelAt([x!, y!]), anchor);
    const box = (await page.getByTestId('map').boundingBox())!;
    await page.mouse.click(box.x + pixel![0]!, box.y + pixel![1]!);
    await page.getByTestId('popup').waitFor();
    const text = await page.getByTestId('popup').innerText();
    expect(text).toContain('area_m2');
    expect(text).toContain('where could flood water spread?');
    await screenshot(page, 'attribute-popup', true);
    await page.getByTestId('popup').getByRole('button', { name: 'Close' }).click();
  });

  it('asks about a drawn rectangle only', async () => {
    const { page } = session;
    await page.getByTestId('aoi-rectangle').check();
    const box = (await page.getByTestId('map').boundingBox())!;
    const a = [box.width * 0.45, box.height * 0.3];
    const b = [box.width * 0.7, box.height * 0.6];
    await page.mouse.click(box.x + a[0]!, box.y + a[1]!);
    await page.mouse.move(box.x + b[0]!, box.y + b[1]!, { steps: 5 });
    await page.mouse.click(box.x + b[0]!, box.y + b[1]!);
    const ca = (await page.evaluate((p) => window.SegEarthTestHooks!.coordinateAt([p[0]!, p[1]!]), a))!;
    const cb = (await page.evaluate((p) => window.SegEarthTestHooks!.coordinateAt([p[0]!, p[1]!]), b))!;
    const drawn = [Math.min(ca[0]!, cb[0]!), Math.min(ca[1]!, cb[1]!), Math.max(ca[0]!, cb[0]!), Math.max(ca[1]!, cb[1]!)];
    const results = await eventCount(page, 'result');
    await page.getByTestId('question-input').fill('which areas would be suitable for a new sports field?');
    await page.getByTestId('ask').click();
    await waitForEvent(page, 'result', results + 1);
    const summary = await page.evaluate(() => window.SegEarthTestHooks!.state().results[0]!.summary);
    expect(summary.aoi.kind).toBe('rectangle');
    // The AOI sent is the rectangle drawn (within one screen pixel: mouse positions are fractional).
    const res = (await page.evaluate(() => window.SegEarthTestHooks!.map())).resolution;
    summary.aoi.extent!.forEach((v, i) => expect(Math.abs(v - drawn[i]!)).toBeLessThan(res));
    // The probability raster covers the rectangle (snapped outwards to whole pixels), nothing more.
    const aoi = summary.aoi.extent!;
    expect(within(summary.probability!.extent, aoi, GT[1] + 1e-6)).toBe(true);
    expect(within(aoi, summary.probability!.extent, 1e-6)).toBe(true);
    const answered = await thresholdUnderMax();
    await expectGdalPolygons(summary.id, answered.threshold);
    const rectangleArea = (aoi[2] - aoi[0]) * (aoi[3] - aoi[1]);
    expect(answered.totalAreaM2).toBeLessThanOrEqual(rectangleArea * 1.01);
    for (const f of (await mapResult(summary.id)).features) expect(within(f.extent, aoi, GT[1] + 1e-6)).toBe(true);
    await screenshot(page, 'rectangle-aoi', true);
    await page.getByTestId('aoi-scene').check();
  });

  it('keeps the question history of the scene: re-run and delete', async () => {
    const { page } = session;
    const history = page.getByTestId('history').locator('li');
    const before = await history.count();
    expect(before).toBe(2);
    const results = await eventCount(page, 'result');
    await history.last().getByTitle('Ask again').click();
    await waitForEvent(page, 'result', results + 1);
    expect(await history.count()).toBe(3);
    const newest = await page.evaluate(() => window.SegEarthTestHooks!.state().results[0]!.summary);
    expect(newest.question).toBe('where could flood water spread?');
    expect(newest.id).not.toBe(resultId);
    await history.first().getByTitle('Delete this result').click();
    await page.waitForFunction((id) => !window.SegEarthTestHooks!.state().results.some((r) => r.summary.id === id), newest.id);
    expect(await history.count()).toBe(2);
    expect(existsSync(join(session.dataDir, 'cache', 'results', `${newest.id}.probability.tif`))).toBe(false);
    expect(await page.evaluate((id) => window.SegEarthTestHooks!.map().results[id], newest.id)).toBeUndefined();
  });

  it('asks about a drawn polygon: the answer stays inside it', async () => {
    const { page } = session;
    await page.getByTestId('aoi-polygon').check();
    const box = (await page.getByTestId('map').boundingBox())!;
    const corners = [
      [box.width * 0.4, box.height * 0.2],
      [box.width * 0.75, box.height * 0.35],
      [box.width * 0.45, box.height * 0.7],
    ];
    for (const [x, y] of corners) await page.mouse.click(box.x + x!, box.y + y!);
    await page.mouse.dblclick(box.x + corners[0]![0]!, box.y + corners[0]![1]!);
    const results = await eventCount(page, 'result');
    await page.getByTestId('question-input').fill('where could a helicopter land safely?');
    await page.getByTestId('ask').click();
    await waitForEvent(page, 'result', results + 1);
    const summary = await page.evaluate(() => window.SegEarthTestHooks!.state().results[0]!.summary);
    expect(summary.aoi.kind).toBe('polygon');
    const ring = (summary.aoi as unknown as { ring: Array<[number, number]> }).ring;
    const inside = (x: number, y: number): boolean => {
      let hit = false;
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const [xi, yi] = ring[i]!;
        const [xj, yj] = ring[j]!;
        if (yi > y !== yj > y && x < xi + ((y - yi) / (yj - yi)) * (xj - xi)) hit = !hit;
      }
      return hit;
    };
    const distanceToRing = (x: number, y: number): number => {
      let best = Infinity;
      for (let i = 0; i + 1 < ring.length; i++) {
        const [ax, ay] = ring[i]!;
        const [bx, by] = ring[i + 1]!;
        const t = Math.max(0, Math.min(1, ((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2)));
        best = Math.min(best, Math.hypot(x - (ax + t * (bx - ax)), y - (ay + t * (by - ay))));
      }
      return best;
    };
    const answered = await thresholdUnderMax();
    await expectGdalPolygons(summary.id, answered.threshold);
    // No more area than the drawn polygon's (shoelace, map units = m).
    let drawnArea = 0;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) drawnArea += (ring[j]![0] + ring[i]![0]) * (ring[j]![1] - ring[i]![1]);
    expect(answered.totalAreaM2).toBeLessThanOrEqual(Math.abs(drawnArea / 2) * 1.01);
    // Every polygon vertex is inside the drawn polygon, or within one pixel of its outline (pixel edges).
    const features = session.app.backend.inference.getFeatures(summary.id);
    expect(features.features.length).toBe(answered.featureCount);
    expect(features.features.length).toBeGreaterThan(0);
    for (const f of features.features) {
      const rings = f.geometry.type === 'Polygon' ? f.geometry.coordinates : f.geometry.coordinates.flat();
      for (const [x, y] of rings.flat()) expect(inside(x!, y!) || distanceToRing(x!, y!) <= GT[1] * Math.SQRT2 + 1e-6).toBe(true);
    }
    await screenshot(page, 'polygon-aoi', true);
    await page.getByTestId('aoi-scene').check();
  });

  it('answers about a raster without georeferencing, drawn upright in pixel space', async () => {
    const { page } = session;
    await openThroughPicker(page, 'photo.png');
    expect((await page.evaluate(() => window.SegEarthTestHooks!.map())).projection).toMatch(/^SEGEARTH:PIXEL:/);
    const results = await eventCount(page, 'result');
    await page.getByTestId('question-input').fill('where are the bright areas?');
    await page.getByTestId('ask').click();
    await waitForEvent(page, 'result', results + 1);
    const summary = await page.evaluate(() => window.SegEarthTestHooks!.state().results[0]!.summary);
    // GDAL's polygons are in (column, row); the map shows (column, −row).
    await expectGdalPolygons(summary.id, summary.threshold, true);
    const onMap = (await mapResult(summary.id)).features.map((f) => f.extent);
    for (const e of onMap) expect(within(e, [0, -300, 400, 0], 1e-6)).toBe(true);
    await screenshot(page, 'no-georeferencing-answer');
  });

  it('cancels a long run and keeps nothing from it', async () => {
    const { page } = session;
    await openThroughPicker(page, 'large_utm31.tif');
    await page.getByTestId('question-input').fill('which roofs could hold solar panels?');
    await page.getByTestId('strategy').selectOption('tiled');
    const started = await eventCount(page, 'job-started');
    await page.getByTestId('ask').click();
    await waitForEvent(page, 'job-started', started + 1);
    await page.getByTestId('progress').waitFor();
    await page.waitForFunction(() => /tile \d+ of \d+/i.test(document.querySelector('[data-testid="progress"]')?.textContent ?? ''));
    await screenshot(page, 'progress', true);
    await page.getByTestId('cancel').click();
    await waitForEvent(page, 'cancelled');
    await expect(page.getByTestId('notice').innerText()).resolves.toContain('Cancelled');
    const state = await page.evaluate(() => window.SegEarthTestHooks!.state());
    expect(state.jobRunning).toBe(false);
    expect(state.results.filter((r) => r.summary.question === 'which roofs could hold solar panels?')).toHaveLength(0);
    const kept = new Set(state.results.map((r) => `${r.summary.id}.probability.tif`));
    const cache = join(session.dataDir, 'cache', 'results');
    expect(readdirSync(cache).filter((f) => !kept.has(f))).toEqual([]);
  });
});
