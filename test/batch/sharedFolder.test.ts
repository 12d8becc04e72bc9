/**
 * Batch engine on shared storage and bad inputs, without the model (maskSceneProcessor vectorizes band 1):
 * shards of one batch writing into one output folder at the same moment, then `merge` finishing it in place,
 * against one unsharded run; a scene without a CRS in a batch of georeferenced ones (issue 15.4); a torn journal
 * line followed by an append (15.11); formula cells in summary.csv (15.11); blank questions (15.10).
 * The Slurm job-array version of the shared folder runs on a real cluster in test/batch/slurm.test.ts.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchOptions } from '../../src/inference/batch/batchPlan.js';
import { JournalWriter, readJournal } from '../../src/inference/batch/journal.js';
import { mergeShards } from '../../src/inference/batch/mergeShards.js';
import { runBatch } from '../../src/inference/batch/runBatch.js';
import { summaryCsv, type BatchSummary } from '../../src/inference/batch/summary.js';
import { maskSceneProcessor } from '../support/maskSceneProcessor.js';
import { testBatchOptions } from '../support/batchOptions.js';
import { ogrCanonicalLayers, ogrReadLayers } from '../support/ogrRead.js';
import { createRaster, makeTempDir, removeDir } from '../support/syntheticRaster.js';

const PIXEL = 10;
let root: string;
let input: string;

const options = (over: Partial<BatchOptions> = {}): BatchOptions => testBatchOptions({ formats: ['gpkg'], ...over });

const comparable = (s: BatchSummary): unknown => ({ ...s, rows: s.rows.map(({ seconds: _s, ...rest }) => rest) });

/** Every file under a folder (relative path → text) but those `skip` names. */
function tree(folder: string, skip: (name: string) => boolean): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (!skip(e.name)) out.set(p.slice(folder.length), readFileSync(p, 'utf8'));
    }
  };
  walk(folder);
  return out;
}

beforeAll(() => {
  root = makeTempDir('segearth-batch-shared-');
  input = join(root, 'in');
  mkdirSync(join(input, 'tiles'), { recursive: true });
  for (let i = 0; i < 9; i++) {
    createRaster(join(input, 'tiles', `t${i}.tif`), {
      width: 40,
      height: 20,
      srs: 32633,
      geoTransform: [500000 + i * 1000, PIXEL, 0, 4500000, 0, -PIXEL],
      value: (_b, x, y) => (x >= 3 && x < 9 + i && y >= 4 + (i % 3) && y < 12 ? 255 : 0),
    });
  }
  // No CRS, no geotransform: polygons in pixel coordinates (issue 15.4).
  createRaster(join(input, 'scan-without-crs.tif'), { width: 30, height: 20, value: (_b, x, y) => (x > 4 && x < 12 && y > 3 && y < 9 ? 255 : 0) });
  writeFileSync(join(input, 'broken.tif'), 'II*\0 not a tiff');
});

afterAll(() => removeDir(root));

describe('shards writing into one shared output folder at once', () => {
  let reference: BatchSummary;
  const ref = (): string => join(root, 'ref');

  beforeAll(async () => {
    reference = await runBatch({ inputFolder: input, outputFolder: ref(), options: options(), processor: maskSceneProcessor() });
  });

  it('keeps a scene without a CRS as that scene\'s own layer and note; the rest of the batch completes (15.4)', async () => {
    expect(reference.totals).toMatchObject({ items: 22, done: 20, failed: 2, pending: 0 });
    const row = reference.rows.find((r) => r.scene === 'scan-without-crs.tif' && r.status === 'done');
    expect(row?.note).toMatch(/scan-without-crs|no coordinate reference system/);
    expect(row?.note).toMatch(/q1_where_are_the_fields_no_crs/);
    const layers = ogrReadLayers(join(ref(), 'merged.gpkg'));
    expect(layers.map((l) => l.name).sort()).toEqual(['q1_where_are_the_fields', 'q1_where_are_the_fields_no_crs', 'q2_which_parcels_are_large', 'q2_which_parcels_are_large_no_crs']);
    const noCrs = layers.find((l) => l.name === 'q1_where_are_the_fields_no_crs')!;
    expect(noCrs.featureCount).toBe(1);
    expect(noCrs.features[0]!.properties['source']).toBe('scan-without-crs.tif');
    expect(layers.find((l) => l.name === 'q1_where_are_the_fields')!.features.map((f) => f.properties['source'])).not.toContain('scan-without-crs.tif');
    // The UTM layer keeps its CRS (the scene without one did not force a reprojection).
    expect(readFileSync(join(ref(), 'summary.csv'), 'utf8')).toMatch(/scan-without-crs\.tif,where are the fields\?,done,.*no coordinate reference system/);
    // --resume over it works and changes nothing; a killed write's temporary folder in a redone scene is removed.
    const stale = join(ref(), 'scenes', 'broken_tif', '.segearth-tmp-q1.gpkg-x1y2z3');
    mkdirSync(stale, { recursive: true });
    writeFileSync(join(stale, 'q1.gpkg'), 'half a file');
    const resumed = await runBatch({ inputFolder: input, outputFolder: ref(), resume: true, options: options(), processor: maskSceneProcessor() });
    expect(comparable(resumed)).toEqual(comparable(reference));
    expect(existsSync(stale)).toBe(false);
  });

  it('3 shards started together in one folder, then merge in place = the unsharded run', async () => {
    const shared = join(root, 'shared');
    const summaries = await Promise.all(
      [1, 2, 3].map((index) => runBatch({ inputFolder: input, outputFolder: shared, shard: { index, count: 3 }, options: options(), processor: maskSceneProcessor() })),
    );
    expect(summaries.map((s) => s.shard)).toEqual(['1/3', '2/3', '3/3']);
    const names = readdirSync(shared).sort();
    expect(names).toEqual([
      'batch.json',
      'journal.shard-1-of-3.jsonl',
      'journal.shard-2-of-3.jsonl',
      'journal.shard-3-of-3.jsonl',
      'scenes',
      ...[1, 2, 3].flatMap((i) => [`summary.shard-${i}-of-3.csv`, `summary.shard-${i}-of-3.json`]),
    ]);
    // Each journal: whole JSON lines only, and only its own shard's scenes.
    const seen = new Set<string>();
    for (const i of [1, 2, 3]) {
      const lines = readFileSync(join(shared, `journal.shard-${i}-of-3.jsonl`), 'utf8').split('\n').filter(Boolean);
      const scenes = new Set(lines.map((l) => (JSON.parse(l) as { scene: string }).scene));
      for (const s of scenes) {
        expect(seen.has(s)).toBe(false);
        seen.add(s);
      }
    }
    expect(seen.size).toBe(11);

    const merged = await mergeShards([shared], null);
    expect(comparable(merged)).toEqual(comparable(reference));
    expect(readFileSync(join(shared, 'summary.csv'), 'utf8').replace(/,\d+\.\d{3},/g, ',T,')).toBe(readFileSync(join(ref(), 'summary.csv'), 'utf8').replace(/,\d+\.\d{3},/g, ',T,'));
    expect(ogrCanonicalLayers(join(shared, 'merged.gpkg'))).toEqual(ogrCanonicalLayers(join(ref(), 'merged.gpkg')));
    // Per-scene results: the same features (GeoPackages differ only in their creation timestamps).
    const gpkg = (name: string): boolean => name.endsWith('.gpkg');
    expect(tree(join(shared, 'scenes'), gpkg)).toEqual(tree(join(ref(), 'scenes'), gpkg));
    // A folder the shards shared merges into a new folder too.
    const copy = await mergeShards([shared], join(root, 'shared-copy'));
    expect(comparable(copy)).toEqual(comparable(reference));
  });

  it('refuses a shard of another shard count, and a shard that already ran here without --resume', async () => {
    const shared = join(root, 'shared');
    await expect(runBatch({ inputFolder: input, outputFolder: shared, shard: { index: 2, count: 4 }, resume: true, options: options(), processor: maskSceneProcessor() })).rejects.toThrow(
      /shard count \(the batch is split into 3 shards, this run is split into 4 shards\)/,
    );
    await expect(runBatch({ inputFolder: input, outputFolder: shared, shard: { index: 2, count: 3 }, options: options(), processor: maskSceneProcessor() })).rejects.toThrow(
      /already holds shard 2\/3 of a batch/,
    );
    const again = await runBatch({ inputFolder: input, outputFolder: shared, shard: { index: 2, count: 3 }, resume: true, options: options(), processor: maskSceneProcessor() });
    expect(again.totals.pending).toBe(0);
    await expect(mergeShards([shared, ref()], null)).rejects.toThrow(/needs a new output folder/);
  });
});

describe('journal and summary hardening (issue 15.10, 15.11)', () => {
  it('ends a torn last journal line before appending, so the next record is not lost', async () => {
    const dir = join(root, 'torn');
    mkdirSync(dir);
    const done = { scene: 'a.tif', question: 0, state: 'done', at: '2026-01-01T00:00:00Z', polygons: 1, totalAreaM2: 5, outputs: [] };
    writeFileSync(join(dir, 'journal.jsonl'), JSON.stringify(done) + '\n');
    appendFileSync(join(dir, 'journal.jsonl'), '{"scene":"b.tif","question":0,"sta'); // killed mid-write
    const writer = await JournalWriter.open(dir);
    await writer.append({ scene: 'b.tif', question: 0, state: 'failed', at: '2026-01-01T00:00:01Z', error: { code: 'CORRUPT_RASTER', message: 'b.tif is damaged.' } });
    await writer.close();
    const records = await readJournal(dir);
    expect(records.size).toBe(2);
    expect([...records.values()].map((r) => [r.scene, r.state])).toEqual([
      ['a.tif', 'done'],
      ['b.tif', 'failed'],
    ]);
    expect(readFileSync(join(dir, 'journal.jsonl'), 'utf8').split('\n')[1]).toBe('{"scene":"b.tif","question":0,"sta');
  });

  it('writes summary.csv cells that a spreadsheet would run as formulas with a leading quote', () => {
    const row = (scene: string, question: string): BatchSummary['rows'][number] => ({ scene, question, status: 'failed', seconds: 1, polygons: null, totalAreaM2: null, error: '@SUM(A1)', note: null });
    const csv = summaryCsv({
      inputFolder: '/x',
      questions: ['-2+3', '+cmd'],
      shard: null,
      totals: { items: 2, done: 0, failed: 2, pending: 0, polygons: 0, totalAreaM2: 0 },
      rows: [row('=HYPERLINK("http://evil","x").tif', '-2+3'), row('\tplain.tif', '+cmd')],
    });
    const lines = csv.trim().split('\n');
    expect(lines[1]).toBe(`"'=HYPERLINK(""http://evil"",""x"").tif",'-2+3,failed,1.000,,,'@SUM(A1),`);
    expect(lines[2]).toBe(`'\tplain.tif,'+cmd,failed,1.000,,,'@SUM(A1),`);
    // No cell of the file starts with a formula character.
    for (const line of lines) for (const cell of line.split(',')) expect(cell.replace(/^"/, '')).not.toMatch(/^[=+\-@\t]/);
  });

  it('refuses a blank question before touching the output folder', async () => {
    const out = join(root, 'blank');
    await expect(runBatch({ inputFolder: input, outputFolder: out, options: options({ questions: ['ok?', '  '] }), processor: maskSceneProcessor() })).rejects.toThrow(/Question 2 is empty/);
    expect(readdirSync(root)).not.toContain('blank');
  });
});
