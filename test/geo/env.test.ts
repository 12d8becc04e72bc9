/**
 * GDAL/PROJ environment: idempotent configuration, asar path mapping, and versions that match gdal-bin.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { configureGdalEnvironment, geoVersions, unpackedPath } from '../../src/geo/env.js';

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
});
