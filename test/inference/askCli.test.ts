import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gdal from 'gdal-async';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ProgressLineSchema } from '../../src/cli/jsonProgress.js';
import { COMMANDS } from '../../src/cli/commandList.js';
import { runCli } from '../../src/cli/run.js';
import { InferenceRuntime } from '../../src/inference/runtime/runtime.js';
import type { SceneRequest } from '../../src/inference/scene/scene.js';
import { REPO_ROOT, ensureTinyBundle } from '../support/tinyBundle.js';
import { writeScene } from './support/scenes.js';

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

describe('segearth ask --view-output', () => {
  it('the view raster is at most 1024 px per side by default, the source grid with full, exactly over the scene', () => {
    // 1300 × 1000 px of 10 m: the view strategy (auto), larger than the model's answer.
    const big = join(dir, 'big.tif');
    const ds = gdal.open(big, 'w', 'GTiff', 1300, 1000, 3, gdal.GDT_Byte);
    ds.geoTransform = [300000, 10, 0, 5000000, 0, -10];
    ds.srs = gdal.SpatialReference.fromEPSG(32633);
    for (let b = 1; b <= 3; b++) ds.bands.get(b).pixels.write(0, 0, 1300, 1000, new Uint8Array(1300 * 1000).map((_, i) => ((i % 1300) * b + Math.floor(i / 1300) * 2) % 220));
    ds.close();
    const grid = (args: string[], name: string): { size: number[]; gt: number[]; lowerRight: number[] } => {
      const prob = join(dir, `${name}.tif`);
      const r = segearth('ask', big, 'where are the fields?', '--model', tiny, '--ep', 'cpu', '--probability', prob, '-o', join(dir, `${name}.gpkg`), ...args);
      expect(r.stderr).not.toMatch(/^error/m);
      expect(r.status).toBe(0);
      const info = JSON.parse(spawnSync('gdalinfo', ['-json', prob], { encoding: 'utf8' }).stdout) as {
        size: number[];
        geoTransform: number[];
        cornerCoordinates: { lowerRight: number[] };
      };
      return { size: info.size, gt: info.geoTransform, lowerRight: info.cornerCoordinates.lowerRight };
    };
    const byDefault = grid([], 'view-default');
    expect(byDefault.size).toEqual([1024, 788]); // 1000 / (1300 / 1024) = 787.7
    [300000, 13000 / 1024, 0, 5000000, 0, -10000 / 788].forEach((v, i) => expect(byDefault.gt[i]).toBeCloseTo(v, 6));
    [313000, 4990000].forEach((v, i) => expect(byDefault.lowerRight[i]).toBeCloseTo(v, 6));
    const full = grid(['--view-output', 'full'], 'view-full');
    expect(full.size).toEqual([1300, 1000]);
    expect(full.gt).toEqual([300000, 10, 0, 5000000, 0, -10]);
    const bad = segearth('ask', big, 'roads', '--model', tiny, '--view-output', '0', '-o', join(dir, 'view-bad.gpkg'));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--view-output 0 is not valid/);
  });
});

/** Band 1 of a raster as numbers, with its grid. */
function readBand(path: string): { values: Float64Array; width: number; height: number; gt: number[] } {
  const ds = gdal.open(path);
  const { x: width, y: height } = ds.rasterSize;
  const values = new Float64Array(width * height);
  ds.bands.get(1).pixels.read(0, 0, width, height, values);
  const gt = ds.geoTransform!;
  ds.close();
  return { values, width, height, gt };
}

function tool(cmd: string, ...args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
}

describe('segearth ask --json progress and --aoi <polygons file>', () => {
  it('prints progress as JSON lines on stderr, reaching 1', () => {
    const out = join(dir, 'progress.gpkg');
    const r = segearth('ask', scene, 'where are the fields?', '--model', tiny, '--ep', 'cpu', '-o', out, '--json');
    expect(r.status).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => ProgressLineSchema.parse(JSON.parse(l)));
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.at(-1)!.fraction).toBe(1);
    for (let i = 1; i < lines.length; i++) expect(lines[i]!.fraction).toBeGreaterThanOrEqual(lines[i - 1]!.fraction);
    expect(new Set(lines.map((l) => l.stage))).toContain('image');
  });

  it('clips the answer to polygons given in another CRS: zero probability exactly outside them (gdal_rasterize reference)', () => {
    // A triangle and a separate square with a hole, in UTM 33N, stored as a Web-Mercator GeoPackage by ogr2ogr.
    const utm = join(dir, 'aoi-utm.geojson');
    writeFileSync(utm, JSON.stringify({
      type: 'FeatureCollection',
      crs: { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::32633' } },
      features: [
        { type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [[[300503, 4999003], [301333, 4999207], [300911, 4998377], [300503, 4999003]]] } },
        { type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [
          [[301803, 4998803], [302603, 4998803], [302603, 4998003], [301803, 4998003], [301803, 4998803]],
          [[302003, 4998603], [302403, 4998603], [302403, 4998203], [302003, 4998203], [302003, 4998603]],
        ] } },
      ],
    }));
    const aoi = join(dir, 'aoi-3857.gpkg');
    tool('ogr2ogr', '-t_srs', 'EPSG:3857', aoi, utm);
    const out = join(dir, 'clipped.gpkg');
    const prob = join(dir, 'clipped.tif');
    const r = segearth('ask', scene, 'where are the fields?', '--model', tiny, '--ep', 'cpu', '--aoi', aoi, '--probability', prob, '-o', out, '--threshold', '0.01', '--json');
    expect(r.stderr).not.toMatch(/^error/m);
    expect(r.status).toBe(0);
    const p = readBand(prob);
    // The window is the polygons' bounding box, on the source grid.
    expect(p.gt).toEqual([300500, 10, 0, 4999210, 0, -10]);
    expect([p.width, p.height]).toEqual([211, 121]);
    const ref = join(dir, 'clipped-ref.tif');
    const [x0, , , y0] = p.gt as [number, number, number, number];
    tool('gdal_rasterize', '-burn', '1', '-ot', 'Byte', '-te', String(x0), String(y0 - 10 * p.height), String(x0 + 10 * p.width), String(y0), '-ts', String(p.width), String(p.height), utm, ref);
    const inside = readBand(ref).values;
    let insideCount = 0;
    for (let i = 0; i < inside.length; i++) {
      if (inside[i]) {
        insideCount++;
        expect(p.values[i]).toBeGreaterThan(0);
      } else {
        expect(p.values[i]).toBe(0);
      }
    }
    expect(insideCount).toBeGreaterThan(1000);
    // Every polygon lies inside the AOI: their union is covered by the AOI polygons (GEOS via OGR).
    const polygons = gdal.open(out).layers.get(0);
    const area = gdal.open(utm).layers.get(0);
    const aoiUnion = new gdal.MultiPolygon();
    for (const f of area.features) aoiUnion.children.add(f.getGeometry() as gdal.Polygon);
    const buffered = aoiUnion.unionCascaded().buffer(10, 8);
    expect(polygons.features.count()).toBeGreaterThan(0);
    for (const f of polygons.features) expect(buffered.contains(f.getGeometry()!)).toBe(true);
  });

  it('refuses an AOI file without polygons or that does not exist (exit 2 / 3), writing nothing', () => {
    const points = join(dir, 'points.geojson');
    writeFileSync(points, JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [15, 45] } }] }));
    const out = join(dir, 'none.gpkg');
    const noPolygons = segearth('ask', scene, 'roads', '--model', tiny, '--ep', 'cpu', '--aoi', points, '-o', out);
    expect(noPolygons.status).toBe(2);
    expect(noPolygons.stderr).toMatch(/error: .*holds no polygon/);
    const missing = segearth('ask', scene, 'roads', '--model', tiny, '--ep', 'cpu', '--aoi', join(dir, 'nope.gpkg'), '-o', out);
    expect(missing.status).toBe(3);
    expect(existsSync(out)).toBe(false);
  });
});

/** This process's children running the inference worker (from /proc: Linux). */
function inferenceWorkerProcesses(): number[] {
  const children = readdirSync('/proc/self/task').flatMap((t) =>
    readFileSync(`/proc/self/task/${t}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
  );
  return children.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('inference.worker');
    } catch {
      return false; // already gone
    }
  });
}

describe('segearth ask keeps no views and releases the model before vectorizing (one question, then the process ends)', () => {
  it('asks with cacheViews: false; the worker holds 0 cached views when the model is released, before the polygons are made', async () => {
    const requests: SceneRequest[] = [];
    const cacheAtDispose: Array<{ views: number; bytes: number }> = [];
    const calls: string[] = [];
    const ask = InferenceRuntime.prototype.askToLayer;
    const dispose = InferenceRuntime.prototype.dispose;
    const polygons = InferenceRuntime.prototype.polygonLayer;
    // Call-through spies: the real runtime runs; they only record the request, the order of calls and the
    // cache just before the model goes.
    const askSpy = vi.spyOn(InferenceRuntime.prototype, 'askToLayer').mockImplementation(function (this: InferenceRuntime, request, options) {
      requests.push(request);
      return ask.call(this, request, options);
    });
    const workersAtDispose: number[][] = [];
    const workersAtPolygons: number[][] = [];
    const disposeSpy = vi.spyOn(InferenceRuntime.prototype, 'dispose').mockImplementation(async function (this: InferenceRuntime) {
      if (!calls.includes('dispose')) {
        cacheAtDispose.push(await this.cacheInfo());
        workersAtDispose.push(inferenceWorkerProcesses());
      }
      calls.push('dispose');
      return dispose.call(this);
    });
    const polygonsSpy = vi.spyOn(InferenceRuntime.prototype, 'polygonLayer').mockImplementation(function (this: InferenceRuntime, ...args) {
      calls.push('polygons');
      workersAtPolygons.push(inferenceWorkerProcesses());
      return polygons.apply(this, args);
    });
    try {
      let stderr = '';
      const out = join(dir, 'no-cache.geojson');
      const status = await runCli(['node', 'segearth', 'ask', scene, 'where are the fields?', '--model', tiny, '--ep', 'cpu', '--strategy', 'tiled', '-o', out], COMMANDS, {
        out: () => undefined,
        err: (t) => (stderr += t),
      });
      expect(status, stderr).toBe(0);
      expect(requests.map((r) => r.cacheViews)).toEqual([false]);
      expect(cacheAtDispose).toHaveLength(1);
      expect(cacheAtDispose[0]).toMatchObject({ views: 0, bytes: 0 });
      // Released once the probability raster is written, before vectorizing (the CLI's own dispose is a no-op).
      expect(calls.slice(0, 2)).toEqual(['dispose', 'polygons']);
      // The model ran in a child process (its memory all goes back to the system when it ends), which has
      // exited when the polygons are made.
      expect(workersAtDispose).toHaveLength(1);
      expect(workersAtDispose[0]).toHaveLength(1);
      expect(workersAtPolygons).toEqual([[]]);
      expect(readFileSync(out, 'utf8')).toMatch(/"FeatureCollection"/);
    } finally {
      askSpy.mockRestore();
      disposeSpy.mockRestore();
      polygonsSpy.mockRestore();
    }
  }, 300_000);
});

describe('segearth ask: Ctrl-C in a terminal', () => {
  it('reaches the model\'s child process too (the whole process group): exit 130, nothing written, no process left', async () => {
    const big = join(dir, 'big.tif');
    writeScene(big, 2300, 1500);
    const out = join(dir, 'ctrl-c.gpkg');
    // Its own process group, as a shell gives a foreground job: the SIGINT below goes to every process in it.
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'segearth.js'), 'ask', big, 'where are the roads?', '--model', tiny, '--ep', 'cpu', '--strategy', 'tiled', '--json', '-o', out], {
      env: { ...process.env, SEGEARTH_FROM_SOURCE: '1' },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let workers: number[] = [];
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (workers.length === 0 && /"stage":"tiles"/.test(stderr)) {
          workers = childPids(child.pid!);
          process.kill(-child.pid!, 'SIGINT');
          resolve();
        }
      });
      void exited.then(() => reject(new Error(`ended before its tiles: ${stderr}`)));
    });
    expect(await exited, stderr).toBe(130);
    expect(stderr).toMatch(/[Cc]ancel/);
    expect(existsSync(out)).toBe(false);
    expect(workers).toHaveLength(1);
    // The model's process has ended too.
    await expect.poll(() => existsSync(`/proc/${workers[0]}`), { timeout: 10_000 }).toBe(false);
  }, 300_000);
});

/** The children of `pid` running the inference worker (from /proc: Linux). */
function childPids(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`)
    .flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ').filter(Boolean).map(Number))
    .filter((c) => readFileSync(`/proc/${c}/cmdline`, 'utf8').includes('inference.worker'));
}

/** The variables by which onnxruntime 1.30 detects a CI service and keeps its telemetry client off. */
const ORT_CI_VARIABLES = ['CI', 'TF_BUILD', 'GITHUB_ACTIONS', 'GITLAB_CI', 'CIRCLECI', 'TRAVIS', 'JENKINS_URL', 'CODEBUILD_BUILD_ID', 'BUILDKITE', 'TEAMCITY_VERSION', 'APPVEYOR', 'BITBUCKET_BUILD_NUMBER'];

describe('onnxruntime\'s telemetry', () => {
  it('is off: a question leaves none of its files (.ses, mat-debug-*.log) in TMPDIR; ORT_DISABLE_TELEMETRY=0 turns it back on', () => {
    // Not inherited from this process (whose own imports have set it): the CLI must set it itself.
    const base = { ...process.env };
    delete base.ORT_DISABLE_TELEMETRY;
    // onnxruntime also keeps its client off when it sees a CI service's variable (the names are in
    // libonnxruntime.so; `CI` found by trying). Removed, so that both runs below mean the same on a
    // developer's machine and on CI: otherwise the first would pass on CI whatever SegEarth does.
    for (const name of ORT_CI_VARIABLES) delete base[name];
    const files = (env: Record<string, string>): string[] => {
      const tmp = mkdtempSync(join(dir, 'tmpdir-'));
      const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'segearth.js'), 'ask', scene, 'where are the roads?', '--model', tiny, '--ep', 'cpu', '-o', join(tmp, 'out.gpkg')], {
        encoding: 'utf8',
        env: { ...base, SEGEARTH_FROM_SOURCE: '1', TMPDIR: tmp, ...env },
        timeout: 300_000,
      });
      expect(r.status, r.stderr).toBe(0);
      return readdirSync(tmp).filter((n) => n === '.ses' || n.startsWith('mat-debug-'));
    };
    expect(files({})).toEqual([]);
    // The switch is onnxruntime's own: with it set to 0, the client starts and writes its files.
    expect(files({ ORT_DISABLE_TELEMETRY: '0' }).length).toBeGreaterThan(0);
  }, 300_000);
});
