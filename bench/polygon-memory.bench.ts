/**
 * @module bench/polygon-memory.bench
 * `npm run bench:polygon-memory [-- --sizes 6000,12000,20000 | --probability p.tif] [--format gpkg|geojson]` — not a test. Memory of
 * the polygon stage of `segearth ask` (issue 15.6) without a model: what the CLI does once the probability
 * raster is written (`inference/scene/result` + the writer), in its own process, on a speckle probability
 * raster = band 1 of `bench/memoryScene`'s scene / 255 (Float32; at the default threshold 0.5 thousands of
 * polygons and one giant pinched polygon with thousands of holes, growing with the area — the tiny bundle's
 * kind of answer). Next to it, the peer: `gdal_polygonize.py -8` of the same thresholded mask (made by
 * `gdal_calc.py "A>=0.5"`, the same test as `geo/maskSource`) into a GeoPackage, whose "Maximum resident set
 * size" (`/usr/bin/time -v`) is what GDAL's own tool needs to hold the same polygons — with GDAL's default block
 * cache (5 % of RAM) and with the 256 MB cap SegEarth runs with (`GDAL_CACHEMAX=256` in its environment).
 *
 * Ours: peak RSS = max(`VmHWM`, sampled `VmRSS` every 100 ms), split by the stage the child prints on stderr.
 * Rasters are cached in `$TMPDIR/segearth-bench-memory/`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir, scene } from './memoryScene.js';
import { highWaterKb, treeRssKb } from './processRss.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

/** The child: the CLI ask's polygon road on one probability raster, printing `stage: <name>` lines. */
async function child(probabilityPath: string, output: string): Promise<void> {
  const { answerPolygonLayer } = await import('../src/inference/scene/result.js');
  const { writeAnswerPolygons } = await import('../src/cli/commands/ask.js');
  let last = '';
  const stage = (name: string): void => {
    if (name !== last) process.stderr.write(`stage: ${name}\n`);
    last = name;
  };
  stage('polygons');
  const provenance = { question: 'where are the roads?', modelId: 'bench', bundleSha256: '0'.repeat(64), source: 'scene.tif', createdAt: '2026-12-05T00:00:00Z' };
  const polygons = await answerPolygonLayer(
    probabilityPath,
    { threshold: 0.5, minAreaM2: 0, onProgress: (_fraction, name) => stage(name) },
    provenance,
  );
  stage('write');
  await writeAnswerPolygons(polygons, output, false);
  stage('done');
}

/**
 * Band 1 of the scene / 255 as Float32 (tiled, DEFLATE) — or the probability raster `given` (e.g. one kept by
 * `segearth ask --probability`) — and its thresholded Byte mask for the peer.
 */
function rasters(size: number, given?: string): { probability: string; mask: string } {
  const probability = given ?? path.join(cacheDir, `probability-${size}.tif`);
  const mask = path.join(cacheDir, given ? `mask-of-${path.basename(given)}` : `mask-${size}.tif`);
  const co = ['-co', 'TILED=YES', '-co', 'COMPRESS=DEFLATE', '-co', 'BIGTIFF=IF_SAFER'];
  if (!existsSync(probability)) {
    execFileSync('gdal_translate', ['-q', '-b', '1', '-ot', 'Float32', '-scale', '0', '255', '0', '1', ...co, scene(size), `${probability}.part.tif`]);
    execFileSync('mv', [`${probability}.part.tif`, probability]);
  }
  if (!existsSync(mask)) {
    execFileSync('gdal_calc.py', ['--quiet', '-A', probability, '--calc=A>=0.5', '--type=Byte', '--co', 'TILED=YES', '--co', 'COMPRESS=DEFLATE', '--co', 'BIGTIFF=IF_SAFER', `--outfile=${mask}.part.tif`]);
    execFileSync('mv', [`${mask}.part.tif`, mask]);
  }
  return { probability, mask };
}

interface Measured {
  peakMiB: number;
  byStage: Map<string, number>;
  wallS: number;
}

async function measureOurs(probability: string, output: string, format: string): Promise<Measured> {
  const started = performance.now();
  const here = fileURLToPath(import.meta.url);
  const proc = spawn(process.execPath, ['--import', 'tsx', here, '--child', probability, output, '--format', format], { stdio: ['ignore', 'inherit', 'pipe'] });
  let stderr = '';
  let stage = 'start';
  let peak = 0;
  const byStage = new Map<string, number>();
  proc.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    const m = /(?:^|\n)stage: ([a-z]+)\n$/.exec(stderr);
    if (m) stage = m[1]!;
  });
  const sample = (): void => {
    const high = highWaterKb(proc.pid!);
    if (high === 0) return;
    const rss = treeRssKb(proc.pid!);
    peak = Math.max(peak, high, rss);
    byStage.set(stage, Math.max(byStage.get(stage) ?? 0, rss));
  };
  const timer = setInterval(sample, 100);
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => proc.on('exit', (c, s) => resolve([c, s])));
  clearInterval(timer);
  if (code !== 0) throw new Error(`polygon stage failed (exit ${code}, signal ${signal}, peak ${(peak / 1024).toFixed(0)} MiB): ${stderr.slice(-2000)}`);
  return { peakMiB: peak / 1024, byStage: new Map([...byStage].map(([k, v]) => [k, v / 1024])), wallS: (performance.now() - started) / 1000 };
}

function featureCount(file: string): string {
  // A speckled answer's giant polygon is larger than GDAL's GeoJSON reader takes by default (200 MB an object).
  const info = execFileSync('ogrinfo', ['--config', 'OGR_GEOJSON_MAX_OBJ_SIZE', '0', '-so', '-al', file], { encoding: 'utf8' });
  return /Feature Count: (\d+)/.exec(info)?.[1] ?? '?';
}

if (args[0] === '--child') {
  await child(args[1]!, args[2]!);
} else {
  const given = opt('--probability');
  const sizes = given ? [0] : (opt('--sizes') ?? '6000,12000,20000').split(',').map(Number);
  const format = opt('--format') ?? 'gpkg';
  console.log(`polygon-stage memory; ${os.cpus().length} CPU(s), node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, output .${format}`);
  const rows: string[][] = [
    ['raster', 'features', 'ours peak MiB', 'ours by stage (MiB)', 'ours wall s', 'gdal_polygonize peak MiB', 'gdal_polygonize wall s', 'ours ÷ peer', 'gdal_polygonize, 256 MB cache: peak MiB', 'ours ÷ that'],
  ];
  for (const size of sizes) {
    const { probability, mask } = rasters(size, given && path.resolve(given));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'segearth-bench-polymem-'));
    try {
      const ours = await measureOurs(probability, path.join(dir, `ours.${format}`), format);
      const peerOut = path.join(dir, 'peer.gpkg');
      const peer = (cacheMb: number | null): { kb: number; wallS: number } => {
        rmSync(peerOut, { force: true });
        const started = performance.now();
        const timeFile = path.join(dir, 'time.txt');
        const env = { ...process.env };
        if (cacheMb === null) delete env['GDAL_CACHEMAX'];
        else env['GDAL_CACHEMAX'] = String(cacheMb);
        execFileSync('/usr/bin/time', ['-v', '-o', timeFile, 'gdal_polygonize.py', '-q', '-8', '-mask', mask, '-f', 'GPKG', mask, peerOut], { stdio: 'ignore', env });
        return { kb: Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(timeFile, 'utf8'))?.[1] ?? NaN), wallS: (performance.now() - started) / 1000 };
      };
      // GDAL's default block cache (5 % of RAM), and the 256 MB cap SegEarth runs with (`geo/env`).
      const { kb: peerKb, wallS: peerWall } = peer(null);
      const capped = peer(256);
      const stages = [...ours.byStage].filter(([k]) => k !== 'start' && k !== 'done').map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ');
      rows.push([
        given ? path.basename(given) : `${size}²`,
        `${featureCount(path.join(dir, `ours.${format}`))} / ${featureCount(peerOut)}`,
        ours.peakMiB.toFixed(0),
        stages,
        ours.wallS.toFixed(1),
        (peerKb / 1024).toFixed(0),
        peerWall.toFixed(1),
        (ours.peakMiB / (peerKb / 1024)).toFixed(2),
        (capped.kb / 1024).toFixed(0),
        (ours.peakMiB / (capped.kb / 1024)).toFixed(2),
      ]);
      console.log(rows.at(-1)!.join(' | '));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(`load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  console.log(`\n${rows.map((r, i) => `| ${r.map((v, c) => v.padEnd(widths[c]!)).join(' | ')} |${i === 0 ? `\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|` : ''}`).join('\n')}`);
}
