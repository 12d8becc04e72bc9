import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRaster, makeTempDir, removeDir } from '../support/syntheticRaster.js';
import { ensureTinyBundle } from '../support/tinyBundle.js';
import { ogrReadLayers } from '../support/ogrRead.js';

const REPO = resolve(import.meta.dirname, '../..');

function segearth(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO, 'bin/segearth.js'), ...args], { cwd: REPO, encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('segearth batch / merge with the tiny bundle', () => {
  let root: string;
  let bundle: string;
  let input: string;

  beforeAll(async () => {
    bundle = await ensureTinyBundle();
    root = makeTempDir('segearth-cli-batch-');
    input = join(root, 'in');
    mkdirSync(input);
    for (const [i, name] of ['alpha.tif', 'beta.tif'].entries()) {
      createRaster(join(input, name), {
        width: 96,
        height: 64,
        bandCount: 3,
        srs: 32618,
        geoTransform: [600000 + i * 5000, 30, 0, 4000000, 0, -30],
        value: (b, x, y) => ((x * (b + 1) + y * 3 + i * 17) % 256),
      });
    }
    writeFileSync(join(input, 'broken.tif'), 'II*\0 not really a tiff');
  });

  afterAll(() => removeDir(root));

  it('processes the good scenes, records the broken one, and exits 0 with a summary', () => {
    const out = join(root, 'out');
    const args = ['batch', input, '-q', 'where is bare soil?', '-o', out, '--model', bundle, '--format', 'geojson,mask', '--strategy', 'view', '--threads', '1'];
    const first = segearth(args);
    expect(first.stderr).toMatch(/3 scene\(s\), 3 item\(s\)/);
    expect(first.status).toBe(0);
    expect(first.stderr).toMatch(/broken\.tif · q1: FAILED: .*broken\.tif/);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
      totals: { done: number; failed: number; polygons: number };
      rows: { scene: string; status: string; polygons: number | null }[];
    };
    expect(summary.totals.done).toBe(2);
    expect(summary.totals.failed).toBe(1);
    expect(existsSync(join(out, 'scenes/alpha_tif/q1.probability.tif'))).toBe(true);
    expect(existsSync(join(out, 'scenes/broken_tif'))).toBe(false);
    const merged = ogrReadLayers(join(out, 'merged.gpkg'));
    expect(merged).toHaveLength(1);
    expect(merged[0]!.name).toBe('q1_where_is_bare_soil');
    expect(merged[0]!.featureCount).toBe(summary.totals.polygons);
    const perScene = summary.rows.filter((r) => r.status === 'done');
    for (const row of perScene) {
      expect(merged[0]!.features.filter((f) => f.properties['source'] === row.scene)).toHaveLength(row.polygons ?? -1);
    }

    // Same command again: refused without --resume; with --resume nothing is redone but the broken scene.
    const again = segearth(args);
    expect(again.status).toBe(4);
    expect(again.stderr).toMatch(/--resume/);
    const journalBefore = readFileSync(join(out, 'journal.jsonl'), 'utf8').trim().split('\n').length;
    const resumed = segearth([...args, '--resume']);
    expect(resumed.status).toBe(0);
    expect(resumed.stderr).toMatch(/2 already done/);
    const journalAfter = readFileSync(join(out, 'journal.jsonl'), 'utf8').trim().split('\n');
    expect(journalAfter.length - journalBefore).toBe(2); // broken.tif: started + failed, nothing else
    expect(ogrReadLayers(join(out, 'merged.gpkg'))[0]!.featureCount).toBe(summary.totals.polygons);
  }, 900_000);

  it('refuses bad options with usage errors that say what to do', () => {
    const r = segearth(['batch', input, '-o', join(root, 'x'), '--model', bundle]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/No question given[\s\S]*-q/);
    const s = segearth(['batch', input, '-q', 'a?', '-o', join(root, 'y'), '--model', bundle, '--shard', '4/3']);
    expect(s.status).toBe(2);
    expect(s.stderr).toMatch(/not a shard/);
    const f = segearth(['batch', input, '-q', 'a?', '-o', join(root, 'z'), '--model', bundle, '--format', 'kml']);
    expect(f.status).toBe(2);
    expect(f.stderr).toMatch(/kml is not an output format/);
    const q = segearth(['batch', input, '-q', 'a?', '-q', '', '-o', join(root, 'q'), '--model', bundle]);
    expect(q.status).toBe(2);
    expect(q.stderr).toMatch(/Question 2 \(-q\) is empty/);
    const noShards = segearth(['batch', input, '-q', 'a?', '-o', join(root, 's'), '--model', bundle, '--slurm']);
    expect(noShards.status).toBe(2);
    expect(noShards.stderr).toMatch(/--slurm needs --shards <n>/);
    expect(readdirSync(root).filter((n) => ['x', 'y', 'z', 'q', 's'].includes(n))).toEqual([]);
  }, 300_000);

  it('--shards n --slurm prints an sbatch script for this batch (array size, fixed shard total, resume, merge)', () => {
    const out = join(root, "it's out");
    const r = segearth(['batch', input, '-q', "what's flooded?", '-o', out, '--model', bundle, '--threads', '4', '--shards', '5', '--slurm', '--slurm-time', '1-00:00:00']);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(out)).toBe(false);
    const script = r.stdout;
    expect(script).toMatch(/^#SBATCH --array=0-4$/m);
    expect(script).toMatch(/^#SBATCH --cpus-per-task=4$/m);
    expect(script).toMatch(/^#SBATCH --time=1-00:00:00$/m);
    expect(script).toMatch(/^SHARDS=5$/m);
    const check = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
    // What a task runs, with the node's segearth replaced by a printer: the quoting survives bash.
    const task = spawnSync('bash', ['-c', script.replace(/^(\S*node\S*) \S+segearth\.js batch/m, "printf '%s\\n' batch")], {
      env: { PATH: process.env.PATH ?? '', SLURM_ARRAY_TASK_ID: '3', SLURM_CPUS_PER_TASK: '4' },
      encoding: 'utf8',
    });
    expect(task.status, task.stderr).toBe(0);
    const args = task.stdout.trimEnd().split('\n');
    expect(args.slice(0, 4)).toEqual(['batch', resolve(input), '-q', "what's flooded?"]);
    expect(args.slice(args.indexOf('-o'), args.indexOf('-o') + 2)).toEqual(['-o', out]);
    expect(args.slice(-5)).toEqual(['--threads', '4', '--shard', '4/5', '--resume']);
  }, 300_000);
});
