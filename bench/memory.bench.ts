/**
 * @module bench/memory.bench
 * `npm run bench:memory [-- --sizes 6000,12000,20000] [--format geojson|gpkg] [--model models/tiny-test] [--baseline <git rev> [--only-baseline]] [--floor-only]`
 * — not a test. Memory of an ask (issue 15.6): peak RSS of `segearth ask <scene> … --strategy tiled`, each in
 * its own process, on synthetic tiled + DEFLATE-compressed RGB GeoTIFFs of the given sizes, next to the
 * model's own floor — a `view` ask of a 1024² scene (the model loaded, one pass, nothing else).
 *
 * Peak RSS is the highest sum of `VmRSS` over the CLI process and its descendants (a vectorizing child
 * process counts), sampled every 200 ms from /proc, and never below the CLI's own high-water mark (`VmHWM`,
 * the number `/usr/bin/time -v` prints as "Maximum resident set size"). It is also split by the stage printed
 * last on stderr: the highest RSS while `tiles` ran (the model, one tile, GDAL's block cache) and from
 * `stitching` on (the probability raster's last pass, polygons, mean probabilities, writing).
 *
 * `--baseline <rev>` runs the same asks with the CLI of another commit (exported with `git archive` into a
 * temporary folder, this checkout's node_modules linked in): the peer in the same run, on the same scenes.
 * Scenes are made once with GDAL (`gdal_translate -outsize` of a 512² noise pattern) and cached in
 * `$TMPDIR/segearth-bench-memory/`. `--format` is the answer's file (default GeoJSON; GDAL's GeoJSON writer holds
 * a feature's whole JSON tree, ~0.7 KB a vertex, so a speckled answer's giant polygon costs more there than in a
 * GeoPackage). With the tiny bundle a tile costs ~2 CPU-s: 20000² (529 tiles) takes
 * 20–60 minutes on 2 shared cores.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { scene } from './memoryScene.js';
import { highWaterKb, treeRssKb } from './processRss.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const sizes = (opt('--sizes') ?? '6000,12000,20000').split(',').map(Number);
const modelDir = path.resolve(opt('--model') ?? 'models/tiny-test');
const baseline = opt('--baseline');
const floorOnly = args.includes('--floor-only');
const onlyBaseline = args.includes('--only-baseline');
const format = opt('--format') ?? 'geojson';
if (!['geojson', 'gpkg'].includes(format)) throw new Error(`--format ${format}: geojson or gpkg`);
const repo = path.resolve('.');

/** A CLI of commit `rev`: `git archive` into a temporary folder, with this checkout's node_modules. */
function baselineCheckout(rev: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'segearth-bench-memory-base-'));
  execFileSync('sh', ['-c', `git archive ${JSON.stringify(rev)} | tar -x -C ${JSON.stringify(dir)}`]);
  symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

interface Measured {
  peakMiB: number;
  /** Highest RSS (MiB) while tiles ran, and from stitching on. */
  tilesMiB: number;
  afterTilesMiB: number;
  wallS: number;
  polygons: string;
  ok: boolean;
}

/** Runs the CLI in `cwd` and samples its VmHWM / VmRSS every 200 ms. */
async function measure(cwd: string, argv: string[]): Promise<Measured> {
  const started = performance.now();
  const child = spawn(process.execPath, [path.join(cwd, 'bin', 'segearth.js'), ...argv], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SEGEARTH_FROM_SOURCE: '1' } });
  let stdout = '';
  let stderr = '';
  let stage = 'start';
  let hwm = 0;
  let peakRss = 0;
  let tilesRss = 0;
  let afterTilesRss = 0;
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    const m = /(?:^|\n)([a-z]+): [^\n]*\n$/.exec(stderr);
    if (m) stage = m[1]!;
  });
  const sample = () => {
    const high = highWaterKb(child.pid!);
    if (high === 0) return; // the process has just ended
    hwm = Math.max(hwm, high);
    const rss = treeRssKb(child.pid!);
    peakRss = Math.max(peakRss, rss);
    if (stage === 'tiles') tilesRss = Math.max(tilesRss, rss);
    if (['stitching', 'vectorizing'].includes(stage)) afterTilesRss = Math.max(afterTilesRss, rss);
  };
  const timer = setInterval(sample, 200);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(timer);
  if (code !== 0) console.error(stderr.slice(-2000));
  return {
    peakMiB: Math.max(hwm, peakRss) / 1024,
    tilesMiB: tilesRss / 1024,
    afterTilesMiB: afterTilesRss / 1024,
    wallS: (performance.now() - started) / 1000,
    polygons: /^(\d+) polygon/.exec(stdout)?.[1] ?? '?',
    ok: code === 0,
  };
}

function ask(cwd: string, file: string, strategy: string): Promise<Measured> {
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'segearth-bench-memory-out-')), `answer.${format}`);
  return measure(cwd, ['ask', file, 'where are the roads?', '--model', modelDir, '--ep', 'cpu', '--strategy', strategy, '-o', out]).finally(() =>
    rmSync(path.dirname(out), { recursive: true, force: true }),
  );
}

const cliDirs: Array<[string, string]> = onlyBaseline ? [] : [['this checkout', repo]];
if (baseline) cliDirs.push([`baseline ${baseline}`, baselineCheckout(baseline)]);

const rows: string[][] = [['CLI', 'scene', 'strategy', 'peak RSS MiB', 'during tiles', 'stitching + vectorizing', 'wall s', 'polygons']];
const mib = (n: number): string => (n > 0 ? n.toFixed(0) : '—');
const gdalCache = process.env.GDAL_CACHEMAX ? `GDAL_CACHEMAX=${process.env.GDAL_CACHEMAX}` : 'GDAL_CACHEMAX unset';
console.log(`memory benchmark; ${os.cpus().length} CPU(s), ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB, node ${process.version}, model ${path.basename(modelDir)}, ${gdalCache}, answer written as ${format}`);
for (const [label, cwd] of cliDirs) {
  const floor = await ask(cwd, scene(1024), 'view');
  rows.push([label, '1024² (model floor)', 'view', mib(floor.peakMiB), '—', '—', floor.wallS.toFixed(0), floor.polygons + (floor.ok ? '' : ' FAILED')]);
  console.log(rows.at(-1)!.join(' | '));
  if (floorOnly) continue;
  for (const size of sizes) {
    const m = await ask(cwd, scene(size), 'tiled');
    rows.push([label, `${size}²`, 'tiled', mib(m.peakMiB), mib(m.tilesMiB), mib(m.afterTilesMiB), m.wallS.toFixed(0), m.polygons + (m.ok ? '' : ' FAILED')]);
    console.log(rows.at(-1)!.join(' | '));
  }
}
for (const [, cwd] of cliDirs) if (cwd !== repo) rmSync(cwd, { recursive: true, force: true });

const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
console.log(`\n${rows.map((r, i) => `| ${r.map((v, c) => v.padEnd(widths[c]!)).join(' | ')} |${i === 0 ? `\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|` : ''}`).join('\n')}`);
