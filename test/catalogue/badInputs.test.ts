/**
 * A catalogue of bad inputs, one row per case, across `segearth info / vectorize / ask / batch` and the
 * server API: corrupt, truncated, empty, folder, no CRS, 1/2/4 bands, 16-bit, float, NaN, all-nodata, 1×1,
 * 200000² sparse, unicode paths, read-only and full output folders, output = input, bad parameters,
 * corrupt model files, hostile JSON, traversal, VRT escapes.
 *
 * Every row asserts the exit status (or HTTP status and error code), that the message names the problem and
 * the hint names the fix, and that no partial output (nor a `.segearth-tmp-*` folder) is left. CLI rows run
 * in-process through `runCli` (the same code path as the binary, minus a 1–2 s process start); the server
 * rows go over HTTP to the real transport, dispatcher, path guard and geo engine.
 *
 * A full disk and a read-only folder are small tmpfs mounts, which need root: without it those rows are
 * skipped with a printed reason.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gdal from 'gdal-async';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commandList.js';
import { runCli } from '../../src/cli/run.js';
import { EXIT } from '../../src/cli/exitCodes.js';
import { createDispatcher } from '../../src/main/dispatch.js';
import { loadResource } from '../../src/main/resources.js';
import { createBackend, type Backend } from '../../src/main/services/createApi.js';
import { createGeoAdapter } from '../../src/main/services/geoAdapter.js';
import type { InferenceBackend } from '../../src/main/services/backends.js';
import { openRaster } from '../../src/geo/openRaster.js';
import { vectorizeMask } from '../../src/geo/maskToPolygons.js';
import { gridExtent } from '../../src/geo/geoTransform.js';
import { answerPolygons } from '../../src/inference/scene/result.js';
import { startServer, type RunningServer } from '../../src/main/transport/server.js';
import { createRaster, createSparseRaster } from '../support/syntheticRaster.js';
import { ensureTinyBundle } from '../support/tinyBundle.js';
import { maskSceneProcessor } from '../support/maskSceneProcessor.js';
import type { BatchFinished } from '../../src/shared/api/batchDto.js';

const work = mkdtempSync(join(tmpdir(), 'segearth-catalogue-'));
const full = join(work, 'full');
const readOnly = join(work, 'readonly');
const mounted: string[] = [];
let mountProblem: string | null = null;
let tiny: string;
let corruptModel: string;
let badManifestModel: string;

const f = (name: string): string => join(work, name);

function mountTmpfs(dir: string, options: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'pipe' });
  mounted.push(dir);
}

beforeAll(async () => {
  const utm = { srs: 32633, geoTransform: [500000, 10, 0, 5000000, 0, -10] as [number, number, number, number, number, number] };
  createRaster(f('scene.tif'), { width: 96, height: 64, bandCount: 3, ...utm, value: (b, x, y) => (x * 3 + y * b) % 250 });
  createRaster(f('mask.tif'), { width: 64, height: 64, ...utm, value: (_b, x, y) => (x >= 8 && x < 24 && y >= 8 && y < 30 ? 1 : 0) });
  createRaster(f('prob.tif'), { width: 64, height: 64, dataType: 'Float32', ...utm, value: (_b, x) => x / 64 });
  createRaster(f('nan.tif'), { width: 32, height: 32, dataType: 'Float32', ...utm, value: (_b, x) => (x % 2 ? Number.NaN : 0.9) });
  createRaster(f('nodata.tif'), { width: 32, height: 32, dataType: 'Float32', ...utm, noData: -1, value: () => -1 });
  createRaster(f('one.tif'), { width: 1, height: 1, ...utm, value: () => 1 });
  createRaster(f('u16.tif'), { width: 32, height: 32, dataType: 'UInt16', ...utm, value: (_b, x) => (x > 16 ? 40000 : 0) });
  createRaster(f('two-band.tif'), { width: 32, height: 32, bandCount: 2, ...utm, value: (b, x) => (b === 2 && x > 10 ? 1 : 0) });
  createRaster(f('four-band.tif'), { width: 32, height: 32, bandCount: 4, dataType: 'UInt16', ...utm, value: (b, x, y) => b * 100 + x + y });
  createRaster(f('rotated.tif'), { width: 32, height: 32, srs: 32633, geoTransform: [500000, 8, 6, 5000000, 6, -8], value: (_b, x) => (x > 16 ? 1 : 0) });
  createRaster(f('pixels.tif'), { width: 48, height: 48, value: (_b, x, y) => (x > 10 && y > 10 && x < 30 && y < 30 ? 1 : 0) });
  createRaster(f('nocrs-scene.tif'), { width: 64, height: 64, bandCount: 3, value: (b, x, y) => (x * b + y) % 200 });
  createSparseRaster(f('huge.tif'), 200_000, 200_000, { srs: 32633, geoTransform: [500000, 1, 0, 5000000, 0, -1] });
  mkdirSync(f('unicodé 場景'), { recursive: true });
  createRaster(f('unicodé 場景/máscara.tif'), { width: 32, height: 32, ...utm, value: (_b, x) => (x > 16 ? 1 : 0) });
  mkdirSync(f('folder.tif'));
  writeFileSync(f('empty.tif'), '');
  writeFileSync(f('notes.tif'), 'field notes, not an image\n');
  const whole = readFileSync(f('scene.tif'));
  writeFileSync(f('truncated.tif'), whole.subarray(0, Math.floor(whole.length / 2)));
  writeFileSync(f('header-cut.tif'), whole.subarray(0, 40));
  // A mask stored in strips, cut in its pixel data (the direct polygonize path reads it).
  createRaster(f('bigmask.tif'), { width: 512, height: 512, ...utm, value: (_b, x, y) => ((x >> 3) + (y >> 3)) % 2 });
  const big = readFileSync(f('bigmask.tif'));
  writeFileSync(f('bigmask-cut.tif'), big.subarray(0, Math.floor(big.length / 2)));
  mkdirSync(f('out'));
  execFileSync('gdal_translate', ['-q', '-of', 'GPKG', f('mask.tif'), f('mask-copy.gpkg')]);

  if (process.getuid?.() !== 0) mountProblem = 'not running as root (mounting a tmpfs needs it)';
  else {
    try {
      mountTmpfs(full, 'size=64k');
      writeFileSync(join(full, 'filler'), Buffer.alloc(64 * 1024 - 4096));
      // fill what is left to the last block
      try {
        writeFileSync(join(full, 'filler2'), Buffer.alloc(64 * 1024));
      } catch {
        /* full now */
      }
      mountTmpfs(readOnly, 'ro,size=64k');
    } catch (err) {
      mountProblem = `mount -t tmpfs failed (${(err as Error).message.split('\n')[0]})`;
    }
  }
  if (mountProblem) console.log(`skipped: full-disk and read-only rows: ${mountProblem}`);

  tiny = await ensureTinyBundle();
  corruptModel = f('model-corrupt');
  cpSync(tiny, corruptModel, { recursive: true });
  const weights = join(corruptModel, 'image.onnx.data');
  const bytes = readFileSync(weights);
  bytes.fill(0x7f, 1024, 1024 + 4096); // 4 KiB overwritten, same size
  writeFileSync(weights, bytes);
  badManifestModel = f('model-bad-manifest');
  cpSync(tiny, badManifestModel, { recursive: true });
  writeFileSync(join(badManifestModel, 'manifest.json'), '{"formatVersion": 1, "files": [');
}, 600_000);

afterAll(() => {
  for (const dir of mounted.reverse()) {
    try {
      execFileSync('umount', [dir], { stdio: 'pipe' });
    } catch {
      /* leave it to the OS */
    }
  }
  try {
    rmSync(work, { recursive: true, force: true });
  } catch (err) {
    console.log(`could not remove ${work}: ${(err as Error).message}`);
  }
});


async function cli(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const status = await runCli(['node', 'segearth', ...args], COMMANDS, { out: (t) => (stdout += t), err: (t) => (stderr += t) });
  return { status, stdout, stderr };
}

/** Files left in `dir` that are not in `before`, `.segearth-tmp-*` folders included. */
function leftovers(dir: string, before: readonly string[]): string[] {
  if (!existsSync(dir)) return [];
  // tsx (which runs the inference worker from source) keeps its compile cache in TMPDIR: not ours.
  return readdirSync(dir).filter((n) => !before.includes(n) && n !== 'lost+found' && !n.startsWith('tsx-'));
}

interface CliCase {
  name: string;
  args: () => string[];
  status: number;
  /** The message names the problem … */
  problem?: RegExp;
  /** … and the hint names the fix. */
  fix?: RegExp;
  /** For successes: what stdout says. */
  stdout?: RegExp;
  /** Folder that must hold no new file afterwards (partial output, temp folders). */
  clean?: () => string;
  needsMount?: boolean;
  check?: () => void;
  /** Environment variables set while the case runs (in-process: restored afterwards). */
  env?: () => Record<string, string>;
}

const out = (name: string) => () => join(work, 'out', name);

const CLI_CASES: CliCase[] = [
  // info
  { name: 'info: missing file', args: () => ['info', f('nope.tif')], status: EXIT.INPUT, problem: /No file at .*nope\.tif/, fix: /Check the path/ },
  { name: 'info: a folder', args: () => ['info', f('folder.tif')], status: EXIT.INPUT, problem: /is a folder/, fix: /Open the image file inside the folder/ },
  { name: 'info: empty file', args: () => ['info', f('empty.tif')], status: EXIT.INPUT, problem: /empty\.tif is not a raster image/, fix: /Choose a GeoTIFF/ },
  { name: 'info: text named .tif', args: () => ['info', f('notes.tif')], status: EXIT.INPUT, problem: /not a raster image/, fix: /Choose a GeoTIFF/ },
  { name: 'info: GeoTIFF cut in its header', args: () => ['info', f('header-cut.tif')], status: EXIT.INPUT, problem: /header-cut\.tif/, fix: /copy it again|Copy or download it again|complete raster/i },
  { name: 'info: 200000² sparse raster is described', args: () => ['info', f('huge.tif')], status: EXIT.OK, stdout: /200000 × 200000 pixels/ },
  { name: 'info: unicode path', args: () => ['info', f('unicodé 場景/máscara.tif')], status: EXIT.OK, stdout: /32 × 32 pixels/ },
  { name: 'info: rotated grid is described', args: () => ['info', f('rotated.tif')], status: EXIT.OK, stdout: /EPSG:32633/ },
  // vectorize: bad files
  { name: 'vectorize: truncated GeoTIFF (strips)', args: () => ['vectorize', f('bigmask-cut.tif'), '-o', out('cut.geojson')()], status: EXIT.INPUT, problem: /bigmask-cut\.tif is damaged/, fix: /Copy or download it again/, clean: () => f('out') },
  { name: 'vectorize: truncated 3-band scene', args: () => ['vectorize', f('truncated.tif'), '-o', out('cut2.geojson')()], status: EXIT.INPUT, problem: /damaged|not a raster/, fix: /again/, clean: () => f('out') },
  { name: 'vectorize: empty file', args: () => ['vectorize', f('empty.tif'), '-o', out('e.gpkg')()], status: EXIT.INPUT, problem: /empty\.tif is not a raster image/, fix: /Choose a GeoTIFF/, clean: () => f('out') },
  { name: 'vectorize: a folder', args: () => ['vectorize', f('folder.tif'), '-o', out('d.gpkg')()], status: EXIT.INPUT, problem: /is a folder/, fix: /raster file/, clean: () => f('out') },
  { name: 'vectorize: missing file', args: () => ['vectorize', f('nope.tif'), '-o', out('n.gpkg')()], status: EXIT.INPUT, problem: /does not exist/, fix: /Check the path/, clean: () => f('out') },
  { name: 'vectorize: 200000² is too large, said before reading', args: () => ['vectorize', f('huge.tif'), '-o', out('h.gpkg')()], status: EXIT.INPUT, problem: /200000×200000 pixels, too large/, fix: /Crop the mask/, clean: () => f('out') },
  // vectorize: bad parameters
  { name: 'vectorize: --threshold -1', args: () => ['vectorize', f('mask.tif'), '-o', out('t.gpkg')(), '--threshold', '-1'], status: EXIT.USAGE, problem: /threshold -1 is negative/, fix: /between 0 and 1/, clean: () => f('out') },
  { name: 'vectorize: --threshold 300 on a Byte mask', args: () => ['vectorize', f('mask.tif'), '-o', out('t.gpkg')(), '--threshold', '300'], status: EXIT.USAGE, problem: /above 255/, fix: /between 0 and 255/, clean: () => f('out') },
  { name: 'vectorize: --threshold 2 on probabilities', args: () => ['vectorize', f('prob.tif'), '-o', out('t.gpkg')(), '--threshold', '2'], status: EXIT.USAGE, problem: /above 1, but this raster holds probabilities/, fix: /between 0 and 1/, clean: () => f('out') },
  { name: 'vectorize: --threshold abc', args: () => ['vectorize', f('mask.tif'), '-o', out('t.gpkg')(), '--threshold', 'abc'], status: EXIT.USAGE, problem: /"abc" is not a number/, fix: /--help/, clean: () => f('out') },
  { name: 'vectorize: --band 9 of a 1-band mask', args: () => ['vectorize', f('mask.tif'), '-o', out('b.gpkg')(), '--band', '9'], status: EXIT.USAGE, problem: /has no band 9/, fix: /band between 1 and 1/, clean: () => f('out') },
  { name: 'vectorize: --min-area on a mask without CRS', args: () => ['vectorize', f('pixels.tif'), '-o', out('p.gpkg')(), '--min-area', '10'], status: EXIT.INPUT, problem: /no CRS/, fix: /georeference|px/, clean: () => f('out') },
  { name: 'vectorize: unknown output format', args: () => ['vectorize', f('mask.tif'), '-o', out('r.kml')()], status: EXIT.OUTPUT, problem: /Cannot tell the vector format/, fix: /\.gpkg/, clean: () => f('out') },
  { name: 'vectorize: output is the input (--overwrite)', args: () => ['vectorize', f('mask-copy.gpkg'), '-o', f('mask-copy.gpkg'), '--overwrite'], status: EXIT.USAGE, problem: /mask-copy\.gpkg is an input/, fix: /another file name/, check: () => expect(execFileSync('gdalinfo', [f('mask-copy.gpkg')], { encoding: 'utf8' })).toMatch(/Size is 64, 64/) },
  { name: 'vectorize: output folder missing', args: () => ['vectorize', f('mask.tif'), '-o', f('no-such-dir/r.gpkg')], status: EXIT.OUTPUT, problem: /Cannot write into the folder/, fix: /existing folder/ },
  { name: 'vectorize: output is a folder', args: () => ['vectorize', f('mask.tif'), '-o', f('folder.tif')], status: EXIT.OUTPUT, problem: /Cannot tell the vector format|is a folder/, fix: /\.gpkg|file name/ },
  // vectorize: data that is fine
  { name: 'vectorize: 1×1 raster', args: () => ['vectorize', f('one.tif'), '-o', out('one.geojson')()], status: EXIT.OK, stdout: /wrote 1 polygon \(100\.00 m² in total\)/ },
  { name: 'vectorize: all-nodata probabilities', args: () => ['vectorize', f('nodata.tif'), '-o', out('nodata.geojson')()], status: EXIT.OK, stdout: /wrote 0 polygons/ },
  { name: 'vectorize: NaN probabilities are background', args: () => ['vectorize', f('nan.tif'), '-o', out('nan.gpkg')()], status: EXIT.OK, stdout: /wrote 16 polygons/ },
  { name: 'vectorize: 16-bit mask', args: () => ['vectorize', f('u16.tif'), '-o', out('u16.gpkg')()], status: EXIT.OK, stdout: /wrote 1 polygon/ },
  { name: 'vectorize: band 2 of a 2-band raster', args: () => ['vectorize', f('two-band.tif'), '--band', '2', '-o', out('b2.gpkg')()], status: EXIT.OK, stdout: /wrote 1 polygon/ },
  { name: 'vectorize: 4-band 16-bit raster, band 4, threshold in its scale', args: () => ['vectorize', f('four-band.tif'), '--band', '4', '--threshold', '430', '-o', out('b4.gpkg')()], status: EXIT.OK, stdout: /wrote 1 polygon/ },
  { name: 'vectorize: rotated grid', args: () => ['vectorize', f('rotated.tif'), '-o', out('rot.gpkg')()], status: EXIT.OK, stdout: /wrote 1 polygon/ },
  { name: 'vectorize: no CRS → areas unknown', args: () => ['vectorize', f('pixels.tif'), '-o', out('px.gpkg')()], status: EXIT.OK, stdout: /no CRS: areas unknown/ },
  { name: 'vectorize: unicode in and out', args: () => ['vectorize', f('unicodé 場景/máscara.tif'), '-o', f('unicodé 場景/polígonos.gpkg')], status: EXIT.OK, stdout: /polígonos\.gpkg/ },
  // vectorize: full and read-only output folders
  { name: 'vectorize: full disk, GeoJSON', args: () => ['vectorize', f('bigmask.tif'), '-o', join(full, 'r.geojson')], status: EXIT.OUTPUT, problem: /Not enough space to write .*r\.geojson/, fix: /Free some disk space/, clean: () => full, needsMount: true },
  { name: 'vectorize: full disk, GeoPackage', args: () => ['vectorize', f('bigmask.tif'), '-o', join(full, 'r.gpkg')], status: EXIT.OUTPUT, problem: /Not enough space/, fix: /Free some disk space/, clean: () => full, needsMount: true },
  { name: 'vectorize: full disk, Shapefile', args: () => ['vectorize', f('bigmask.tif'), '-o', join(full, 'r.shp')], status: EXIT.OUTPUT, problem: /Not enough space/, fix: /Free some disk space/, clean: () => full, needsMount: true },
  { name: 'vectorize: read-only folder', args: () => ['vectorize', f('mask.tif'), '-o', join(readOnly, 'r.gpkg')], status: EXIT.OUTPUT, problem: /Cannot write into the folder/, fix: /write permission/, clean: () => readOnly, needsMount: true },
  // ask
  { name: 'ask: --probability is the scene itself (--overwrite)', args: () => ['ask', f('scene.tif'), 'roads', '--model', tiny, '--ep', 'cpu', '-o', out('a.gpkg')(), '--probability', f('scene.tif'), '--overwrite'], status: EXIT.USAGE, problem: /scene\.tif is an input/, fix: /another file name/, clean: () => f('out'), check: () => expect(readFileSync(f('scene.tif')).length).toBeGreaterThan(1000) },
  { name: 'ask: --output and --probability the same file', args: () => ['ask', f('scene.tif'), 'roads', '--model', tiny, '--ep', 'cpu', '-o', out('same.tif')(), '--probability', out('same.tif')()], status: EXIT.OUTPUT, problem: /vector format/, fix: /\.gpkg/, clean: () => f('out') },
  { name: 'ask: empty question', args: () => ['ask', f('scene.tif'), '   ', '--model', tiny, '-o', out('q.gpkg')()], status: EXIT.USAGE, problem: /question/i, fix: /.+/, clean: () => f('out') },
  { name: 'ask: --threshold 1', args: () => ['ask', f('scene.tif'), 'roads', '--model', tiny, '--threshold', '1', '-o', out('q.gpkg')()], status: EXIT.USAGE, problem: /--threshold 1 is not valid/, fix: /probability in \(0, 1\)/, clean: () => f('out') },
  { name: 'ask: missing model folder', args: () => ['ask', f('scene.tif'), 'roads', '--model', f('no-model'), '-o', out('q.gpkg')()], status: EXIT.INPUT, problem: /No model bundle folder|No model bundle/, fix: /.+/, clean: () => f('out') },
  { name: 'ask: model manifest is not JSON', args: () => ['ask', f('scene.tif'), 'roads', '--model', badManifestModel, '--ep', 'cpu', '-o', out('q.gpkg')()], status: EXIT.INPUT, problem: /manifest\.json is not valid JSON/, fix: /Re-export or re-install/, clean: () => f('out') },
  { name: 'ask: 4 KiB of weights overwritten at the same size', args: () => ['ask', f('scene.tif'), 'roads', '--model', corruptModel, '--ep', 'cpu', '-o', out('q.gpkg')()], status: EXIT.INPUT, problem: /model bundle is corrupt: image\.onnx\.data/, fix: /Re-install the model/, clean: () => f('out') },
  { name: 'ask: a folder as the scene', args: () => ['ask', f('folder.tif'), 'roads', '--model', tiny, '--ep', 'cpu', '-o', out('q.gpkg')()], status: EXIT.INPUT, problem: /is a folder/, fix: /.+/, clean: () => f('out') },
  { name: 'ask: damaged scene', args: () => ['ask', f('truncated.tif'), 'roads', '--model', tiny, '--ep', 'cpu', '-o', out('q.gpkg')()], status: EXIT.INPUT, problem: /damaged|not a raster/, fix: /again/, clean: () => f('out') },
  { name: 'ask: scene without CRS says areas are unknown', args: () => ['ask', f('nocrs-scene.tif'), 'roads', '--model', tiny, '--ep', 'cpu', '--threshold', '0.01', '-o', out('nocrs.gpkg')()], status: EXIT.OK, stdout: /area unknown \(pixel coordinates\)/ },
  { name: 'ask: full disk for the probability raster', args: () => ['ask', f('scene.tif'), 'roads', '--model', tiny, '--ep', 'cpu', '-o', out('full.gpkg')(), '--probability', join(full, 'p.tif')], status: EXIT.OUTPUT, problem: /Not enough space/, fix: /Free some disk space/, clean: () => full, needsMount: true },
  { name: 'ask: full disk for temporary files (TMPDIR)', args: () => ['ask', f('scene.tif'), 'roads', '--model', tiny, '--ep', 'cpu', '-o', out('tmpfull.gpkg')()], env: () => ({ TMPDIR: full }), status: EXIT.OUTPUT, problem: /Not enough space/, fix: /Free some disk space/, clean: () => full, needsMount: true },
  // batch
  { name: 'batch: input folder missing', args: () => ['batch', f('no-scenes'), '-q', 'roads', '--model', tiny, '-o', f('batch-out')], status: EXIT.INPUT, problem: /input folder .* does not exist/, fix: /Check the path/ },
  { name: 'batch: --threshold 3', args: () => ['batch', f('out'), '-q', 'roads', '--model', tiny, '--threshold', '3', '-o', f('batch-out')], status: EXIT.USAGE, problem: /--threshold 3 is not valid/, fix: /probability in \(0, 1\)/ },
];

describe('catalogue of bad inputs: CLI', () => {
  it.each(CLI_CASES)('$name', async (c) => {
    if (c.needsMount && mountProblem) {
      console.log(`skipped: ${c.name}: ${mountProblem}`);
      return;
    }
    const cleanDir = c.clean?.();
    const before = cleanDir && existsSync(cleanDir) ? readdirSync(cleanDir) : [];
    const env = c.env?.() ?? {};
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    let r;
    try {
      r = await cli(c.args());
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    expect(r.status, r.stderr).toBe(c.status);
    if (c.status === EXIT.OK) {
      expect(r.stdout).toMatch(c.stdout!);
    } else {
      expect(r.stderr).not.toMatch(/This is a bug|at .*\.ts:\d+/); // a typed error, no stack trace
      const error = /^error: (.*)$/m.exec(r.stderr)?.[1] ?? r.stderr;
      expect(error).toMatch(c.problem!);
      const hint = /^ {2}hint: (.*)$/m.exec(r.stderr)?.[1] ?? '';
      expect(hint).toMatch(c.fix!);
    }
    if (cleanDir) expect(leftovers(cleanDir, before)).toEqual([]);
    c.check?.();
  }, 300_000);
});

// ---------------------------------------------------------------------------------------------------------
// Server API

let server: RunningServer;
let backend: Backend;
const root = join(work, 'root');
const outside = join(work, 'outside');

/**
 * Writes a probability raster on the layer's grid: 1 inside a fixed block of pixels, 0 elsewhere; the polygons
 * come from the real last step of the answer pipeline.
 */
function scriptedRuntime(): InferenceBackend {
  return {
    async modelStatus() {
      return { state: 'ready', dir: '/models/fake', id: 'fake', name: 'Fake', variant: 'earthreason', examples: [], problem: null };
    },
    async executionProvider() {
      return { active: 'CPU', fallbackReason: null, notes: [] };
    },
    async ask(request) {
      const { width, height, geoTransform, crs } = await openRaster(request.rasterPath);
      const ds = gdal.open(request.probabilityPath, 'w', 'GTiff', width, height, 1, gdal.GDT_Float32);
      ds.geoTransform = geoTransform;
      if (crs) ds.srs = gdal.SpatialReference.fromWKT(crs.wkt);
      const data = new Float32Array(width * height).map((_, i) => ((i % width) >= 4 && (i % width) < 12 && Math.floor(i / width) >= 4 && Math.floor(i / width) < 10 ? 1 : 0));
      ds.bands.get(1).pixels.write(0, 0, width, height, data);
      ds.close();
      const createdAt = new Date().toISOString();
      const provenance = { question: request.question, modelId: 'fake', bundleSha256: '0'.repeat(64), source: request.rasterPath, createdAt };
      return {
        features: await answerPolygons(request.probabilityPath, { threshold: request.threshold, minAreaM2: request.minAreaM2 }, provenance, vectorizeMask),
        maxProbability: 1,
        probability: { extent: gridExtent(geoTransform, width, height), width, height },
        preview: null,
        modelId: 'fake',
        bundleSha256: provenance.bundleSha256,
        executionProvider: 'CPU',
        createdAt,
      };
    },
    polygons: (path, settings, provenance) => answerPolygons(path, settings, provenance, vectorizeMask),
    version: () => '1.30.0',
    async batchModel() {
      return { key: 'mask@0000000000000000', executionProvider: 'CPU', processor: () => maskSceneProcessor() };
    },
  };
}

const api = async (service: string, method: string, body: unknown): Promise<{ status: number; json: { ok: boolean; result?: unknown; error?: { code: string; message: string; hint?: string } } }> => {
  const res = await fetch(`http://127.0.0.1:${server.port}/api/${service}/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}` },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as never };
};

function vrt(sourceXml: string, w = 32, h = 32): string {
  return `<VRTDataset rasterXSize="${w}" rasterYSize="${h}">\n  <VRTRasterBand dataType="Byte" band="1"${sourceXml.includes('<ImageOffset>') ? ' subClass="VRTRawRasterBand"' : ''}>\n${sourceXml}\n  </VRTRasterBand>\n</VRTDataset>\n`;
}
const simple = (file: string, relative: boolean) =>
  `    <SimpleSource><SourceFilename relativeToVRT="${relative ? 1 : 0}">${file}</SourceFilename><SourceBand>1</SourceBand></SimpleSource>`;

beforeAll(async () => {
  mkdirSync(join(root, 'sub'), { recursive: true });
  mkdirSync(outside, { recursive: true });
  const utm = { srs: 32633, geoTransform: [500000, 10, 0, 5000000, 0, -10] as [number, number, number, number, number, number] };
  createRaster(join(outside, 'secret.tif'), { width: 32, height: 32, ...utm, value: () => 42 });
  createRaster(join(root, 'utm.tif'), { width: 32, height: 32, bandCount: 3, ...utm, value: (b, x) => x * b });
  createRaster(join(root, 'lonlat.tif'), { width: 32, height: 32, bandCount: 3, srs: 4326, geoTransform: [10, 0.001, 0, 46, 0, -0.001], value: (b, y) => y * b });
  writeFileSync(join(root, 'relative-escape.vrt'), vrt(simple('../outside/secret.tif', true)));
  writeFileSync(join(root, 'absolute-escape.vrt'), vrt(simple(join(outside, 'secret.tif'), false)));
  writeFileSync(join(root, 'raw-escape.vrt'), vrt('    <SourceFilename relativeToVRT="0">/etc/passwd</SourceFilename><ImageOffset>0</ImageOffset><PixelOffset>1</PixelOffset><LineOffset>32</LineOffset>'));
  execFileSync('tar', ['cf', join(outside, 'x.tar'), '-C', outside, 'secret.tif']);
  writeFileSync(join(root, 'vsi-escape.vrt'), vrt(simple(`/vsitar/${join(outside, 'x.tar')}/secret.tif`, false)));
  writeFileSync(join(root, 'sub', 'nested-escape.vrt'), vrt(simple('../relative-escape.vrt', true)));
  writeFileSync(join(root, 'inside.vrt'), vrt(simple('utm.tif', true)));
  writeFileSync(
    join(root, 'wms.xml'),
    '<GDAL_WMS><Service name="TMS"><ServerUrl>http://127.0.0.1:9/${z}/${x}/${y}.png</ServerUrl></Service>' +
      '<DataWindow><UpperLeftX>-20037508.34</UpperLeftX><UpperLeftY>20037508.34</UpperLeftY><LowerRightX>20037508.34</LowerRightX>' +
      '<LowerRightY>-20037508.34</LowerRightY><TileLevel>18</TileLevel><TileCountX>1</TileCountX><TileCountY>1</TileCountY><YOrigin>top</YOrigin></DataWindow>' +
      '<Projection>EPSG:3857</Projection><BlockSizeX>256</BlockSizeX><BlockSizeY>256</BlockSizeY><BandsCount>3</BandsCount></GDAL_WMS>',
  );
  mkdirSync(join(root, 'scenes'));
  createRaster(join(root, 'scenes', 'good.tif'), { width: 16, height: 16, ...utm, value: (_b, x) => (x < 8 ? 1 : 0) });
  writeFileSync(join(root, 'scenes', 'escape.vrt'), vrt(simple(join(outside, 'secret.tif'), false)));
  if (!mountProblem) {
    mountTmpfs(join(root, 'full'), 'size=64k');
    writeFileSync(join(root, 'full', 'filler'), Buffer.alloc(60 * 1024));
  }
  mkdirSync(join(work, 'static'));
  writeFileSync(join(work, 'static', 'index.html'), '<!doctype html><title>SegEarth</title>');
  writeFileSync(join(root, 'notes.txt'), 'x');
  symlinkSync(join(outside, 'secret.tif'), join(root, 'link-out.tif'));
  symlinkSync(join(root, 'utm.tif'), join(root, 'link-in.tif'));
  backend = await createBackend({
    mode: 'server', appVersion: 'test', roots: [root], dataDir: join(work, 'server-data'), logsDir: null,
    geo: await createGeoAdapter(), runtime: scriptedRuntime(), testHooks: false,
  });
  server = await startServer({ dispatcher: createDispatcher(backend.api), events: backend.events, resource: (p) => loadResource(p, backend), staticDir: join(work, 'static') });
});

afterAll(async () => {
  await server?.close();
});

interface ApiCase {
  name: string;
  call: () => Promise<{ status: number; json: { ok: boolean; error?: { code: string; message: string; hint?: string } } }>;
  status: number;
  code: string;
  problem: RegExp;
  fix?: RegExp;
}

const open = (path: string) => () => api('workspace', 'openRaster', { path });

const API_CASES: ApiCase[] = [
  { name: 'open: VRT source outside the root (relative)', call: open('relative-escape.vrt'), status: 403, code: 'FORBIDDEN_PATH', problem: /refers to .*secret\.tif, which is outside/, fix: /Copy the sources there|--root/ },
  { name: 'open: VRT source outside the root (absolute)', call: open(join(root, 'absolute-escape.vrt')), status: 403, code: 'FORBIDDEN_PATH', problem: /refers to .*secret\.tif/, fix: /--root/ },
  { name: 'open: VRTRawRasterBand on /etc/passwd', call: open('raw-escape.vrt'), status: 403, code: 'FORBIDDEN_PATH', problem: /refers to \/etc\/passwd/, fix: /--root/ },
  { name: 'open: VRT source through /vsitar/', call: open('vsi-escape.vrt'), status: 403, code: 'FORBIDDEN_PATH', problem: /refers to \/vsitar\//, fix: /--root/ },
  { name: 'open: VRT → VRT → outside', call: open('sub/nested-escape.vrt'), status: 403, code: 'FORBIDDEN_PATH', problem: /refers to .*secret\.tif/, fix: /--root/ },
  { name: 'open: a WMS service description', call: open('wms.xml'), status: 403, code: 'FORBIDDEN_PATH', problem: /WMS dataset, which this server does not open/, fix: /local raster file/ },
  { name: 'open: ../ traversal', call: open('../outside/secret.tif'), status: 403, code: 'FORBIDDEN_PATH', problem: /outside the folders this server may access/, fix: /--root/ },
  { name: 'open: link to a file outside', call: open('link-out.tif'), status: 403, code: 'FORBIDDEN_PATH', problem: /outside the folders/, fix: /--root/ },
  { name: 'open: NUL byte in the path', call: open('utm.tif\u0000.png'), status: 400, code: 'BAD_ARGUMENT', problem: /not a valid file name/, fix: /NUL byte/ },
  { name: 'open: a text file', call: open('notes.txt'), status: 422, code: 'NOT_A_RASTER', problem: /not a raster image/, fix: /GeoTIFF/ },
  { name: 'files.list: on a file', call: () => api('files', 'list', { dir: join(root, 'utm.tif') }), status: 400, code: 'BAD_ARGUMENT', problem: /is a file, not a folder/, fix: /List its folder/ },
  { name: 'files.list: NUL byte', call: () => api('files', 'list', { dir: 'sub\u0000' }), status: 400, code: 'BAD_ARGUMENT', problem: /not a valid file name/, fix: /NUL/ },
  { name: 'settings.update: modelDir outside the roots', call: () => api('settings', 'update', { modelDir: outside }), status: 403, code: 'FORBIDDEN_PATH', problem: /outside the folders/, fix: /--root/ },
  { name: 'hostile JSON: not JSON', call: () => api('workspace', 'openRaster', '{"path": "utm.tif"'), status: 400, code: 'BAD_ARGUMENT', problem: /not valid JSON/ },
  { name: 'hostile JSON: wrong types', call: () => api('workspace', 'openRaster', { path: { $ne: 1 } }), status: 400, code: 'BAD_ARGUMENT', problem: /path/ },
  { name: 'hostile JSON: __proto__ keys', call: () => api('settings', 'update', '{"__proto__": {"admin": true}, "basemap": "yes"}'), status: 400, code: 'BAD_ARGUMENT', problem: /basemap/ },
  { name: 'hostile JSON: 2 MB body', call: () => api('workspace', 'openRaster', JSON.stringify({ path: 'x'.repeat(2_000_000) })), status: 400, code: 'BAD_ARGUMENT', problem: /Request too large/, fix: /smaller requests/ },
  { name: 'export: to a folder outside', call: () => api('export', 'results', { resultIds: ['0123456789abcdef'], format: 'gpkg', path: join(outside, 'r.gpkg') }), status: 403, code: 'FORBIDDEN_PATH', problem: /outside/, fix: /--root/ },
];

describe('catalogue of bad inputs: server API', () => {
  it.each(API_CASES)('$name', async (c) => {
    const before = readdirSync(root);
    const { status, json } = await c.call();
    expect(json.ok).toBe(false);
    expect(status, JSON.stringify(json)).toBe(c.status);
    expect(json.error?.code).toBe(c.code);
    expect(json.error?.message).toMatch(c.problem);
    if (c.fix) expect(json.error?.hint).toMatch(c.fix);
    expect(leftovers(root, before)).toEqual([]);
  });

  it('GET /% is a 400, not a 500', async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/%`);
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/not valid percent-encoding/);
    const nul = await fetch(`http://127.0.0.1:${server.port}/a%00b`);
    expect(nul.status).toBe(400);
  });

  it('files.list shows links inside the roots with their size, and hides links that leave them', async () => {
    const { json } = await api('files', 'list', { dir: root });
    const names = (json.result as { entries: Array<{ name: string; sizeBytes: number | null }> }).entries.map((e) => e.name);
    expect(names).toContain('link-in.tif');
    expect(names).not.toContain('link-out.tif');
    const linkIn = (json.result as { entries: Array<{ name: string; sizeBytes: number | null }> }).entries.find((e) => e.name === 'link-in.tif')!;
    expect(linkIn.sizeBytes).toBe(statSync(join(root, 'utm.tif')).size);
  });

  it('a VRT of files inside the root opens, and its tiles render', async () => {
    const { status, json } = await api('workspace', 'openRaster', { path: 'inside.vrt' });
    expect(status).toBe(200);
    const layer = json.result as { id: string };
    const tile = await fetch(`http://127.0.0.1:${server.port}/api/res/tiles/${layer.id}/0/0/0.png?token=${server.token}`);
    expect(tile.status).toBe(200);
    expect(tile.headers.get('content-type')).toBe('image/png');
    await api('workspace', 'removeLayer', { layerId: layer.id });
  });

  it('tiles: a VRT rewritten after it was opened to point outside is refused at the next tile', async () => {
    writeFileSync(join(root, 'swapped.vrt'), vrt(simple('utm.tif', true)));
    const layer = (await api('workspace', 'openRaster', { path: 'swapped.vrt' })).json.result as { id: string };
    const url = `http://127.0.0.1:${server.port}/api/res/tiles/${layer.id}/0/0/0.png?token=${server.token}`;
    expect((await fetch(url)).status).toBe(200);
    writeFileSync(join(root, 'swapped.vrt'), vrt(simple(join(outside, 'secret.tif'), false)) + '\n');
    const res = await fetch(url);
    expect(res.status).toBe(403);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('FORBIDDEN_PATH');
    expect(body.error.message).toMatch(/refers to .*secret\.tif/);
    await api('workspace', 'removeLayer', { layerId: layer.id });
  });

  it('export: a mask over an open layer\'s source is refused and the source is untouched', async () => {
    const layer = (await api('workspace', 'openRaster', { path: 'utm.tif' })).json.result as { id: string };
    const before = readFileSync(join(root, 'utm.tif'));
    const resultId = await askAndWait(layer.id, 'ponds');
    const r = await api('export', 'results', { resultIds: [resultId], format: 'mask-geotiff', path: join(root, 'utm.tif'), overwrite: true });
    expect(r.status).toBe(400);
    expect(r.json.error?.code).toBe('BAD_ARGUMENT');
    expect(r.json.error?.message).toMatch(/utm\.tif is an input/);
    expect(r.json.error?.hint).toMatch(/another file name/);
    expect(readFileSync(join(root, 'utm.tif')).equals(before)).toBe(true);
    await api('workspace', 'removeLayer', { layerId: layer.id });
  });

  it('export: a full disk is 507 DISK_FULL "not enough space", and nothing is left there', async (ctx) => {
    if (mountProblem) {
      console.log(`skipped: export to a full disk: ${mountProblem}`);
      ctx.skip();
    }
    const layer = (await api('workspace', 'openRaster', { path: 'utm.tif' })).json.result as { id: string };
    const resultId = await askAndWait(layer.id, 'ponds');
    const before = readdirSync(join(root, 'full'));
    for (const [format, name] of [['geojson', 'r.geojson'], ['gpkg', 'r.gpkg'], ['shp', 'r.shp'], ['mask-geotiff', 'r.tif']] as const) {
      const r = await api('export', 'results', { resultIds: [resultId], format, path: join(root, 'full', name) });
      expect(r.status, `${format}: ${JSON.stringify(r.json)}`).toBe(507);
      expect(r.json.error?.code).toBe('DISK_FULL');
      expect(r.json.error?.message).toMatch(/Not enough space to write/);
      expect(r.json.error?.hint).toMatch(/Free some disk space/);
      expect(leftovers(join(root, 'full'), before)).toEqual([]);
    }
    await api('workspace', 'removeLayer', { layerId: layer.id });
  });

  it('export: the same question twice gets two named layers (no "two results are named" error)', async () => {
    const layer = (await api('workspace', 'openRaster', { path: 'utm.tif' })).json.result as { id: string };
    const a = await askAndWait(layer.id, 'ponds');
    const b = await askAndWait(layer.id, 'ponds');
    const r = await api('export', 'results', { resultIds: [a, b], format: 'gpkg', path: join(root, 'twice.gpkg') });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    const layers = execFileSync('ogrinfo', ['-ro', '-q', join(root, 'twice.gpkg')], { encoding: 'utf8' });
    expect(layers).toMatch(/^1: ponds \(/m);
    expect(layers).toMatch(/^2: ponds_2 \(/m);
    await api('workspace', 'removeLayer', { layerId: layer.id });
  });
});

describe('export of results from rasters in different CRSs never mixes coordinates', () => {
  let utmResult: string;
  let lonLatResult: string;
  const utmLayer = { id: '' };
  const llLayer = { id: '' };

  beforeAll(async () => {
    utmLayer.id = ((await api('workspace', 'openRaster', { path: 'utm.tif' })).json.result as { id: string }).id;
    llLayer.id = ((await api('workspace', 'openRaster', { path: 'lonlat.tif' })).json.result as { id: string }).id;
    utmResult = await askAndWait(utmLayer.id, 'ponds in utm');
    lonLatResult = await askAndWait(llLayer.id, 'ponds in degrees');
  });

  /** The block the scripted runtime marks (pixels x 4..12, y 4..10) in the UTM scene, as lon/lat by gdaltransform. */
  function utmBlockLonLat(): [number, number, number, number] {
    const corners = execFileSync('gdaltransform', ['-s_srs', 'EPSG:32633', '-t_srs', 'EPSG:4326', '-output_xy'], {
      input: '500040 4999960\n500120 4999960\n500040 4999900\n500120 4999900\n',
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/).map(Number));
    const xs = corners.map((c) => c[0]!);
    const ys = corners.map((c) => c[1]!);
    return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
  }

  function bbox(coords: number[][][]): [number, number, number, number] {
    const pts = coords.flat();
    return [Math.min(...pts.map((p) => p[0]!)), Math.min(...pts.map((p) => p[1]!)), Math.max(...pts.map((p) => p[0]!)), Math.max(...pts.map((p) => p[1]!))];
  }

  it('GeoJSON: every result reprojected to EPSG:4326 on its own (RFC 7946)', async () => {
    const path = join(root, 'mixed.geojson');
    const r = await api('export', 'results', { resultIds: [utmResult, lonLatResult], format: 'geojson', path });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    const doc = JSON.parse(readFileSync(path, 'utf8')) as { features: Array<{ geometry: { type: string; coordinates: number[][][] }; properties: { layer: string } }> };
    const of = (layer: string) => doc.features.filter((feat) => feat.properties.layer === layer);
    expect(of('ponds_in_utm')).toHaveLength(1);
    expect(of('ponds_in_degrees')).toHaveLength(1);
    const utm = bbox(of('ponds_in_utm')[0]!.geometry.coordinates);
    const expected = utmBlockLonLat();
    for (let i = 0; i < 4; i++) expect(utm[i]).toBeCloseTo(expected[i]!, 6);
    const ll = bbox(of('ponds_in_degrees')[0]!.geometry.coordinates);
    [10.004, 45.99, 10.012, 45.996].forEach((v, i) => expect(ll[i]).toBeCloseTo(v, 7));
  });

  it('Shapefile: one layer per CRS, each with its own .prj', async () => {
    const path = join(root, 'mixed.shp');
    const r = await api('export', 'results', { resultIds: [utmResult, lonLatResult], format: 'shp', path });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    const files = (r.json.result as { files: string[] }).files.map((p) => p.slice(root.length + 1)).filter((n) => n.endsWith('.shp')).sort();
    expect(files).toEqual(['mixed_results_EPSG_32633.shp', 'mixed_results_EPSG_4326.shp']);
    const extent = (file: string) => {
      const text = execFileSync('ogrinfo', ['-ro', '-so', '-al', join(root, file)], { encoding: 'utf8' });
      const m = /Extent: \(([-\d.]+), ([-\d.]+)\) - \(([-\d.]+), ([-\d.]+)\)/.exec(text)!;
      return { box: m.slice(1, 5).map(Number), prj: readFileSync(join(root, file.replace(/\.shp$/, '.prj')), 'utf8') };
    };
    const utm = extent('mixed_results_EPSG_32633.shp');
    expect(utm.box).toEqual([500040, 4999900, 500120, 4999960]);
    expect(utm.prj).toMatch(/UTM_Zone_33N/);
    const ll = extent('mixed_results_EPSG_4326.shp');
    [10.004, 45.99, 10.012, 45.996].forEach((v, i) => expect(ll.box[i]).toBeCloseTo(v, 7));
    expect(ll.prj).toMatch(/^GEOGCS\["GCS_WGS_1984"/);
  });

  it('GeoPackage: one layer per result, each in its own CRS', async () => {
    const path = join(root, 'mixed.gpkg');
    const r = await api('export', 'results', { resultIds: [utmResult, lonLatResult], format: 'gpkg', path });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    const srs = (layer: string) => execFileSync('ogrinfo', ['-ro', '-so', path, layer], { encoding: 'utf8' });
    expect(srs('ponds_in_utm')).toMatch(/Extent: \(500040\.0+, 4999900\.0+\) - \(500120\.0+, 4999960\.0+\)/);
    expect(srs('ponds_in_degrees')).toMatch(/Extent: \(10\.004\d*, 45\.99\d*\) - \(10\.012\d*, 45\.996\d*\)/);
  });
});

describe('batch route: each scene is confined with what GDAL reads for it', () => {
  it('a VRT scene pointing outside the root is that item\'s error; the other scene completes', async () => {
    const finished: BatchFinished[] = [];
    const unsubscribe = backend.events.subscribe((e) => {
      if (e.event === 'batch.finished') finished.push(e.payload as BatchFinished);
    });
    const r = await api('batch', 'start', { inputFolder: join(root, 'scenes'), outputFolder: join(root, 'batch-out'), questions: ['fields'], formats: ['gpkg'] });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    await backend.batch.idle();
    unsubscribe();
    const summary = finished[0]!.summary!;
    const row = (scene: string) => summary.rows.find((x) => x.scene.endsWith(scene))!;
    expect(row('good.tif')).toMatchObject({ status: 'done', polygons: 1 });
    expect(row('escape.vrt').status).toBe('failed');
    expect(row('escape.vrt').error).toMatch(/refers to .*secret\.tif, which is outside the folders/);
  });
});

/** Asks on a layer with the scripted runtime and returns the result id. */
async function askAndWait(layerId: string, question: string): Promise<string> {
  const seen: string[] = [];
  const unsubscribe = backend.events.subscribe((e) => {
    const p = e.payload as { type?: string; result?: { id: string } };
    if (e.event === 'inference.job' && p.type === 'result' && p.result) seen.push(p.result.id);
  });
  const r = await api('inference', 'ask', { layerId, question, aoi: { kind: 'scene' }, threshold: 0.5, minAreaM2: 0, strategy: 'auto' });
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  await backend.inference.idle();
  unsubscribe();
  expect(seen).toHaveLength(1);
  return seen[0]!;
}

