/**
 * @module bench/geo-read
 * readRegion throughput: 256×256 RGB tiles per second from a large raster (10000×10000, UInt16, 3 bands, tiled,
 * with overviews), on the same tile list, for:
 * - `readRegion` (SegEarth: window → GDAL resampling via overviews → per-raster stretch + valid mask → RGB),
 * - `gdal_translate -srcwin … -outsize 256 256` spawned per tile (the CLI reference of issue 2),
 * - the CLI's work without the process start: in-process `gdal.translateAsync` to a MEM dataset with the same
 *   -srcwin/-outsize/-r arguments, bands read back (no mask, no stretch) — the fair floor for readRegion,
 * - naive in-process reads: gdal-async `band.pixels.readAsync` per band with buffer_width/height (no mask, no
 *   stretch); on a pixel-interleaved file each band read decodes the same blocks again.
 * Half the tiles are native resolution (256² windows), half are 1024² windows read at 256² (overview level 2).
 * Tiles are read one after another (latency-bound, like a map panning one tile at a time); the in-process
 * methods are interleaved tile by tile in rotating order (the CLI runs afterwards), each on its own handle.
 *
 * Run: `node --import tsx bench/geo-read.bench.ts [--tiles N]` (prints a table); `run()` returns the rows.
 * The bench raster is cached in the OS temp folder between runs.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import gdal from 'gdal-async';
import { configureGdalEnvironment } from '../src/geo/env.js';
import { readRegion, type PixelWindow } from '../src/geo/readRegion.js';
import { getStretch } from '../src/geo/radiometry.js';
import { closeAllRasters } from '../src/geo/datasetCache.js';

export interface BenchRow {
  method: string;
  tiles: number;
  seconds: number;
  tilesPerSecond: number;
  /** Time per tile relative to the gdal_translate CLI (< 1 = faster than the CLI). */
  ratioToCli: number;
  /** Time per tile relative to the same translate done in-process (≥ 1; the overhead of mask + stretch). */
  ratioToInProcessTranslate: number;
}

const SIZE = 10000;
const BENCH_DIR = path.join(os.tmpdir(), 'segearth-bench-geo');
const RASTER = path.join(BENCH_DIR, `read-${SIZE}-u16x3.tif`);

/** Build (once) the 10000² UInt16 3-band tiled raster with internal overviews. */
export function ensureBenchRaster(): string {
  configureGdalEnvironment();
  if (fs.existsSync(RASTER) && fs.existsSync(`${RASTER}.done`)) return RASTER;
  fs.mkdirSync(BENCH_DIR, { recursive: true });
  const ds = gdal.open(RASTER, 'w', 'GTiff', SIZE, SIZE, 3, 'UInt16', ['TILED=YES', 'BLOCKXSIZE=256', 'BLOCKYSIZE=256', 'BIGTIFF=IF_SAFER']);
  ds.srs = gdal.SpatialReference.fromEPSG(32633);
  ds.geoTransform = [400000, 0.5, 0, 5100000, 0, -0.5];
  const rows = 256;
  const buf = new Uint16Array(SIZE * rows);
  for (let b = 1; b <= 3; b++) {
    const band = ds.bands.get(b);
    for (let y0 = 0; y0 < SIZE; y0 += rows) {
      const h = Math.min(rows, SIZE - y0);
      for (let y = 0; y < h; y++) {
        const yy = y0 + y;
        for (let x = 0; x < SIZE; x++) buf[y * SIZE + x] = 300 + b * 200 + ((x * 7 + yy * 13) % 2500) + ((x * yy) % 97);
      }
      band.pixels.write(0, y0, SIZE, h, buf.subarray(0, SIZE * h));
    }
  }
  ds.buildOverviews('AVERAGE', [2, 4, 8, 16, 32, 64]);
  ds.close();
  fs.writeFileSync(`${RASTER}.done`, '');
  return RASTER;
}

/** Deterministic tile list: `n` windows, half 256² native, half 1024² (read at 256²). */
export function benchTiles(n: number, seed0 = 12345): PixelWindow[] {
  let seed = seed0;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  return Array.from({ length: n }, (_, i) => {
    const side = i % 2 === 0 ? 256 : 1024;
    return { x: Math.floor(rnd() * (SIZE - side)), y: Math.floor(rnd() * (SIZE - side)), width: side, height: side };
  });
}

async function time(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

export async function run(opts: { tiles?: number } = {}): Promise<BenchRow[]> {
  const file = ensureBenchRaster();
  const tiles = benchTiles(opts.tiles ?? 100);
  const out = path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), `segearth-bench-tile-${process.pid}.tif`);

  // Fairness: the OS page cache is warmed for every tile first (one untimed pass through a throwaway handle),
  // then every in-process method gets a fresh dataset handle (cold GDAL block cache) warmed up on 10 OTHER tiles.
  const warm = benchTiles(10, 777);
  {
    const pre = await gdal.openAsync(file);
    const preBands = await Promise.all([1, 2, 3].map((b) => pre.bands.getAsync(b)));
    for (const w of tiles) for (const band of preBands) await band.pixels.readAsync(w.x, w.y, w.width, w.height, new Uint16Array(256 * 256), { buffer_width: 256, buffer_height: 256 });
    pre.close();
  }
  await getStretch(file); // once per raster, as the app does on first display

  // In-process methods, each with its own dataset handle, interleaved tile by tile in rotating order so the
  // (shared, noisy) machine load hits them equally.
  const translateDs = await gdal.openAsync(file);
  const bandsDs = await gdal.openAsync(file);
  const bands = await Promise.all([1, 2, 3].map((b) => bandsDs.bands.getAsync(b)));
  const translateArgs = (w: PixelWindow): string[] => ['-of', 'MEM', '-srcwin', String(w.x), String(w.y), String(w.width), String(w.height), '-outsize', '256', '256', '-r', 'bilinear'];
  const methods: Array<(w: PixelWindow) => Promise<void>> = [
    async (w) => {
      await readRegion(file, { window: { kind: 'pixel', window: w }, outWidth: 256, outHeight: 256, resampling: 'bilinear' });
    },
    async (w) => {
      const mem = await gdal.translateAsync('', translateDs, translateArgs(w));
      for (let b = 1; b <= 3; b++) mem.bands.get(b).pixels.read(0, 0, 256, 256);
      mem.close();
    },
    async (w) => {
      for (const band of bands) {
        await band.pixels.readAsync(w.x, w.y, w.width, w.height, new Uint16Array(256 * 256), { buffer_width: 256, buffer_height: 256, resampling: gdal.GRA_Bilinear });
      }
    },
  ];
  for (const w of warm) for (const m of methods) await m(w);
  const totals = [0, 0, 0];
  for (let i = 0; i < tiles.length; i++) {
    for (let k = 0; k < methods.length; k++) {
      const m = (i + k) % methods.length;
      totals[m] += await time(() => methods[m](tiles[i]));
    }
  }
  translateDs.close();
  bandsDs.close();
  closeAllRasters();
  const [ours, translateFloor, floor] = totals;

  const cli = await time(async () => {
    for (const w of tiles) {
      execFileSync('gdal_translate', ['-q', '-of', 'GTiff', '-srcwin', String(w.x), String(w.y), String(w.width), String(w.height), '-outsize', '256', '256', '-r', 'bilinear', file, out]);
    }
  });
  fs.rmSync(out, { force: true });

  const n = tiles.length;
  const row = (method: string, seconds: number): BenchRow => ({
    method,
    tiles: n,
    seconds,
    tilesPerSecond: n / seconds,
    ratioToCli: seconds / cli,
    ratioToInProcessTranslate: seconds / translateFloor,
  });
  return [
    row('readRegion (in-process, stretch + mask)', ours),
    row('gdal_translate CLI per tile (spawned)', cli),
    row('in-process gdal.translateAsync → MEM (floor)', translateFloor),
    row('naive per-band readAsync ×3', floor),
  ];
}

export function formatTable(rows: BenchRow[]): string {
  const head = '| method | tiles | seconds | tiles/s | time ÷ CLI | time ÷ in-process translate |\n|---|---:|---:|---:|---:|---:|';
  const body = rows
    .map((r) => `| ${r.method} | ${r.tiles} | ${r.seconds.toFixed(2)} | ${r.tilesPerSecond.toFixed(1)} | ${r.ratioToCli.toFixed(3)} | ${r.ratioToInProcessTranslate.toFixed(2)} |`)
    .join('\n');
  return `${head}\n${body}`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const i = process.argv.indexOf('--tiles');
  const tiles = i > 0 ? Number(process.argv[i + 1]) : undefined;
  const rows = await run(tiles ? { tiles } : {});
  console.log(`readRegion benchmark, ${SIZE}×${SIZE} UInt16 ×3, tiled 256, internal overviews; GDAL ${gdal.version}, ${os.cpus().length} CPU(s)`);
  console.log(formatTable(rows));
  console.log(JSON.stringify(rows));
}
