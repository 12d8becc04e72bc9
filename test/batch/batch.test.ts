import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync, copyFileSync, truncateSync, statSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBatch } from '../../src/inference/batch/runBatch.js';
import { mergeShards } from '../../src/inference/batch/mergeShards.js';
import { writeMergedGeoPackage } from '../../src/inference/batch/mergeResults.js';
import { readJournal } from '../../src/inference/batch/journal.js';
import { discoverScenes } from '../../src/inference/batch/sceneDiscovery.js';
import { parseShard, selectShard, shardOf } from '../../src/inference/batch/shard.js';
import type { BatchSummary } from '../../src/inference/batch/summary.js';
import { isSegEarthError } from '../../src/shared/errors.js';
import { createRaster, makeTempDir, removeDir } from '../support/syntheticRaster.js';
import { maskSceneProcessor } from '../support/maskSceneProcessor.js';
import { testBatchOptions } from '../support/batchOptions.js';
import { ogrReadLayers, type OgrLayer } from '../support/ogrRead.js';

const REPO = resolve(import.meta.dirname, '../..');
const PIXEL = 10; // metres (UTM 33N)

/** Scene i holds one rectangle of (6 + i) × 4 pixels: (6 + i) * 4 * 100 m². */
function rectangleArea(i: number): number {
  return (6 + i) * 4 * PIXEL * PIXEL;
}

let root: string;
let input: string;
const GOOD = 10;

const options = testBatchOptions;

function ogrJson(path: string): { layers: OgrLayer[] } {
  return { layers: ogrReadLayers(path) };
}

/** Summary rows without timings: what must be identical between two runs of the same batch. */
function comparable(summary: BatchSummary): unknown[] {
  return summary.rows.map(({ seconds: _s, ...rest }) => rest);
}

function featureFiles(folder: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.features.json')) out.set(p.slice(folder.length), readFileSync(p, 'utf8'));
    }
  };
  walk(join(folder, 'scenes'));
  return out;
}

beforeAll(() => {
  root = makeTempDir('segearth-batch-');
  input = join(root, 'scenes');
  mkdirSync(join(input, 'north'), { recursive: true });
  mkdirSync(join(input, 'south'), { recursive: true });
  for (let i = 0; i < GOOD; i++) {
    const folder = i % 2 === 0 ? 'north' : 'south';
    createRaster(join(input, folder, `scene_${String(i).padStart(2, '0')}.tif`), {
      width: 40,
      height: 20,
      srs: 32633,
      geoTransform: [500000 + i * 1000, PIXEL, 0, 4500000, 0, -PIXEL],
      value: (_b, x, y) => (x >= 5 && x < 11 + i && y >= 8 && y < 12 ? 255 : 0),
    });
  }
  // Two corrupt scenes: text named .tif, and a GeoTIFF cut in half.
  writeFileSync(join(input, 'north', 'notes.tif'), 'this is not a raster\n');
  const good = join(input, 'south', 'scene_01.tif');
  copyFileSync(good, join(input, 'south', 'truncated.tif'));
  truncateSync(join(input, 'south', 'truncated.tif'), Math.floor(statSync(good).size / 3));
  // Sidecars and non-rasters are not scenes.
  writeFileSync(join(input, 'north', 'scene_00.tif.aux.xml'), '<PAMDataset/>');
  writeFileSync(join(input, 'readme.txt'), 'scenes of the season');
});

afterAll(() => removeDir(root));

describe('scene discovery and shards', () => {
  it('lists rasters recursively, sorted, skipping sidecars; include/exclude globs apply to relative paths', async () => {
    const all = await discoverScenes(input);
    expect(all).toHaveLength(12);
    expect(all[0]).toBe('north/notes.tif');
    expect(all).not.toContain('north/scene_00.tif.aux.xml');
    expect(await discoverScenes(input, { include: ['south/**'] })).toHaveLength(6);
    expect(await discoverScenes(input, { exclude: ['**/notes.tif', '**/truncated.tif'] })).toHaveLength(10);
  });

  it('follows symbolic links to scenes', async () => {
    const linked = join(root, 'linked');
    mkdirSync(linked);
    symlinkSync(join(input, 'north', 'scene_00.tif'), join(linked, 'a.tif'));
    symlinkSync(join(input, 'south'), join(linked, 'south-folder'));
    expect(await discoverScenes(linked)).toEqual(['a.tif']);
  });

  it('partitions deterministically: every scene in exactly one shard', async () => {
    const all = await discoverScenes(input);
    const parts = [1, 2, 3].map((i) => selectShard(all, { index: i, count: 3 }));
    expect(parts.flat().sort()).toEqual(all);
    expect(parts.map((p) => p.length).reduce((a, b) => a + b)).toBe(12);
    for (const s of all) expect(shardOf(s, 3)).toBe(shardOf(s, 3));
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    for (const bad of ['0/3', '4/3', '1-3', '']) {
      expect(() => parseShard(bad)).toThrow(/is not a shard/);
      try {
        parseShard(bad);
      } catch (err) {
        expect(isSegEarthError(err, 'BAD_ARGUMENT') && err.hint).toMatch(/i\/n with 1 ≤ i ≤ n/);
      }
    }
  });
});

describe('runBatch', () => {
  let summary: BatchSummary;
  let out: string;

  beforeAll(async () => {
    out = join(root, 'out-full');
    summary = await runBatch({ inputFolder: input, outputFolder: out, options: options(), processor: maskSceneProcessor() });
  });

  it('gives 10 results and 2 recorded errors for 12 scenes with 2 corrupt ones', () => {
    expect(summary.totals).toMatchObject({ items: 24, done: 20, failed: 4, pending: 0 });
    const failed = summary.rows.filter((r) => r.status === 'failed').map((r) => r.scene);
    expect([...new Set(failed)].sort()).toEqual(['north/notes.tif', 'south/truncated.tif']);
    for (const r of summary.rows.filter((row) => row.status === 'failed')) expect(r.error).toMatch(/\S{10,}/);
    const done = summary.rows.filter((r) => r.status === 'done' && r.question === 'where are the fields?');
    for (const r of done) {
      const i = Number(/scene_(\d+)/.exec(r.scene)![1]);
      expect(r.polygons).toBe(1);
      expect(r.totalAreaM2).toBeCloseTo(rectangleArea(i), 6);
    }
  });

  it('writes summary.csv, per-scene files and a merged GeoPackage with a layer per question and a source attribute', () => {
    const csv = readFileSync(join(out, 'summary.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('scene,question,status,seconds,polygons,total_area_m2,error,note');
    expect(csv).toHaveLength(25);
    expect(csv.filter((l) => l.includes(',failed,'))).toHaveLength(4);
    expect(existsSync(join(out, 'scenes/north/scene_00_tif/q1.gpkg'))).toBe(true);
    expect(existsSync(join(out, 'scenes/south/scene_09_tif/q2.geojson'))).toBe(true);
    const merged = ogrJson(join(out, 'merged.gpkg'));
    expect(merged.layers.map((l) => l.name).sort()).toEqual(['q1_where_are_the_fields', 'q2_which_parcels_are_large']);
    for (const layer of merged.layers) {
      expect(layer.featureCount).toBe(GOOD);
      const sources = layer.features.map((f) => f.properties['source']).sort();
      expect(sources).toEqual(summary.rows.filter((r) => r.status === 'done' && layer.name.startsWith('q1') === (r.question === 'where are the fields?')).map((r) => r.scene).sort());
      const area = layer.features.reduce((s, f) => s + Number(f.properties['area_m2']), 0);
      expect(area).toBeCloseTo(Array.from({ length: GOOD }, (_, i) => rectangleArea(i)).reduce((a, b) => a + b), 3);
    }
  });

  it('builds merged.gpkg as items finish: the same file as a rebuild from the .features.json files', async () => {
    expect(readdirSync(out).filter((n) => n.startsWith('.segearth-tmp'))).toEqual([]);
    const built = ogrJson(join(out, 'merged.gpkg'));
    const copy = join(root, 'out-rebuilt');
    cpSync(out, copy, { recursive: true });
    rmSync(join(copy, 'merged.gpkg'));
    const records = [...(await readJournal(copy)).values()];
    const result = await writeMergedGeoPackage(copy, options().questions, records);
    expect(result.featureCount).toBe(2 * GOOD);
    expect(ogrJson(join(copy, 'merged.gpkg'))).toEqual(built);
    for (const layer of built.layers) expect(layer.features.map((f) => f.properties['id'])).toEqual([...Array(GOOD).keys()].map((i) => i + 1));
  });

  it('merges scenes in two CRSs in EPSG:4326', async () => {
    const mixed = join(root, 'mixed');
    mkdirSync(mixed);
    for (const [i, epsg] of [32633, 32634].entries()) {
      createRaster(join(mixed, `utm_${epsg}.tif`), {
        width: 40,
        height: 20,
        srs: epsg,
        geoTransform: [500000, PIXEL, 0, 4500000, 0, -PIXEL],
        value: (_b, x, y) => (x >= 5 && x < 11 + i && y >= 8 && y < 12 ? 255 : 0),
      });
    }
    const dest = join(root, 'out-mixed');
    await runBatch({ inputFolder: mixed, outputFolder: dest, options: options({ questions: ['fields?'] }), processor: maskSceneProcessor() });
    const text = execFileSync('ogrinfo', ['-ro', '-so', join(dest, 'merged.gpkg'), 'q1_fields'], { encoding: 'utf8' });
    expect(text).toMatch(/Feature Count: 2/);
    expect(text).toMatch(/ID\["EPSG",4326\]|AUTHORITY\["EPSG","4326"\]/);
    expect(readdirSync(dest).filter((n) => n.startsWith('.segearth-tmp'))).toEqual([]);
  });

  it('refuses to reuse a batch folder without resume, and to resume with other questions', async () => {
    const again = runBatch({ inputFolder: input, outputFolder: out, options: options(), processor: maskSceneProcessor() });
    await expect(again).rejects.toSatisfy((e) => isSegEarthError(e, 'BATCH_EXISTS') && /--resume/.test(e.hint ?? ''));
    const other = runBatch({ inputFolder: input, outputFolder: out, resume: true, options: options({ questions: ['other?'] }), processor: maskSceneProcessor() });
    await expect(other).rejects.toThrow(/different questions/);
  });

  it('resumes after kill -9 mid-run with identical outputs and no duplicate features', async () => {
    const crashed = join(root, 'out-crash');
    const args = { input, output: crashed, options: options(), delayMs: 250 };
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'test/support/batchChild.ts'), JSON.stringify(args)], { cwd: REPO, stdio: 'ignore' });
    // Kill once at least 5 items are journaled as done (the run has 24).
    await new Promise<void>((resolveKill, reject) => {
      const timer = setInterval(() => {
        const path = join(crashed, 'journal.jsonl');
        const done = existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l.includes('"done"')).length : 0;
        if (done >= 5) {
          clearInterval(timer);
          child.kill('SIGKILL');
          resolveKill();
        }
      }, 20);
      child.on('exit', () => {
        clearInterval(timer);
        reject(new Error('the batch finished before it could be killed'));
      });
    });
    await new Promise((r) => child.once('exit', r));
    expect(existsSync(join(crashed, 'summary.json'))).toBe(false);
    const resumed = await runBatch({ inputFolder: input, outputFolder: crashed, resume: true, options: options(), processor: maskSceneProcessor() });
    expect(comparable(resumed)).toEqual(comparable(summary));
    expect(featureFiles(crashed)).toEqual(featureFiles(out));
    const merged = ogrJson(join(crashed, 'merged.gpkg'));
    for (const layer of merged.layers) {
      const sources = layer.features.map((f) => String(f.properties['source']));
      expect(new Set(sources).size).toBe(sources.length);
      expect(layer.featureCount).toBe(GOOD);
    }
    // The killed run's unfinished merged GeoPackage is gone.
    expect(readdirSync(crashed).filter((n) => n.startsWith('.segearth-tmp'))).toEqual([]);
  });

  it('shards 1/3, 2/3, 3/3 then merge give the same result as one unsharded run', async () => {
    const shardDirs = [1, 2, 3].map((i) => join(root, `out-shard-${i}`));
    for (const [i, dir] of shardDirs.entries()) {
      await runBatch({ inputFolder: input, outputFolder: dir, shard: { index: i + 1, count: 3 }, options: options(), processor: maskSceneProcessor() });
    }
    const mergedDir = join(root, 'out-merged');
    const merged = await mergeShards(shardDirs, mergedDir);
    expect(comparable(merged)).toEqual(comparable(summary));
    expect(featureFiles(mergedDir)).toEqual(featureFiles(out));
    const a = ogrJson(join(mergedDir, 'merged.gpkg'));
    const b = ogrJson(join(out, 'merged.gpkg'));
    const key = (j: ReturnType<typeof ogrJson>): unknown => j.layers.map((l) => [l.name, l.featureCount, l.features.map((f) => [f.properties['source'], f.properties['area_m2']])]);
    expect(key(a)).toEqual(key(b));
    await expect(mergeShards([shardDirs[0]!, shardDirs[0]!], join(root, 'out-twice'))).rejects.toThrow(/given twice/);
  });
});
