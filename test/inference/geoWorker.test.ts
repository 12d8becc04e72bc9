/**
 * The geo process (`inference/worker/geoClient` + `geo.process`): the polygon step run in a child process
 * gives the same FeatureSet as in this process, and the polygons GDAL's own tools make (`gdal_calc.py` +
 * `gdal_polygonize.py`); cancellation; a process killed with SIGKILL fails its request clearly and the next
 * request starts a new one; a message it cannot read is refused, on both sides; one polygon of more than 200 000
 * positions arrives exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { vectorizeMask } from '../../src/geo/maskToPolygons.js';
import { answerPolygons } from '../../src/inference/scene/result.js';
import { GeoWorker } from '../../src/inference/worker/geoClient.js';
import { FromGeoSchema } from '../../src/inference/worker/geoProtocol.js';
import { FeatureAssembler, MESSAGE_LIMITS } from '../../src/inference/worker/geoFeatureStream.js';
import { isSegEarthError } from '../../src/shared/errors.js';
import type { AreaGeometry, FeatureSet } from '../../src/shared/featureSet.js';
import { gdalPolygonize } from '../../e2e/support/gdalPolygonize.js';
import { probabilityBlobs, probabilityNoise } from '../support/probabilityRasters.js';
import { createRaster, makeTempDir, removeDir } from '../support/syntheticRaster.js';
import { REPO_ROOT } from '../support/tinyBundle.js';

const PROVENANCE = { question: 'where is the water?', modelId: 'test', bundleSha256: 'abc', source: 'scene.tif', createdAt: '2026-01-01T00:00:00Z' };

function ringArea(ring: number[][]): number {
  let s = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) s += (ring[j]![0]! + ring[i]![0]!) * (ring[j]![1]! - ring[i]![1]!);
  return Math.abs(s) / 2;
}
const planarArea = (g: AreaGeometry): number =>
  (g.type === 'Polygon' ? [g.coordinates] : g.coordinates).reduce((n, [outer, ...holes]) => n + ringArea(outer!) - holes.reduce((h, r) => h + ringArea(r), 0), 0);

const code = (err: unknown): string | null => (isSegEarthError(err) ? err.code : null);

let dir: string;
let small: string;
let large: string;
const geo = new GeoWorker();

beforeAll(() => {
  dir = makeTempDir('segearth-geo-worker-');
  small = probabilityBlobs(join(dir, 'small.tif'), 400, 60, 7);
  large = probabilityNoise(join(dir, 'large.tif'), 600, 11);
});

afterAll(async () => {
  await geo.dispose();
  removeDir(dir);
});

describe('geo process', () => {
  it('gives the same FeatureSet as in-process answerPolygons, and the polygons of gdal_polygonize.py', async () => {
    const settings = { threshold: 0.5, minAreaM2: 0 };
    const inProcess = await answerPolygons(small, settings, PROVENANCE, (input, options) => vectorizeMask(input, options));
    const child: FeatureSet = await geo.answerPolygons(small, settings, PROVENANCE);
    expect(child).toEqual(inProcess);
    const reference = gdalPolygonize(small, 0.5);
    expect(child.features.length).toBe(reference.extents.length);
    expect(child.features.length).toBeGreaterThan(10);
    const area = child.features.reduce((n, f) => n + planarArea(f.geometry), 0);
    expect(Math.abs(area - reference.area) / reference.area).toBeLessThan(1e-9);
    expect(child.crsCode).toBe('EPSG:32631');
    for (const f of child.features) {
      expect(f.properties.question).toBe(PROVENANCE.question);
      expect(f.properties.mean_prob).toBeGreaterThanOrEqual(0.5);
    }
  }, 120_000);

  it('gives the same FeatureSet when the answer comes in many messages (a large answer)', async () => {
    const settings = { threshold: 0.9, minAreaM2: 0 };
    const child = await geo.answerPolygons(large, settings, PROVENANCE);
    expect(child.features.length).toBeGreaterThan(4 * MESSAGE_LIMITS.features);
    expect(child.features.length).toBe(gdalPolygonize(large, 0.9).extents.length);
    expect(child).toEqual(await answerPolygons(large, settings, PROVENANCE, (input, options) => vectorizeMask(input, options)));
  }, 180_000);

  it('keeps the error codes of the polygon step (a raster that is not there, a negative minimum area)', async () => {
    const missing = await geo.answerPolygons(join(dir, 'missing.tif'), { threshold: 0.5, minAreaM2: 0 }, PROVENANCE).catch((e: unknown) => e);
    expect(code(missing)).toBe('NOT_FOUND');
    const negative = await geo.answerPolygons(small, { threshold: 0.5, minAreaM2: -1 }, PROVENANCE).catch((e: unknown) => e);
    expect(code(negative)).toBe('BAD_ARGUMENT');
  }, 120_000);

  it('cancels: an aborted request rejects with CANCELLED, and the next one answers', async () => {
    await geo.start();
    const controller = new AbortController();
    const running = geo.answerPolygons(large, { threshold: 0.9, minAreaM2: 0, signal: controller.signal }, PROVENANCE);
    await new Promise((r) => setImmediate(r)); // the request is on its way: aborting sends `cancel`
    controller.abort();
    expect(code(await running.catch((e: unknown) => e))).toBe('CANCELLED');
    const before = new AbortController();
    before.abort();
    expect(code(await geo.answerPolygons(small, { threshold: 0.5, minAreaM2: 0, signal: before.signal }, PROVENANCE).catch((e: unknown) => e))).toBe('CANCELLED');
    expect((await geo.answerPolygons(small, { threshold: 0.5, minAreaM2: 0 }, PROVENANCE)).features.length).toBeGreaterThan(10);
  }, 120_000);

  it('a geo process killed with SIGKILL fails its request with a clear error; the next request starts a new one', async () => {
    await geo.start();
    const pid = geo.pid!;
    const running = geo.answerPolygons(large, { threshold: 0.9, minAreaM2: 0 }, PROVENANCE);
    await new Promise((r) => setImmediate(r)); // the request is on its way
    process.kill(pid, 'SIGKILL');
    const err = await running.catch((e: unknown) => e);
    expect(code(err)).toBe('INFERENCE_FAILED');
    expect((err as Error).message).toMatch(/polygons .*(SIGKILL)|geo process/);
    const again = await geo.answerPolygons(small, { threshold: 0.5, minAreaM2: 0 }, PROVENANCE);
    expect(again.features.length).toBe(gdalPolygonize(small, 0.5).extents.length);
    expect(geo.pid).not.toBe(pid);
  }, 120_000);

  it('dispose waits until the geo process has exited, also when nothing else keeps this process alive', () => {
    // In a process of its own: there, an idle geo process's handles are all that is left to wait on.
    const script = join(dir, 'dispose.mts');
    writeFileSync(
      script,
      `import { GeoWorker } from ${JSON.stringify(join(REPO_ROOT, 'src/inference/worker/geoClient.ts'))};\n` +
        'const geo = new GeoWorker();\nawait geo.start();\nconst pid = geo.pid;\nawait geo.dispose();\n' +
        "let alive = true;\ntry { process.kill(pid, 0); } catch { alive = false; }\nconsole.log(alive ? 'still running' : 'disposed');\n",
    );
    const run = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('disposed');
    expect(run.status).toBe(0);
  }, 180_000);

  it('refuses a message it cannot read (the request fails, the process keeps answering)', async () => {
    // NaN crosses the channel (structured clone) and the geo process's schema refuses it.
    const bad = await geo.answerPolygons(small, { threshold: Number.NaN, minAreaM2: 0 }, PROVENANCE).catch((e: unknown) => e);
    expect(code(bad)).toBe('INTERNAL');
    expect((bad as Error).message).toMatch(/Bad message to the geo process.*threshold/s);
    expect((await geo.answerPolygons(small, { threshold: 0.5, minAreaM2: 0 }, PROVENANCE)).features.length).toBeGreaterThan(10);
  }, 120_000);

  it('refuses a features message that does not hold together (NaN, counts that do not match, a short ring)', () => {
    // A square as the geo process sends it: one Polygon of one ring of 4 positions.
    const square = [0, 0, 1, 0, 1, 1, 0, 0];
    const message = (over: Record<string, unknown> = {}) => ({
      type: 'features', id: 1, features: [{ id: 1, properties: { id: 1 }, type: 'Polygon' }],
      polygons: Uint32Array.of(1), rings: Uint32Array.of(1), positions: Uint32Array.of(4), coordinates: Float64Array.from(square), ...over,
    });
    const refusal = (over: Record<string, unknown>): string => {
      const parsed = FromGeoSchema.safeParse(message(over));
      return parsed.success ? 'accepted' : parsed.error.message;
    };
    expect(FromGeoSchema.safeParse(message()).success).toBe(true);
    expect(refusal({ coordinates: Float64Array.from([0, 0, 1, Number.NaN, 1, 1, 0, 0]) })).toMatch(/coordinate 3 is NaN/);
    expect(refusal({ coordinates: Float64Array.from([0, 0, 1, 0, 1, 1, Infinity, 0]) })).toMatch(/coordinate 6 is Infinity/);
    expect(refusal({ coordinates: Float64Array.from([0, 0, 1]) })).toMatch(/odd number of coordinates/);
    expect(refusal({ positions: Uint32Array.of(3) })).toMatch(/fewer than 4 positions/);
    expect(refusal({ positions: Uint32Array.of(4, 4) })).toMatch(/2 position counts for 1 rings/);
    expect(refusal({ rings: Uint32Array.of(1, 1) })).toMatch(/2 ring counts for 1 polygons/);
    expect(refusal({ polygons: Uint32Array.of(2) })).toMatch(/2 polygons in a Polygon/);
    expect(refusal({ polygons: Uint32Array.of() })).toMatch(/0 polygon counts for 1 features/);
    expect(refusal({ coordinates: [0, 0, 1, 0, 1, 1, 0, 0] })).toMatch(/coordinates/); // not a Float64Array
    // Across messages: coordinates for no ring, and an answer that ends inside a ring.
    const extra = new FeatureAssembler();
    expect(() => extra.add(message({ coordinates: Float64Array.from([...square, 5, 5]) }) as never)).toThrow(/1 positions more than the rings/);
    const short = new FeatureAssembler();
    short.add(message({ coordinates: Float64Array.from(square.slice(0, 6)) }) as never);
    expect(() => short.finish()).toThrow(/1 rings still missing positions/);
  });

  it('gives one polygon of more than 200 000 positions, in many messages, exactly as in-process answerPolygons', async () => {
    // One connected region with a one-pixel hole at every odd (row, column): 62 500 holes of 5 positions.
    const size = 501;
    const lattice = createRaster(join(dir, 'lattice.tif'), {
      width: size, height: size, dataType: 'Float32', srs: 32631, geoTransform: [500000, 2, 0, 4000000, 0, -2],
      value: (_b, x, y) => (x % 2 === 1 && y % 2 === 1 ? 0.1 : 0.9),
    });
    const settings = { threshold: 0.5, minAreaM2: 0 };
    const inProcess = await answerPolygons(lattice, settings, PROVENANCE, (input, options) => vectorizeMask(input, options));
    expect(inProcess.features.length).toBe(1);
    const rings = (g: AreaGeometry) => (g.type === 'Polygon' ? [g.coordinates] : g.coordinates).flat();
    const positions = rings(inProcess.features[0]!.geometry).reduce((n, r) => n + r.length, 0);
    expect(positions).toBeGreaterThan(Math.max(200_000, 4 * MESSAGE_LIMITS.positions));
    // Independent reference: gdal_polygonize.py's area.
    expect(planarArea(inProcess.features[0]!.geometry)).toBeCloseTo(gdalPolygonize(lattice, 0.5).area, 3);
    const child = await geo.answerPolygons(lattice, settings, PROVENANCE);
    expect(child).toEqual(inProcess);
  }, 240_000);
});
