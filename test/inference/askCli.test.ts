import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gdal from 'gdal-async';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, ensureTinyBundle } from '../support/tinyBundle.js';

const dir = mkdtempSync(join(tmpdir(), 'segearth-ask-cli-'));
const scene = join(dir, 'scene.tif');
let tiny: string;

function segearth(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'segearth.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, SEGEARTH_FROM_SOURCE: '1' },
    timeout: 300_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  tiny = await ensureTinyBundle();
  const ds = gdal.open(scene, 'w', 'GTiff', 320, 240, 3, gdal.GDT_Byte);
  ds.geoTransform = [300000, 10, 0, 5000000, 0, -10];
  ds.srs = gdal.SpatialReference.fromEPSG(32633);
  for (let b = 1; b <= 3; b++) {
    ds.bands.get(b).pixels.write(0, 0, 320, 240, new Uint8Array(320 * 240).map((_, i) => (((i % 320) * b + Math.floor(i / 320) * 3) % 200) + 20));
  }
  ds.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('segearth ask', () => {
  it('writes polygons and the probability raster; --json reports model, provider and counts', () => {
    const out = join(dir, 'answer.geojson');
    const prob = join(dir, 'answer.tif');
    const r = segearth('ask', scene, 'where are the fields?', '--model', tiny, '--ep', 'cpu', '--threshold', '0.3', '--probability', prob, '-o', out, '--json');
    expect(r.stderr).toMatch(/test fixture with random weights/);
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({ strategy: 'view', threshold: 0.3, model: { id: 'tiny-test', testFixture: true }, executionProvider: { provider: 'cpu' } });
    expect(summary.output).toEqual([out]);
    expect(existsSync(prob)).toBe(true);
    const ds = gdal.open(prob);
    expect(ds.rasterSize).toEqual({ x: 320, y: 240 });
    expect(ds.geoTransform).toEqual([300000, 10, 0, 5000000, 0, -10]);
    ds.close();
    const layer = gdal.open(out).layers.get(0);
    expect(layer.features.count()).toBe(summary.featureCount);
  });

  it('meaningful exit codes: usage 2, input 3, output 4', () => {
    const out = join(dir, 'x.gpkg');
    expect(segearth('ask', scene, '   ', '--model', tiny, '-o', out).status).toBe(2);
    const bad = segearth('ask', scene, 'roads', '--model', tiny, '--threshold', '1', '-o', out);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/probability in \(0, 1\)/);
    const missing = segearth('ask', scene, 'roads', '--model', join(dir, 'no-model'), '-o', out);
    expect(missing.status).toBe(3);
    expect(missing.stderr).toMatch(/error: No model bundle folder/);
    writeFileSync(out, 'exists');
    const exists = segearth('ask', scene, 'roads', '--model', tiny, '--ep', 'cpu', '-o', out);
    expect(exists.status).toBe(4);
  });
});
