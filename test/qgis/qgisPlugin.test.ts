/**
 * The QGIS plugin (qgis-plugin/): its QGIS-free Python logic with plain python3 unittest, then the zip that
 * `npm run build:qgis-plugin` makes, installed into a temporary QGIS profile and driven by Debian's QGIS 3.22
 * headless (`qgis_process.bin`, offscreen): the provider's algorithms are listed; "Ask a question" with the tiny
 * test bundle on a real Landsat scene and an AOI polygon layer in another CRS writes a layer that GDAL reads
 * back with the raster's CRS, the provenance fields and as many features as `segearth ask` writes for the same
 * inputs; a non-raster input and a missing model fail cleanly with the CLI's message; Cancel (PyQGIS,
 * processing.run) stops the CLI and leaves no output. Skipped, with the reason printed, without QGIS or the scene.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ogrReadLayers } from '../support/ogrRead.js';
import { TESTDATA_DIR } from '../support/parityFixtures.js';
import { PYTHON, REPO_ROOT, ensureTinyBundle } from '../support/tinyBundle.js';

const QGIS_PROCESS = '/usr/bin/qgis_process.bin';
const SCENE = join(TESTDATA_DIR, 'landsat-rgb', 'RGB.byte.tif');
const QUESTION = 'where are the clouds?';
const SEGEARTH = join(REPO_ROOT, 'bin', 'segearth.js');
const haveQgis = existsSync(QGIS_PROCESS);
const haveScene = existsSync(SCENE);
if (!haveQgis) console.warn(`skipping the QGIS plugin tests: ${QGIS_PROCESS} is not installed (apt-get install qgis)`);
else if (!haveScene) console.warn(`skipping the QGIS plugin tests: the real scene ${SCENE} is not present`);

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd: REPO_ROOT, env, encoding: 'utf8', timeout: 280_000, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('QGIS plugin: Python logic (plain python3)', () => {
  it('passes its unittest suite: progress lines, CLI discovery, command lines, run and cancel', () => {
    const r = run(PYTHON, ['-m', 'unittest', 'discover', '-s', join(REPO_ROOT, 'qgis-plugin', 'test'), '-v']);
    expect(r.stderr).toMatch(/^OK/m);
    expect(r.status).toBe(0);
  }, 120_000);
});

describe('npm run build:qgis-plugin', () => {
  it('zips qgis-plugin/segearth/ under segearth/ with the package version, the same bytes every time, and prints the path last', () => {
    const build = () => run(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts', 'build-qgis-plugin.ts')]);
    const first = build();
    expect(first.status, first.stderr).toBe(0);
    const zip = first.stdout.trim().split('\n').at(-1)!;
    const bytes = readFileSync(zip);
    expect(build().stdout.trim().split('\n').at(-1)).toBe(zip);
    expect(readFileSync(zip).equals(bytes)).toBe(true);
    const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    expect(zip).toBe(join(REPO_ROOT, 'dist-qgis', `segearth-qgis-plugin-${version}.zip`));
    // Read back with Python's zipfile (independent of the writer).
    const listing = run(PYTHON, ['-c', 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print("\\n".join(z.namelist())); print(z.read("segearth/metadata.txt").decode())', zip]);
    expect(listing.status, listing.stderr).toBe(0);
    const names = listing.stdout.split('\n').filter((l) => l.startsWith('segearth/'));
    expect(names).toEqual(expect.arrayContaining(['segearth/__init__.py', 'segearth/metadata.txt', 'segearth/cli.py', 'segearth/algorithms.py', 'segearth/provider.py', 'segearth/icon.svg']));
    expect(names.some((n) => n.includes('__pycache__') || n.endsWith('.pyc'))).toBe(false);
    for (const key of ['name=SegEarth', 'qgisMinimumVersion=3.22', `version=${version}`, 'hasProcessingProvider=yes', 'author=', 'email=', 'description=', 'about=']) {
      expect(listing.stdout).toContain(key);
    }
  }, 120_000);
});

describe.skipIf(!haveQgis || !haveScene)('QGIS plugin in Debian QGIS 3.22 (qgis_process, headless)', () => {
  const work = mkdtempSync(join(tmpdir(), 'segearth-qgis-'));
  const plugins = join(work, 'profile', 'profiles', 'default', 'python', 'plugins');
  let env: NodeJS.ProcessEnv;
  let tiny: string;
  const qgis = (...args: string[]) => run(QGIS_PROCESS, args, env);

  beforeAll(async () => {
    tiny = await ensureTinyBundle();
    const build = run(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts', 'build-qgis-plugin.ts')]);
    expect(build.status, build.stderr).toBe(0);
    const zip = build.stdout.trim().split('\n').at(-1)!;
    expect(zip).toMatch(/segearth-qgis-plugin-.*\.zip$/);
    mkdirSync(plugins, { recursive: true });
    expect(run(PYTHON, ['-m', 'zipfile', '-e', zip, plugins]).status).toBe(0);
    env = {
      ...process.env,
      QT_QPA_PLATFORM: 'offscreen',
      QGIS_CUSTOM_CONFIG_PATH: join(work, 'profile'),
      XDG_RUNTIME_DIR: join(work, 'runtime'),
      SEGEARTH_CLI: SEGEARTH,
      SEGEARTH_DATA_DIR: join(work, 'data'),
    };
    mkdirSync(env.XDG_RUNTIME_DIR!, { recursive: true, mode: 0o700 });
    const enable = qgis('plugins', 'enable', 'segearth');
    expect(enable.status, enable.stderr).toBe(0);
  }, 600_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('lists the SegEarth provider and its algorithms', () => {
    const r = qgis('list');
    expect(r.status).toBe(0);
    const ids = [...r.stdout.matchAll(/^\s*(segearth:\w+)\s/gm)].map((m) => m[1]);
    expect(ids.sort()).toEqual(['segearth:ask', 'segearth:batch', 'segearth:models', 'segearth:models_convert', 'segearth:models_get', 'segearth:vectorize']);
  }, 120_000);

  /** The AOI: two polygons drawn in UTM 18N, stored in lon/lat by ogr2ogr, so the plugin has to reproject them. */
  function makeAoi(): string {
    const utm = join(work, 'aoi-utm.geojson');
    writeFileSync(utm, JSON.stringify({
      type: 'FeatureCollection',
      crs: { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::32618' } },
      features: [
        { type: 'Feature', properties: { name: 'a' }, geometry: { type: 'Polygon', coordinates: [[[140000, 2760000], [240000, 2800000], [300000, 2700000], [180000, 2660000], [140000, 2760000]]] } },
        { type: 'Feature', properties: { name: 'b' }, geometry: { type: 'Polygon', coordinates: [[[300000, 2800000], [330000, 2800000], [330000, 2770000], [300000, 2770000], [300000, 2800000]]] } },
      ],
    }));
    const aoi = join(work, 'aoi-lonlat.geojson');
    if (!existsSync(aoi)) expect(run('ogr2ogr', ['-t_srs', 'EPSG:4326', aoi, utm]).status).toBe(0);
    return aoi;
  }

  /** Feature count of `segearth ask` for the scene and AOI (the reference). */
  function cliFeatureCount(raster: string, aoi: string, name: string): ReturnType<typeof ogrReadLayers>[number] {
    const ref = join(work, `${name}.gpkg`);
    const cli = run(process.execPath, [SEGEARTH, 'ask', raster, QUESTION, '--model', tiny, '--aoi', aoi, '-o', ref, '--json']);
    expect(cli.status, cli.stderr).toBe(0);
    return ogrReadLayers(ref)[0]!;
  }

  it('asks a question with an AOI polygon layer: the layer has the raster CRS, the provenance fields and the features `segearth ask` writes', () => {
    const aoi = makeAoi();

    const out = join(work, 'answer.gpkg');
    const r = qgis('run', 'segearth:ask', '--json', '--', `INPUT=${SCENE}`, `QUESTION=${QUESTION}`, `MODEL=${tiny}`, `AOI=${aoi}`, `OUTPUT=${out}`);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    const results = (JSON.parse(r.stdout) as { results: Record<string, unknown> }).results;
    expect(results.OUTPUT).toBe(out);

    const [layer] = ogrReadLayers(out);
    const expected = cliFeatureCount(SCENE, aoi, 'reference');
    expect(layer!.featureCount).toBeGreaterThan(0);
    expect(layer!.featureCount).toBe(expected!.featureCount);
    expect(results.FEATURE_COUNT).toBe(expected!.featureCount);
    expect(Object.keys(layer!.features[0]!.properties).sort()).toEqual(
      ['area_m2', 'bundle_sha', 'created_at', 'id', 'mean_prob', 'model_id', 'perimeter_m', 'question', 'source', 'threshold'],
    );
    expect(layer!.features.every((f) => f.properties.question === QUESTION && f.properties.model_id === 'tiny-test')).toBe(true);
    const srs = run('gdalsrsinfo', ['-o', 'epsg', out]);
    expect(srs.stdout.trim()).toBe('EPSG:32618');
    // Same areas as the reference, feature by feature (sorted), to the metre.
    const areas = (l: typeof layer) => l!.features.map((f) => Math.round(f.properties.area_m2 as number)).sort((a, b) => a - b);
    expect(areas(layer)).toEqual(areas(expected));
  }, 300_000);

  it('an EXTENT area of interest (QGIS order xmin,xmax,ymin,ymax) and the PROBABILITY raster match `segearth ask --aoi minx,miny,maxx,maxy --probability`', () => {
    const out = join(work, 'extent.gpkg');
    const probability = join(work, 'extent.tif');
    const r = qgis('run', 'segearth:ask', '--json', '--', `INPUT=${SCENE}`, `QUESTION=${QUESTION}`, `MODEL=${tiny}`,
      'EXTENT=150000,260000,2680000,2790000 [EPSG:32618]', `OUTPUT=${out}`, `PROBABILITY=${probability}`);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    const refOut = join(work, 'extent-ref.gpkg');
    const refProbability = join(work, 'extent-ref.tif');
    const cli = run(process.execPath, [SEGEARTH, 'ask', SCENE, QUESTION, '--model', tiny, '--aoi', '150000,2680000,260000,2790000', '-o', refOut, '--probability', refProbability]);
    expect(cli.status, cli.stderr).toBe(0);
    expect(ogrReadLayers(out)[0]!.featureCount).toBe(ogrReadLayers(refOut)[0]!.featureCount);
    // gdalinfo: same grid (size and origin) as the CLI's probability raster.
    const grid = (path: string) => {
      const info = run('gdalinfo', [path]).stdout;
      return [info.match(/^Size is .*$/m)?.[0], info.match(/^Origin = .*$/m)?.[0]];
    };
    expect(grid(probability)[0]).toBeDefined();
    expect(grid(probability)).toEqual(grid(refProbability));
  }, 300_000);

  it('fails cleanly: a non-raster input, and a missing model with the CLI\'s own message; nothing written', () => {
    const notes = join(work, 'notes.txt');
    writeFileSync(notes, 'not a raster\n');
    const out = join(work, 'bad.gpkg');
    const notRaster = qgis('run', 'segearth:ask', '--', `INPUT=${notes}`, `QUESTION=${QUESTION}`, `MODEL=${tiny}`, `OUTPUT=${out}`);
    expect(notRaster.status).not.toBe(0);
    expect(notRaster.stdout + notRaster.stderr).toMatch(/INPUT/);
    const noModel = qgis('run', 'segearth:ask', '--', `INPUT=${SCENE}`, `QUESTION=${QUESTION}`, `MODEL=${join(work, 'no-such-model')}`, `OUTPUT=${out}`);
    expect(noModel.status).not.toBe(0);
    expect(noModel.stdout + noModel.stderr).toMatch(/No model bundle folder at .*no-such-model/);
    expect(existsSync(out)).toBe(false);
    // Converting a folder that holds no checkpoint: the failure is the CLI's own error line.
    const empty = join(work, 'empty-checkpoint');
    mkdirSync(empty);
    const cli = run(process.execPath, [SEGEARTH, 'models', 'convert', empty, '--install', '--json'], env);
    expect(cli.status).toBe(3);
    const cliError = cli.stderr.match(/^error: (.*)$/m)![1]!;
    const convert = qgis('run', 'segearth:models_convert', '--', `INPUT=${empty}`);
    expect(convert.status).not.toBe(0);
    expect(convert.stdout + convert.stderr).toContain(cliError);
  }, 300_000);

  it('Cancel stops the CLI mid-run and leaves no output (PyQGIS processing.run)', () => {
    const dir = join(work, 'cancel');
    mkdirSync(dir);
    const params = join(work, 'cancel-params.json');
    const output = join(dir, 'answer.gpkg');
    const probability = join(dir, 'probability.tif');
    writeFileSync(params, JSON.stringify({ INPUT: SCENE, QUESTION, MODEL: tiny, STRATEGY: 'tiled', OUTPUT: output, PROBABILITY: probability }));
    const r = run(PYTHON, [join(REPO_ROOT, 'qgis-plugin', 'test', 'qgis_run.py'), plugins, 'cancel', params], env);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(report).toMatchObject({ cancelled: true, outputExists: false, leftovers: [] });
    expect(report.message).toMatch(/^Cancelled: the SegEarth CLI stopped/);
    expect(readdirSync(dir)).toEqual([]);
  }, 300_000);

  it('a raster layer that is not a file (a VRT inside a zip, /vsizip/) goes through a temporary GeoTIFF: same answer as the file', () => {
    const vrt = join(work, 'scene.vrt');
    expect(run('gdal_translate', ['-q', '-of', 'VRT', SCENE, vrt]).status).toBe(0);
    const zip = join(work, 'scene.zip');
    expect(run(PYTHON, ['-m', 'zipfile', '-c', zip, vrt]).status).toBe(0);
    const aoi = makeAoi();
    const params = join(work, 'layer-params.json');
    const output = join(work, 'zipped.gpkg');
    writeFileSync(params, JSON.stringify({ INPUT: `/vsizip/${zip}/scene.vrt`, QUESTION, MODEL: tiny, AOI: aoi, OUTPUT: output }));
    const r = run(PYTHON, [join(REPO_ROOT, 'qgis-plugin', 'test', 'qgis_run.py'), plugins, 'layer', params], env);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { layerValid: boolean; results: Record<string, unknown>; infos: string[] };
    expect(report.layerValid).toBe(true);
    expect(report.infos.join('\n')).toMatch(/not a file: writing it to .*segearth_input\.tif/);
    expect(ogrReadLayers(output)[0]!.featureCount).toBe(cliFeatureCount(SCENE, aoi, 'reference-zip').featureCount);
  }, 300_000);

  it('vectorizes a real road mask into a format the CLI does not write (FlatGeobuf, converted), lists models, batches a folder', () => {
    const mask = join(TESTDATA_DIR, 'spacenet-roads', 'sample_road_raster_mask.tif');
    const fgb = join(work, 'roads.fgb');
    const v = qgis('run', 'segearth:vectorize', '--json', '--', `INPUT=${mask}`, 'SIMPLIFY=1px', `OUTPUT=${fgb}`);
    expect(v.status, v.stderr + v.stdout).toBe(0);
    const ref = join(work, 'roads-ref.gpkg');
    expect(run(process.execPath, [SEGEARTH, 'vectorize', mask, '--simplify', '1px', '-o', ref]).status).toBe(0);
    expect(ogrReadLayers(fgb)[0]!.featureCount).toBe(ogrReadLayers(ref)[0]!.featureCount);
    expect(run('gdalsrsinfo', ['-o', 'epsg', fgb]).stdout.trim()).toBe('EPSG:4326');

    const table = join(work, 'models.csv');
    const m = qgis('run', 'segearth:models', '--json', '--', `OUTPUT=${table}`);
    expect(m.status, m.stderr).toBe(0);
    const rows = ogrReadLayers(table)[0]!.features.map((f) => f.properties);
    expect(rows.some((row) => row.id === 'tiny-test' && row.test_fixture === '1')).toBe(true);

    const scenes = join(work, 'scenes');
    mkdirSync(scenes);
    symlinkSync(SCENE, join(scenes, 'landsat.tif'));
    const out = join(work, 'batch');
    const b = qgis('run', 'segearth:batch', '--json', '--', `INPUT=${scenes}`, `QUESTION=${QUESTION}\nwhere is water?`, `MODEL=${tiny}`, 'STRATEGY=view', `OUTPUT=${out}`);
    expect(b.status, b.stderr + b.stdout).toBe(0);
    const results = (JSON.parse(b.stdout) as { results: { MERGED: string[]; SUMMARY: string } }).results;
    expect(results.MERGED).toEqual([`${out}/merged.gpkg|layername=q1_where_are_the_clouds`, `${out}/merged.gpkg|layername=q2_where_is_water`]);
    expect(existsSync(results.SUMMARY)).toBe(true);
  }, 300_000);
});
