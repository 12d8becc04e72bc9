import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import gdal from 'gdal-async';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, exitCodeFor } from '../../src/cli/exitCodes.js';
import { Command } from 'commander';
import { COMMANDS as COMMAND_LIST } from '../../src/cli/commandList.js';
import { runCli, type CommandLoader } from '../../src/cli/run.js';
import { ProgressLineSchema } from '../../src/cli/jsonProgress.js';
import { reportError } from '../../src/cli/reportError.js';
import { SegEarthError, ERROR_CODES } from '../../src/shared/errors.js';
import { RasterInfoSchema } from '../../src/shared/rasterInfo.js';
import { GRIDS, rasterize, rectangle, squareRing, writeMaskFile } from '../support/syntheticMask.js';
import { readBackLayer } from '../support/vectorReadBack.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'segearth-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const W = 200;
const H = 160;
const mask = join(work, 'fields.tif');
const pixelMask = join(work, 'pixels.tif');

beforeAll(() => {
  const data = rasterize(W, H, [rectangle(10, 20, 100, 50), squareRing(120, 40, 60, 20)]);
  writeMaskFile(mask, { data, width: W, height: H, geoTransform: GRIDS.utm.geoTransform, crs: GRIDS.utm.crs });
  writeMaskFile(pixelMask, { data, width: W, height: H, geoTransform: null, crs: null });
});

function segearth(...args: string[]) {
  const run = spawnSync(process.execPath, [join(repoRoot, 'bin/segearth.js'), ...args], {
    cwd: work,
    encoding: 'utf8',
    env: { ...process.env, SEGEARTH_FROM_SOURCE: '1' },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const ERROR_FORMAT = /^error: .+\n {2}hint: .+\n$/;

/** In-process run (same code path as the binary, minus process start-up) for the many usage-error cases. */
const COMMANDS: CommandLoader[] = [
  { name: 'info', load: () => import('../../src/cli/commands/info.js') },
  { name: 'vectorize', load: () => import('../../src/cli/commands/vectorize.js') },
];
async function inProcess(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const status = await runCli(['node', 'segearth', ...args], COMMANDS, { out: (t) => (stdout += t), err: (t) => (stderr += t) });
  return { status, stdout, stderr };
}

describe('segearth info', () => {
  it('describes a raster like a concise gdalinfo', () => {
    const { status, stdout, stderr } = segearth('info', mask);
    expect(stderr).toBe('');
    expect(status).toBe(EXIT.OK);
    expect(stdout).toMatch(/^Driver\s+GTiff/m);
    expect(stdout).toMatch(/^Size\s+200 × 160 pixels, 1 band$/m);
    expect(stdout).toMatch(/^CRS\s+WGS 84 \/ UTM zone 18N — EPSG:32618 \(projected, metre\)$/m);
    expect(stdout).toMatch(/^Bounds\s+500000, 4398400 — 502000, 4400000/m);
    expect(stdout).toMatch(/^Lon\/lat\s+-75/m);
  });

  it('says when a raster has no georeferencing (a plain PNG) and still describes it', () => {
    const png = join(work, 'plain.png');
    const mem = gdal.drivers.get('MEM').create('', 64, 32, 1, gdal.GDT_Byte);
    gdal.drivers.get('PNG').createCopy(png, mem).close();
    mem.close();
    const { status, stdout } = segearth('info', png);
    expect(status).toBe(EXIT.OK);
    expect(stdout).toMatch(/^Driver\s+PNG/m);
    expect(stdout).toMatch(/^Size\s+64 × 32 pixels, 1 band$/m);
    expect(stdout).toMatch(/^CRS\s+none \(pixel coordinates\)$/m);
    expect(stdout).toMatch(/^Warning\s+\S/m);
    expect(stdout).not.toMatch(/^Lon\/lat/m);
  });

  it('prints the RasterInfo DTO with --json', () => {
    const { status, stdout } = segearth('info', mask, '--json');
    expect(status).toBe(EXIT.OK);
    const info = RasterInfoSchema.parse(JSON.parse(stdout));
    expect([info.width, info.height, info.crs?.code]).toEqual([W, H, 'EPSG:32618']);
    expect(info.geoTransform).toEqual(GRIDS.utm.geoTransform);
  });

  it('exits 3 with error and hint for a missing raster', () => {
    const { status, stdout, stderr } = segearth('info', join(work, 'missing.tif'));
    expect(status).toBe(EXIT.INPUT);
    expect(stdout).toBe('');
    expect(stderr).toMatch(ERROR_FORMAT);
  });

  it('exits 2 on usage errors', async () => {
    expect(segearth().status).toBe(EXIT.USAGE);
    expect((await inProcess('info')).status).toBe(EXIT.USAGE);
    const unknown = await inProcess('info', mask, '--bogus');
    expect(unknown.status).toBe(EXIT.USAGE);
    expect(unknown.stderr).toMatch(/^error: unknown option '--bogus'\n {2}hint: run "segearth info --help"/);
    expect((await inProcess('frobnicate')).status).toBe(EXIT.USAGE);
    const help = await inProcess('--help');
    expect(help.status).toBe(EXIT.OK);
    expect(help.stdout).toMatch(/vectorize/);
  });
});

describe('segearth vectorize', () => {
  it('writes a GeoPackage and prints a JSON summary', () => {
    const out = join(work, 'fields.gpkg');
    const { status, stdout, stderr } = segearth('vectorize', mask, '-o', out, '--json');
    // stderr holds only machine-readable progress lines, the last one at 100 %.
    const progress = stderr.split('\n').filter(Boolean).map((line) => ProgressLineSchema.parse(JSON.parse(line)));
    expect(progress.at(-1)?.fraction).toBe(1);
    expect(status).toBe(EXIT.OK);
    const summary = JSON.parse(stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({ format: 'gpkg', layer: 'fields', featureCount: 2, totalAreaM2: 820_000, crs: 'EPSG:32618' });
    const back = readBackLayer(out, 'fields');
    expect(back.crsCode).toBe('EPSG:32618');
    expect(back.features).toHaveLength(2);
    expect(back.planarArea).toBeCloseTo(820_000, 6);
  });

  it('applies --min-area, --fill-holes, --simplify and --layer, writing GeoJSON', () => {
    const out = join(work, 'big.geojson');
    const { status, stdout } = segearth('vectorize', mask, '-o', out, '--min-area', '400000', '--simplify', '1px', '--layer', 'big');
    expect(status).toBe(EXIT.OK);
    expect(stdout).toMatch(/^wrote 1 polygon \(500000\.00 m² in total\) to .*big\.geojson, layer "big", EPSG:32618\n$/);
    const json = JSON.parse(readFileSync(out, 'utf8')) as { name: string; features: Array<{ properties: { area_m2: number } }> };
    expect(json.name).toBe('big');
    expect(json.features.map((f) => f.properties.area_m2)).toEqual([500_000]);
    const filled = segearth('vectorize', mask, '-o', join(work, 'filled.gpkg'), '--fill-holes', '40001', '--json');
    expect(JSON.parse(filled.stdout)).toMatchObject({ totalAreaM2: 500_000 + 360_000 });
  });

  it('writes a Shapefile with all its sidecars', () => {
    const dir = mkdtempSync(join(work, 'shp-'));
    expect(segearth('vectorize', mask, '-o', join(dir, 'fields.shp')).status).toBe(EXIT.OK);
    expect(readdirSync(dir).sort()).toEqual(['fields.cpg', 'fields.dbf', 'fields.prj', 'fields.shp', 'fields.shx']);
  });

  it('refuses an existing output (exit 4) unless --overwrite, leaving it untouched', () => {
    const out = join(work, 'exists.gpkg');
    writeFileSync(out, 'precious');
    const refused = segearth('vectorize', mask, '-o', out);
    expect(refused.status).toBe(EXIT.OUTPUT);
    expect(refused.stderr).toMatch(ERROR_FORMAT);
    expect(refused.stderr).toMatch(/already exists[\s\S]*--overwrite/);
    expect(readFileSync(out, 'utf8')).toBe('precious');
    expect(segearth('vectorize', mask, '-o', out, '--overwrite').status).toBe(EXIT.OK);
    expect(statSync(out).size).toBeGreaterThan(1000);
  });

  it('exits 4 for an impossible folder or an unknown format, creating nothing', async () => {
    const dir = mkdtempSync(join(work, 'bad-out-'));
    const file = join(dir, 'file.txt');
    writeFileSync(file, 'x');
    const nested = segearth('vectorize', mask, '-o', join(file, 'out.gpkg'));
    expect(nested.status).toBe(EXIT.OUTPUT);
    expect(nested.stderr).toMatch(ERROR_FORMAT);
    const kml = await inProcess('vectorize', mask, '-o', join(dir, 'out.kml'));
    expect(kml.status).toBe(EXIT.OUTPUT);
    expect(kml.stderr).toMatch(/\.gpkg/);
    expect(readdirSync(dir)).toEqual(['file.txt']);
  });

  it('exits 3 for bad input and 2 for bad option values, creating nothing', async () => {
    const dir = mkdtempSync(join(work, 'bad-in-'));
    const missing = segearth('vectorize', join(dir, 'missing.tif'), '-o', join(dir, 'out.gpkg'));
    expect(missing.status).toBe(EXIT.INPUT);
    expect(missing.stderr).toMatch(ERROR_FORMAT);
    const noCrs = await inProcess('vectorize', pixelMask, '-o', join(dir, 'out.gpkg'), '--min-area', '10');
    expect(noCrs.status).toBe(EXIT.INPUT);
    expect(noCrs.stderr).toMatch(/no CRS/);
    expect((await inProcess('vectorize', mask, '-o', join(dir, 'out.gpkg'), '--threshold', 'abc')).status).toBe(EXIT.USAGE);
    expect((await inProcess('vectorize', mask, '-o', join(dir, 'out.gpkg'), '--simplify', '2km')).status).toBe(EXIT.USAGE);
    expect((await inProcess('vectorize', mask, '-o', join(dir, 'out.gpkg'), '--min-area', '-5')).status).toBe(EXIT.USAGE);
    expect((await inProcess('vectorize', mask)).status).toBe(EXIT.USAGE);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('exits 130 when cancelled with Ctrl-C, writing nothing', async () => {
    const dir = mkdtempSync(join(work, 'cancel-'));
    const running = inProcess('vectorize', mask, '-o', join(dir, 'out.gpkg'));
    process.emit('SIGINT');
    const { status, stderr } = await running;
    expect(status).toBe(EXIT.CANCELLED);
    expect(stderr).toMatch(/cancel/);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('exit codes and error printing', () => {
  it('maps every error code, cancellation to 130 and unknown errors to 1', () => {
    for (const code of ERROR_CODES) expect(Object.values(EXIT)).toContain(exitCodeFor(new SegEarthError(code, 'x')));
    expect(exitCodeFor(new SegEarthError('CANCELLED', 'x'))).toBe(130);
    expect(exitCodeFor(new SegEarthError('OUTPUT_EXISTS', 'x'))).toBe(4);
    expect(exitCodeFor(new SegEarthError('NOT_A_RASTER', 'x'))).toBe(3);
    expect(exitCodeFor(new SegEarthError('BAD_ARGUMENT', 'x'))).toBe(2);
    expect(exitCodeFor(new Error('boom'))).toBe(1);
  });

  it('prints error and hint lines', () => {
    let text = '';
    const status = reportError(new SegEarthError('OUTPUT_EXISTS', 'out.gpkg already exists.', { hint: 'Use --overwrite.' }), (t) => (text += t));
    expect(status).toBe(4);
    expect(text).toBe('error: out.gpkg already exists.\n  hint: Use --overwrite.\n');
  });
});

describe('loading command modules on demand', () => {
  /** The real command list with each loader counted. */
  function countedCommands() {
    const loaded: string[] = [];
    const commands = COMMAND_LIST.map((c) => ({ name: c.name, load: () => (loaded.push(c.name), c.load()) }));
    return { commands, loaded };
  }
  const quiet = { out: () => undefined, err: () => undefined };

  it('loads only the command being run, none for --version, all for help and unknown commands', async () => {
    let run = countedCommands();
    expect(await runCli(['node', 'segearth', 'info', '--help'], run.commands, quiet)).toBe(EXIT.OK);
    expect(run.loaded).toEqual(['info']);
    run = countedCommands();
    let version = '';
    expect(await runCli(['node', 'segearth', '--version'], run.commands, { ...quiet, out: (t) => (version += t) })).toBe(EXIT.OK);
    expect(version.trim()).toBe(JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version);
    expect(run.loaded).toEqual([]);
    run = countedCommands();
    let help = '';
    expect(await runCli(['node', 'segearth', '--help'], run.commands, { ...quiet, out: (t) => (help += t) })).toBe(EXIT.OK);
    expect(run.loaded).toEqual(COMMAND_LIST.map((c) => c.name));
    for (const c of COMMAND_LIST) expect(help).toMatch(new RegExp(`^  ${c.name}\\b`, 'm'));
    run = countedCommands();
    expect(await runCli(['node', 'segearth', 'vectorise'], run.commands, quiet)).toBe(EXIT.USAGE);
    expect(run.loaded).toHaveLength(COMMAND_LIST.length);
  });

  it('names each command as the module registers it', async () => {
    for (const c of COMMAND_LIST) {
      const program = new Command();
      (await c.load()).register(program, { ...quiet, signal: new AbortController().signal });
      expect(program.commands.map((cmd) => cmd.name())).toEqual([c.name]);
    }
  });
});

const roadMask = resolve(repoRoot, '../shared/testdata/spacenet-roads/sample_road_raster_mask.tif');
const haveRoads = existsSync(roadMask);
if (!haveRoads) console.warn(`skipping the CLI road-mask test: ${roadMask} is not present`);

describe.skipIf(!haveRoads)('segearth vectorize on the SpaceNet road mask', () => {
  it('writes lon/lat GeoJSON polygons with m² areas', () => {
    const out = join(work, 'roads.geojson');
    const { status, stdout } = segearth('vectorize', roadMask, '-o', out, '--simplify', '0.5px', '--json');
    expect(status).toBe(EXIT.OK);
    const summary = JSON.parse(stdout) as { featureCount: number; totalAreaM2: number; crs: string };
    expect(summary.crs).toBe('EPSG:4326');
    expect(summary.featureCount).toBeGreaterThan(0);
    const json = JSON.parse(readFileSync(out, 'utf8')) as { features: Array<{ geometry: { coordinates: number[][][] }; properties: { area_m2: number } }> };
    expect(json.features).toHaveLength(summary.featureCount);
    const [lon, lat] = json.features[0].geometry.coordinates[0][0];
    expect(lon).toBeCloseTo(-115.23, 1);
    expect(lat).toBeCloseTo(36.14, 1);
    expect(json.features.reduce((s, f) => s + f.properties.area_m2, 0)).toBeCloseTo(summary.totalAreaM2, 3);
  });
});
