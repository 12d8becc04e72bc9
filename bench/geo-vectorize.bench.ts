/**
 * @module bench/geo-vectorize
 * Vectorize + simplify + GeoPackage export of a large mask (default 10000×10000 Byte, thousands of blobs),
 * SegEarth against GDAL's command-line tools on the same mask in the same run:
 * - `maskToPolygons` (threshold, Polygonize 8-connected, MakeValid where needed, joint topology-preserving
 *   simplification of 1 px, area_m2/perimeter_m) + `writeFeatures` to GeoPackage,
 * - `gdal_polygonize.py -8 -mask <mask>` to GeoPackage, then `ogr2ogr -simplify <1 px>` (the same work: the
 *   CLI simplifies each polygon on its own and computes no areas),
 * - `gdal_polygonize.py` alone (the CLI floor, no simplification: self-touching rings left invalid, no areas),
 * - `gdal_polygonize.py` then `ogr2ogr -makevalid` with `ST_Area`/`ST_Perimeter` columns (SQLite dialect): GDAL's
 *   tools giving our full unsimplified answer (valid MultiPolygons, `area_m2`, `perimeter_m`), the like-for-like
 *   row for `segearth vectorize` without simplification,
 * - `segearth vectorize` as the user runs it (`bin/segearth.js`, process start-up included: the compiled CLI
 *   when `npm ci`/`npm run build` made it, else tsx — the header says which), with `--simplify 1px` against
 *   the CLI pipeline, and without simplification against `gdal_polygonize.py` alone.
 * The methods run interleaved, `--repeat` rounds (default 2); the fastest wall time and the least CPU time count. CPU time
 * (user + system of this process's threads, and of the CLI tools via /usr/bin/time) is the fairer figure on a
 * shared, loaded machine, where wall time mostly measures the neighbours.
 *
 * Run: `node --import tsx bench/geo-vectorize.bench.ts [--size N] [--blobs N] [--repeat N]` (prints a table);
 * `run()` returns the rows. The mask is cached in the OS temp folder between runs.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import gdal from 'gdal-async';
import { configureGdalEnvironment } from '../src/geo/env.js';
import { maskToPolygons } from '../src/geo/maskToPolygons.js';
import { writeFeatures } from '../src/geo/writers/writeFeatures.js';
import { seededRandom } from '../test/support/seededRandom.js';
import { chooseEntry } from '../bin/entry.js';

export interface VectorizeBenchRow {
  method: string;
  size: number;
  features: number;
  /** Wall-clock seconds of the fastest run. */
  seconds: number;
  /** CPU seconds (user + system, all threads / child processes) of the run with the least CPU. */
  cpuSeconds: number;
  /** Wall time relative to gdal_polygonize.py + ogr2ogr -simplify (< 1 = faster than the CLI). */
  ratioToCli: number;
  /** CPU time relative to the CLI: the fairer figure on a shared, loaded machine. */
  cpuRatioToCli: number;
  /** Wall and CPU time relative to `gdal_polygonize.py` alone (the goal for `segearth vectorize`: ≤ 1.2). */
  ratioToPolygonize: number;
  cpuRatioToPolygonize: number;
  /** Wall and CPU time relative to GDAL's tools giving our full unsimplified answer (like for like). */
  ratioToFullAnswer: number;
  cpuRatioToFullAnswer: number;
}

const REPO = fileURLToPath(new URL('..', import.meta.url));

/** How `bin/segearth.js` starts here: the compiled CLI or the sources through tsx, and why. */
export function segearthEntry(): string {
  const entry = chooseEntry(REPO);
  return `${entry.kind === 'compiled' ? 'compiled dist/cli' : 'sources through tsx'} (${entry.reason})`;
}

const BENCH_DIR = path.join(os.tmpdir(), 'segearth-bench-geo');
const PIXEL = 0.5;


/** Builds (once) a size×size 0/255 mask of `blobs` disks and rotated-looking rectangles, EPSG:32633, 0.5 m. */
export function ensureBenchMask(size: number, blobs: number): string {
  configureGdalEnvironment();
  const file = path.join(BENCH_DIR, `vectorize-${size}-${blobs}.tif`);
  if (fs.existsSync(file) && fs.existsSync(`${file}.done`)) return file;
  fs.mkdirSync(BENCH_DIR, { recursive: true });
  const data = new Uint8Array(size * size);
  const rnd = seededRandom(42);
  for (let i = 0; i < blobs; i++) {
    const cx = rnd() * size;
    const cy = rnd() * size;
    const r = 4 + rnd() * 30;
    const jag = rnd() < 0.5;
    for (let y = Math.max(0, Math.floor(cy - r)); y < Math.min(size, Math.ceil(cy + r)); y++) {
      for (let x = Math.max(0, Math.floor(cx - r)); x < Math.min(size, Math.ceil(cx + r)); x++) {
        const dx = x + 0.5 - cx;
        const dy = y + 0.5 - cy;
        // Disks, or disks with a wavy edge (more vertices, like model output).
        const rr = jag ? r * (0.75 + 0.25 * Math.sin(6 * Math.atan2(dy, dx))) : r;
        if (dx * dx + dy * dy <= rr * rr) data[y * size + x] = 255;
      }
    }
  }
  const ds = gdal.open(file, 'w', 'GTiff', size, size, 1, 'Byte', ['TILED=YES', 'COMPRESS=DEFLATE', 'BIGTIFF=IF_SAFER']);
  ds.srs = gdal.SpatialReference.fromEPSG(32633);
  ds.geoTransform = [400000, PIXEL, 0, 5100000, 0, -PIXEL];
  const rows = 512;
  for (let y = 0; y < size; y += rows) {
    const h = Math.min(rows, size - y);
    ds.bands.get(1).pixels.write(0, y, size, h, data.subarray(y * size, (y + h) * size));
  }
  ds.close();
  fs.writeFileSync(`${file}.done`, '');
  return file;
}

interface Timing {
  seconds: number;
  cpuSeconds: number;
  features: number;
}

/** CPU seconds used so far by this process (all threads) and by its waited-for children. */
function cpuNow(): number {
  const self = process.cpuUsage();
  return (self.user + self.system) / 1e6 + childCpu;
}
let childCpu = 0;

/** Runs a GDAL command-line tool, adding its CPU time (from /usr/bin/time when present) to `childCpu`. */
function runTool(command: string, args: string[]): void {
  if (fs.existsSync('/usr/bin/time')) {
    const marker = 'SEGEARTH_CPU';
    const result = spawnSync('/usr/bin/time', ['-f', `${marker} %U %S`, command, ...args], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}`);
    const m = new RegExp(`${marker} ([\\d.]+) ([\\d.]+)`).exec(result.stderr);
    if (m) childCpu += Number(m[1]) + Number(m[2]);
  } else {
    execFileSync(command, args);
  }
}

async function measureOnce(work: () => Promise<number>): Promise<Timing> {
  const start = performance.now();
  const cpu = cpuNow();
  const features = await work();
  return { seconds: (performance.now() - start) / 1000, cpuSeconds: cpuNow() - cpu, features };
}

function best(timings: Timing[]): Timing {
  return {
    seconds: Math.min(...timings.map((t) => t.seconds)),
    cpuSeconds: Math.min(...timings.map((t) => t.cpuSeconds)),
    features: timings[timings.length - 1].features,
  };
}

function ogrFeatureCount(file: string): number {
  const text = execFileSync('ogrinfo', ['-ro', '-so', '-al', file], { encoding: 'utf8' });
  return Number(/Feature Count: (\d+)/.exec(text)?.[1] ?? NaN);
}

export async function run(opts: { size?: number; blobs?: number; repeat?: number } = {}): Promise<VectorizeBenchRow[]> {
  const size = opts.size ?? 10000;
  const blobs = opts.blobs ?? 6000;
  const repeat = opts.repeat ?? 2;
  const mask = ensureBenchMask(size, blobs);
  const outDir = fs.mkdtempSync(path.join(BENCH_DIR, 'out-'));
  try {
    const oursOnce = async () => {
      const out = path.join(outDir, 'ours.gpkg');
      fs.rmSync(out, { force: true });
      const features = await maskToPolygons({ kind: 'file', path: mask }, { simplify: { value: 1, unit: 'px' } });
      await writeFeatures([{ name: 'blobs', features }], out);
      return features.features.length;
    };
    const polygonize = (out: string) => {
      fs.rmSync(out, { force: true });
      runTool('gdal_polygonize.py', ['-q', '-8', '-mask', mask, '-f', 'GPKG', mask, out, 'blobs', 'DN']);
    };
    const cliOnce = async () => {
      const raw = path.join(outDir, 'cli-raw.gpkg');
      const simple = path.join(outDir, 'cli.gpkg');
      polygonize(raw);
      fs.rmSync(simple, { force: true });
      runTool('ogr2ogr', ['-f', 'GPKG', '-simplify', String(PIXEL), simple, raw]);
      return ogrFeatureCount(simple);
    };
    const fullAnswerOnce = async () => {
      const raw = path.join(outDir, 'cli-raw.gpkg');
      const full = path.join(outDir, 'cli-full.gpkg');
      polygonize(raw);
      fs.rmSync(full, { force: true });
      runTool('ogr2ogr', [
        '-f', 'GPKG', '-makevalid', '-nlt', 'MULTIPOLYGON', '-nln', 'blobs', '-dialect', 'SQLite',
        '-sql', 'SELECT geom, ST_Area(geom) AS area_m2, ST_Perimeter(geom) AS perimeter_m FROM blobs',
        full, raw,
      ]);
      return ogrFeatureCount(full);
    };
    const polygonizeOnce = async () => {
      const raw = path.join(outDir, 'cli-raw.gpkg');
      polygonize(raw);
      return ogrFeatureCount(raw);
    };
    const segearthOnce = (extra: string[]) => async () => {
      const out = path.join(outDir, 'segearth.gpkg');
      fs.rmSync(out, { force: true });
      runTool(process.execPath, [path.join(REPO, 'bin', 'segearth.js'), 'vectorize', mask, '-o', out, ...extra]);
      return ogrFeatureCount(out);
    };
    // Interleaved (ours, CLI, CLI floor, CLI full answer, segearth ×2) × repeat, so changes in machine load hit all alike.
    const methods = [oursOnce, cliOnce, polygonizeOnce, fullAnswerOnce, segearthOnce(['--simplify', '1px']), segearthOnce([])];
    const runs: Timing[][] = methods.map(() => []);
    for (let i = 0; i < repeat; i++) {
      for (const [m, once] of methods.entries()) runs[m].push(await measureOnce(once));
    }
    const [ours, cli, cliPolygonizeOnly, cliFullAnswer, segearthSimplified, segearthRaw] = runs.map(best);

    const row = (method: string, r: Timing): VectorizeBenchRow => ({
      method,
      size,
      features: r.features,
      seconds: r.seconds,
      cpuSeconds: r.cpuSeconds,
      ratioToCli: r.seconds / cli.seconds,
      cpuRatioToCli: r.cpuSeconds / cli.cpuSeconds,
      ratioToPolygonize: r.seconds / cliPolygonizeOnly.seconds,
      cpuRatioToPolygonize: r.cpuSeconds / cliPolygonizeOnly.cpuSeconds,
      ratioToFullAnswer: r.seconds / cliFullAnswer.seconds,
      cpuRatioToFullAnswer: r.cpuSeconds / cliFullAnswer.cpuSeconds,
    });
    return [
      row('maskToPolygons (simplify 1 px, joint) + writeFeatures GPKG', ours),
      row('gdal_polygonize.py -8 + ogr2ogr -simplify 1 px (CLI)', cli),
      row('gdal_polygonize.py -8 only (no simplification; invalid rings kept, no areas)', cliPolygonizeOnly),
      row('gdal_polygonize.py -8 + ogr2ogr -makevalid + ST_Area/ST_Perimeter (GDAL giving our full answer)', cliFullAnswer),
      row('`segearth vectorize --simplify 1px` (process, start-up included)', segearthSimplified),
      row('`segearth vectorize` (process, start-up included; no simplification)', segearthRaw),
    ];
  } finally {
    fs.rmSync(outDir, { recursive: true, force: true });
  }
}

export function formatTable(rows: VectorizeBenchRow[]): string {
  const head =
    '| method | mask | features | wall s | wall ÷ CLI | CPU s | CPU ÷ CLI | wall ÷ polygonize | CPU ÷ polygonize | wall ÷ full | CPU ÷ full |\n' +
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
  const body = rows
    .map(
      (r) =>
        `| ${r.method} | ${r.size}² | ${r.features} | ${r.seconds.toFixed(2)} | ${r.ratioToCli.toFixed(3)} | ${r.cpuSeconds.toFixed(2)} | ${r.cpuRatioToCli.toFixed(3)} | ${r.ratioToPolygonize.toFixed(3)} | ${r.cpuRatioToPolygonize.toFixed(3)} | ${r.ratioToFullAnswer.toFixed(3)} | ${r.cpuRatioToFullAnswer.toFixed(3)} |`,
    )
    .join('\n');
  return `${head}\n${body}`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  const options = { size: arg('--size'), blobs: arg('--blobs'), repeat: arg('--repeat') };
  const rows = await run(Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)));
  console.log(`vectorize benchmark; GDAL ${gdal.version}, ${os.cpus().length} CPU(s), node ${process.version}; segearth runs ${segearthEntry()}`);
  console.log(formatTable(rows));
  console.log(JSON.stringify(rows));
}
