/**
 * GDAL/PROJ environment: idempotent configuration, asar path mapping, versions that match gdal-bin, and the
 * block cache cap as GDAL itself reports it (its `CPL_DEBUG` line when the cache is first used), in the CLI.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configureGdalEnvironment, GDAL_CACHE_MB, ONE_SHOT_GDAL_CACHE_MB, geoVersions, unpackedPath } from '../../src/geo/env.js';
import { ensureTinyBundle } from '../support/tinyBundle.js';
import { createRaster } from '../support/syntheticRaster.js';

/** The block cache size (MB) GDAL announces in a `segearth info` process (GDAL reads GDAL_CACHEMAX once, at first use). */
function gdalCacheMaxOfCli(env: Record<string, string>, ask?: { model: string }): number {
  const dir = mkdtempSync(join(tmpdir(), 'segearth-cachemax-'));
  try {
    const file = createRaster(join(dir, 'small.tif'), { width: 8, height: 8, srs: 32633, geoTransform: [500000, 10, 0, 5000000, 0, -10], value: (_b, x) => x });
    const base = { ...process.env };
    delete base.GDAL_CACHEMAX;
    const args = ask ? ['ask', file, 'where are the roads?', '--model', ask.model, '--ep', 'cpu', '-o', join(dir, 'out.gpkg')] : ['info', file];
    const run = spawnSync(process.execPath, ['bin/segearth.js', ...args], { env: { ...base, CPL_DEBUG: 'ON', ...env }, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const m = /GDAL_CACHEMAX = (\d+) MB/.exec(run.stderr);
    expect(m, run.stderr).not.toBeNull();
    return Number(m![1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('geo env', () => {
  it('configureGdalEnvironment is idempotent', () => {
    const a = configureGdalEnvironment();
    expect(configureGdalEnvironment()).toBe(a);
    expect(['env', 'bundled', 'system']).toContain(a.gdalDataSource);
  });

  it('maps app.asar paths to app.asar.unpacked', () => {
    expect(unpackedPath('/opt/SegEarth/resources/app.asar/node_modules/gdal-async')).toBe('/opt/SegEarth/resources/app.asar.unpacked/node_modules/gdal-async');
    expect(unpackedPath('C:\\SegEarth\\resources\\app.asar\\node_modules')).toBe('C:\\SegEarth\\resources\\app.asar.unpacked\\node_modules');
    expect(unpackedPath('/home/me/segearth/node_modules')).toBe('/home/me/segearth/node_modules');
  });

  it('reports the GDAL and PROJ versions in use', async () => {
    const v = await geoVersions();
    expect(v.gdal).toMatch(/^\d+\.\d+\.\d+/);
    if (!v.bundledGdal) {
      // linked against the system GDAL: the same library as gdal-bin
      const cli = execFileSync('gdalinfo', ['--version'], { encoding: 'utf8' }); // "GDAL 3.6.2, released …"
      expect(cli).toContain(`GDAL ${v.gdal},`);
    }
    expect(v.proj).toMatch(/^\d+\.\d+\.\d+$/);
    expect(v.epsg).toMatch(/^v\d+/);
  });

  it(`caps GDAL's block cache at ${GDAL_CACHE_MB} MB (not 5% of the machine's memory), and GDAL_CACHEMAX in the environment wins`, () => {
    expect(gdalCacheMaxOfCli({})).toBe(GDAL_CACHE_MB);
    expect(gdalCacheMaxOfCli({ GDAL_CACHEMAX: '64' })).toBe(64);
  }, 60_000);

  it(`a one-shot \`segearth ask\` caps it at ${ONE_SHOT_GDAL_CACHE_MB} MB; GDAL_CACHEMAX in the environment still wins`, async () => {
    const model = await ensureTinyBundle();
    expect(gdalCacheMaxOfCli({}, { model })).toBe(ONE_SHOT_GDAL_CACHE_MB);
    expect(gdalCacheMaxOfCli({ GDAL_CACHEMAX: '300' }, { model })).toBe(300);
  }, 180_000);
});
