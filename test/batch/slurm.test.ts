/**
 * A folder batch as a Slurm job array on a real single-node cluster (test/support/slurmCluster: munged, slurmctld,
 * slurmd started for the test), with the tiny bundle over real and synthetic scenes (one corrupt, one without a
 * CRS, two CRSs), compared with one unsharded `segearth batch` on the same folder: summary.json, summary.csv
 * (timings aside), every scene's features and merged.gpkg read back with GDAL's ogr2ogr, feature by feature.
 *
 * 1. docs/examples/slurm-batch.sh itself, as a 3-task array whose tasks all write into one output folder at once
 *    (shared storage), then `segearth merge` of that folder as a Slurm job.
 * 2. Faults: the script written by `segearth batch --shards 3 --slurm`; `scancel` of one array task mid-scene;
 *    resubmitting only that index resumes its shard as i/3 (not i/1: the total is in the script) and the merge is
 *    still identical. The corrupt scene fails only its own item, in both runs.
 * Skips, saying why, where Slurm/munge are not installed or the test is not root.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itemKey, readJournal } from '../../src/inference/batch/journal.js';
import { shardOf } from '../../src/inference/batch/shard.js';
import type { BatchSummary } from '../../src/inference/batch/summary.js';
import { ogrCanonicalLayers } from '../support/ogrRead.js';
import { SHARED } from '../support/parityFixtures.js';
import { startSlurmCluster, slurmSkipReason, type SlurmCluster } from '../support/slurmCluster.js';
import { createRaster, makeTempDir, removeDir } from '../support/syntheticRaster.js';
import { ensureTinyBundle } from '../support/tinyBundle.js';

const REPO = resolve(import.meta.dirname, '../..');
const BIN = join(REPO, 'bin/segearth.js');
const SEGEARTH = `${process.execPath} ${BIN}`;
const QUESTION = 'where could flood water spread?';
const REAL_SCENE = join(SHARED, 'testdata', 'landsat-rgb', 'RGB.byte.tif');
/** The slowest scene (seconds with the tiny bundle): the fault test cancels its shard while it runs. */
const SLOW = 'landsat/RGB.byte.tif';
const skip = slurmSkipReason('slurm job array');

function segearth(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: REPO, encoding: 'utf8', timeout: 600_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 600_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function readSummary(folder: string): BatchSummary {
  return JSON.parse(readFileSync(join(folder, 'summary.json'), 'utf8')) as BatchSummary;
}

/** summary.json / .csv without timings. */
function comparableSummary(folder: string): { json: unknown; csv: string } {
  const s = readSummary(folder);
  return {
    json: { ...s, rows: s.rows.map(({ seconds: _s, ...rest }) => rest) },
    csv: readFileSync(join(folder, 'summary.csv'), 'utf8').replace(/,\d+\.\d{3},/g, ',<seconds>,'),
  };
}

/** Features without `created_at` (when each answer was made: the one property two runs cannot share). */
function withoutTimestamps<T extends { properties?: Record<string, unknown>; p?: Record<string, unknown> }>(features: T[]): T[] {
  return features.map((f) => {
    const props = { ...(f.properties ?? f.p) };
    delete props['created_at'];
    return f.properties ? { ...f, properties: props } : { ...f, p: props };
  });
}

/** Relative path → features of every `.features.json` under scenes/ (what each item found: geometry, attributes). */
function sceneFeatures(folder: string): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory() && !e.name.startsWith('.segearth-tmp-')) walk(p);
      else if (e.name.endsWith('.features.json')) {
        const set = JSON.parse(readFileSync(p, 'utf8')) as { features: { properties: Record<string, unknown> }[] };
        out.set(p.slice(folder.length), { ...set, features: withoutTimestamps(set.features) });
      }
    }
  };
  walk(join(folder, 'scenes'));
  return out;
}

describe.skipIf(skip !== undefined)('a folder batch as a Slurm job array on a real single-node cluster', () => {
  let cluster: SlurmCluster | undefined;
  let root: string;
  let input: string;
  let bundle: string;
  const ref = (): string => join(root, 'unsharded');

  /** The job outputs of this cluster (for a failing assertion's message). */
  const jobOutputs = (): string =>
    cluster
      ? readdirSync(cluster.dir)
          .filter((n) => n.endsWith('.out'))
          .map((n) => `--- ${n}\n${readFileSync(join(cluster!.dir, n), 'utf8').slice(-2000)}`)
          .join('\n')
      : '';

  function expectSameAsUnsharded(out: string): void {
    expect(comparableSummary(out)).toEqual(comparableSummary(ref()));
    expect(sceneFeatures(out)).toEqual(sceneFeatures(ref()));
    const merged = (folder: string): unknown => ogrCanonicalLayers(join(folder, 'merged.gpkg')).map((l) => ({ ...l, features: withoutTimestamps(l.features) }));
    expect(merged(out)).toEqual(merged(ref()));
  }

  beforeAll(async () => {
    bundle = await ensureTinyBundle();
    root = makeTempDir('segearth-slurm-batch-');
    chmodSync(root, 0o755);
    input = join(root, 'scenes');
    mkdirSync(join(input, 'landsat'), { recursive: true });
    mkdirSync(join(input, 'utm'));
    // Real imagery when the shared test data is here; else a synthetic scene of the same size in its place.
    if (existsSync(REAL_SCENE)) symlinkSync(REAL_SCENE, join(input, SLOW));
    else {
      console.warn(`[slurm job array] ${REAL_SCENE} not found: a synthetic 791×718 scene stands in for it`);
      createRaster(join(input, SLOW), { width: 791, height: 718, bandCount: 3, srs: 32618, geoTransform: [101985, 300, 0, 2826915, 0, -300], value: (b, x, y) => (x * 7 + y * (b + 3)) % 256 });
    }
    // Shards of 3 (SHA-256 of the path): 1 = landsat/RGB.byte.tif, utm/c.tif; 2 = utm/b.tif; 3 = the rest.
    for (const [i, name] of ['a', 'b', 'c'].entries()) {
      createRaster(join(input, 'utm', `${name}.tif`), {
        width: 128, height: 96, bandCount: 3, srs: 32618,
        geoTransform: [600000 + i * 5000, 30, 0, 4000000, 0, -30],
        value: (b, x, y) => (x * (b + 1) + y * 3 + i * 17) % 256,
      });
    }
    createRaster(join(input, 'wgs84.tif'), {
      width: 120, height: 100, bandCount: 3, srs: 4326,
      geoTransform: [-115.2, 0.0001, 0, 36.2, 0, -0.0001],
      value: (b, x, y) => (x * 5 + y * (b + 2)) % 256,
    });
    createRaster(join(input, 'scan-without-crs.tif'), { width: 100, height: 80, bandCount: 3, value: (b, x, y) => (x * 3 + y * b) % 256 });
    writeFileSync(join(input, 'broken.tif'), 'II*\0 not really a tiff');
    expect([SLOW, 'utm/c.tif'].map((s) => shardOf(s, 3))).toEqual([1, 1]);

    const unsharded = segearth(['batch', input, '-q', QUESTION, '-o', ref(), '--model', bundle, '--format', 'gpkg,mask', '--threads', '1']);
    expect(unsharded.status, unsharded.stderr).toBe(0);
    cluster = await startSlurmCluster();
  }, 900_000);

  afterAll(async () => {
    await cluster?.stop();
    if (root) removeDir(root);
  }, 120_000);

  it('the unsharded reference: the corrupt scene fails alone, the scene without a CRS has its own layer', () => {
    const s = readSummary(ref());
    expect(s.totals).toMatchObject({ items: 7, done: 6, failed: 1, pending: 0 });
    const broken = s.rows.find((r) => r.scene === 'broken.tif')!;
    expect(broken.status).toBe('failed');
    expect(broken.error).toMatch(/broken\.tif/);
    expect(s.rows.find((r) => r.scene === 'scan-without-crs.tif')!.note).toMatch(/no coordinate reference system/);
    expect(ogrCanonicalLayers(join(ref(), 'merged.gpkg')).map((l) => l.name)).toEqual(['q1_where_could_flood_water_spread', 'q1_where_could_flood_water_spread_no_crs']);
  });

  it('docs/examples/slurm-batch.sh as a 3-task array writing into one shared folder, then merge, = the unsharded run', () => {
    const out = join(root, 'example');
    // The documented script as it is; the cluster's size and this test's folders come from the command line / env.
    try {
      cluster!.run(
        'sbatch',
        ['--wait', '--array=0-2', '--cpus-per-task=1', '--mem=1G', `--chdir=${REPO}`, `--output=${cluster!.dir}/example-%A_%a.out`, join(REPO, 'docs/examples/slurm-batch.sh')],
        { SCENES: input, OUT: out, MODEL: bundle, SHARDS: '3', SEGEARTH },
      );
      cluster!.run('sbatch', ['--wait', `--chdir=${REPO}`, `--output=${cluster!.dir}/example-merge-%j.out`, '--wrap', `${SEGEARTH} merge ${out}`]);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${jobOutputs()}`);
    }
    // Shared storage: one plan, one journal per shard with whole lines only and disjoint scenes, no temporary left.
    const names = readdirSync(out).sort();
    expect(names).toEqual([
      'batch.json', 'journal.shard-1-of-3.jsonl', 'journal.shard-2-of-3.jsonl', 'journal.shard-3-of-3.jsonl', 'merged.gpkg', 'scenes',
      'summary.csv', 'summary.json', ...[1, 2, 3].flatMap((i) => [`summary.shard-${i}-of-3.csv`, `summary.shard-${i}-of-3.json`]),
    ]);
    const owner = new Map<string, number>();
    for (const i of [1, 2, 3]) {
      for (const line of readFileSync(join(out, `journal.shard-${i}-of-3.jsonl`), 'utf8').split('\n').filter(Boolean)) {
        const scene = (JSON.parse(line) as { scene: string }).scene;
        expect(owner.get(scene) ?? i).toBe(i);
        owner.set(scene, i);
        expect(shardOf(scene, 3)).toBe(i);
      }
    }
    expect(owner.size).toBe(7);
    const leftovers = spawnSync('find', [out, '-name', '.segearth-tmp-*'], { encoding: 'utf8' }).stdout.trim();
    expect(leftovers).toBe('');
    expect((JSON.parse(readFileSync(join(out, 'batch.json'), 'utf8')) as { shard: { count: number } }).shard.count).toBe(3);
    expectSameAsUnsharded(out);
  }, 900_000);

  it('scancel of one array task, then resubmitting only that index, resumes its shard and merges identically', async () => {
    const out = join(root, 'faults');
    const script = join(root, 'segearth-job.sh');
    const made = segearth(['batch', input, '-q', QUESTION, '-o', out, '--model', bundle, '--format', 'gpkg,mask', '--threads', '1', '--shards', '3', '--slurm', script, '--slurm-mem', '1G']);
    expect(made.status, made.stderr).toBe(0);
    const text = readFileSync(script, 'utf8');
    expect(text).toMatch(/^#SBATCH --array=0-2$/m);
    expect(text).toMatch(/^SHARDS=3$/m);
    expect(text.split('\n').filter((l) => !l.startsWith('#')).join('\n')).not.toMatch(/SLURM_ARRAY_TASK_COUNT/);

    const victim = shardOf(SLOW, 3);
    const journal = join(out, `journal.shard-${victim}-of-3.jsonl`);
    const jobId = cluster!.run('sbatch', ['--parsable', `--chdir=${REPO}`, `--output=${cluster!.dir}/faults-%A_%a.out`, script]).trim().split(';')[0]!;
    await waitFor(`shard ${victim} to start ${SLOW}\n${jobOutputs()}`, () => existsSync(journal) && readFileSync(journal, 'utf8').includes(`"scene":"${SLOW}"`));
    cluster!.run('scancel', [`${jobId}_${victim - 1}`]);
    await waitFor('the array to end', () => {
      const q = spawnSync('squeue', ['-h', '-j', jobId], { env: cluster!.env, encoding: 'utf8' });
      return q.status !== 0 || q.stdout.trim() === '';
    });
    const cancelled = await readJournal(out);
    expect(cancelled.get(itemKey(SLOW, 0))?.state).toBe('started');
    // Every other shard finished its scenes.
    for (const [key, rec] of cancelled) if (shardOf(rec.scene, 3) !== victim) expect([key, rec.state]).toEqual([key, expect.stringMatching(/done|failed/)]);

    // Only that index again: it is still shard `victim` of 3 (the total is in the script, not the array's size).
    try {
      cluster!.run('sbatch', ['--wait', `--array=${victim - 1}`, `--chdir=${REPO}`, `--output=${cluster!.dir}/faults-again-%A_%a.out`, script]);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${jobOutputs()}`);
    }
    expect(readdirSync(out).filter((n) => n.startsWith('journal.')).sort()).toEqual([1, 2, 3].map((i) => `journal.shard-${i}-of-3.jsonl`));
    const states = readFileSync(journal, 'utf8').split('\n').filter((l) => l.includes(`"scene":"${SLOW}"`)).map((l) => (JSON.parse(l) as { state: string }).state);
    expect(states).toEqual(['started', 'started', 'done']);

    // The merge command the script's header gives, as a Slurm job.
    const mergeLine = /^# +sbatch --dependency=afterany:\$jobid --wrap (.+)$/m.exec(text)?.[1];
    expect(mergeLine).toBeDefined();
    const merged = spawnSync('bash', ['-c', `sbatch --wait --chdir=${REPO} --output=${cluster!.dir}/faults-merge-%j.out --wrap ${mergeLine}`], { env: cluster!.env, encoding: 'utf8', timeout: 600_000 });
    expect(merged.status, `${merged.stderr}\n${jobOutputs()}`).toBe(0);
    // The cancelled task's unfinished temporary files were removed when its item was redone.
    expect(spawnSync('find', [out, '-name', '.segearth-tmp-*'], { encoding: 'utf8' }).stdout.trim()).toBe('');
    expectSameAsUnsharded(out);
  }, 900_000);
});
