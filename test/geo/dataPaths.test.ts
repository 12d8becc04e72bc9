/**
 * GDAL_DATA / PROJ_DATA resolution on fake installed-app layouts (Linux deb and AppImage, Windows NSIS, macOS
 * .app), built as real folders in a temporary directory: the unpacked gdal-async data is found, a path inside
 * app.asar never is, the analyst's variables win, a gdal-async built against the system GDAL (no data files
 * in its deps/) falls through to the system folders.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gdalDataCandidates, isSharedGdalBuild, packagedGeoEnv, projDataCandidates, resolveGeoDataDirs, toUnpacked } from '../../src/geo/dataPaths.js';

let tmp: string;

const GDAL_REL = ['app.asar.unpacked', 'node_modules', 'gdal-async', 'deps', 'libgdal', 'gdal', 'data'];
const PROJ_REL = ['app.asar.unpacked', 'node_modules', 'gdal-async', 'deps', 'libproj', 'proj', 'data'];

/** Creates `<resources>/app.asar` (a file, as in a real package) and the unpacked data folders with their marker files. */
function makePackagedApp(resources: string, options: { data?: boolean } = {}): void {
  mkdirSync(resources, { recursive: true });
  writeFileSync(path.join(resources, 'app.asar'), 'asar');
  const gdal = path.join(resources, ...GDAL_REL);
  const proj = path.join(resources, ...PROJ_REL);
  mkdirSync(gdal, { recursive: true });
  mkdirSync(proj, { recursive: true });
  if (options.data !== false) {
    writeFileSync(path.join(gdal, 'gdalvrt.xsd'), '<xs:schema/>');
    writeFileSync(path.join(gdal, 'header.dxf'), '0');
    writeFileSync(path.join(proj, 'proj.db'), 'SQLite format 3');
  } else {
    writeFileSync(path.join(gdal, 'GDALLogoBW.svg'), '<svg/>'); // what a source build's deps/ holds
    mkdirSync(path.join(proj, 'CH'));
  }
}

/** Maps a Windows path (`C:\…`) onto the temporary folder, so a Windows layout can be tested with real files here. */
function winOnTmp(p: string): string {
  return path.join(tmp, 'win', p.replace(/^([A-Za-z]):\\/, '$1/').replace(/\\/g, '/'));
}

beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'segearth-datapaths-'));
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('GDAL / PROJ data in a packaged app', () => {
  it('Linux deb (/opt/SegEarth Desktop/resources): finds the unpacked gdal-async data and sets GDAL_DATA, PROJ_DATA and PROJ_LIB', () => {
    const resources = path.join(tmp, 'linux-deb', 'opt', 'SegEarth Desktop', 'resources');
    makePackagedApp(resources);
    const inputs = {
      env: {},
      platform: 'linux' as const,
      resourcesPath: resources,
      gdalAsyncRoot: path.join(resources, 'app.asar', 'node_modules', 'gdal-async'),
    };
    const found = resolveGeoDataDirs(inputs);
    expect(found.gdalData).toEqual({ dir: path.join(resources, ...GDAL_REL), source: 'packaged' });
    expect(found.projData).toEqual({ dir: path.join(resources, ...PROJ_REL), source: 'packaged' });
    expect(packagedGeoEnv(inputs)).toEqual({
      GDAL_DATA: path.join(resources, ...GDAL_REL),
      PROJ_DATA: path.join(resources, ...PROJ_REL),
      PROJ_LIB: path.join(resources, ...PROJ_REL),
    });
    // GDAL cannot read inside the asar archive: no candidate points there.
    for (const c of [...gdalDataCandidates(inputs), ...projDataCandidates(inputs)]) expect(c.dir).not.toMatch(/app\.asar([\\/]|$)/);
  });

  it('Linux AppImage (mounted under /tmp/.mount_*): same layout, found the same way', () => {
    const resources = path.join(tmp, 'appimage', '.mount_SegEarXyz', 'resources');
    makePackagedApp(resources);
    const env = packagedGeoEnv({ env: {}, platform: 'linux', resourcesPath: resources, gdalAsyncRoot: null });
    expect(env.GDAL_DATA).toBe(path.join(resources, ...GDAL_REL));
    expect(existsSync(path.join(env.PROJ_DATA!, 'proj.db'))).toBe(true);
  });

  it('macOS (.app/Contents/Resources)', () => {
    const resources = path.join(tmp, 'mac', 'Applications', 'SegEarth Desktop.app', 'Contents', 'Resources');
    makePackagedApp(resources);
    const found = resolveGeoDataDirs({ env: {}, platform: 'darwin', resourcesPath: resources, gdalAsyncRoot: null });
    expect(found.gdalData?.dir).toBe(path.join(resources, ...GDAL_REL));
    expect(found.projData?.dir).toBe(path.join(resources, ...PROJ_REL));
  });

  it('Windows NSIS (C:\\Users\\…\\Programs\\SegEarth Desktop\\resources), with Windows path rules', () => {
    const resources = 'C:\\Users\\ana\\AppData\\Local\\Programs\\SegEarth Desktop\\resources';
    makePackagedApp(winOnTmp(resources));
    const exists = (p: string): boolean => existsSync(winOnTmp(p));
    const inputs = { env: {}, platform: 'win32' as const, resourcesPath: resources, gdalAsyncRoot: `${resources}\\app.asar\\node_modules\\gdal-async` };
    const found = resolveGeoDataDirs(inputs, exists);
    expect(found.gdalData).toEqual({ dir: `${resources}\\app.asar.unpacked\\node_modules\\gdal-async\\deps\\libgdal\\gdal\\data`, source: 'packaged' });
    expect(found.projData?.dir).toBe(`${resources}\\app.asar.unpacked\\node_modules\\gdal-async\\deps\\libproj\\proj\\data`);
    // OSGeo4W is only a fallback after the app's own data.
    const withOsgeo = gdalDataCandidates({ ...inputs, env: { OSGEO4W_ROOT: 'C:\\OSGeo4W' } });
    expect(withOsgeo.at(-1)).toEqual({ dir: 'C:\\OSGeo4W\\share\\gdal', source: 'system' });
  });

  it("the analyst's variables win (PROJ_DATA before PROJ_LIB); a variable naming a missing folder is ignored", () => {
    const resources = path.join(tmp, 'linux-env', 'resources');
    makePackagedApp(resources);
    const mine = path.join(tmp, 'my-gdal-data');
    const myProj = path.join(tmp, 'my-proj');
    mkdirSync(mine, { recursive: true });
    mkdirSync(myProj, { recursive: true });
    const inputs = { env: { GDAL_DATA: mine, PROJ_LIB: myProj }, platform: 'linux' as const, resourcesPath: resources, gdalAsyncRoot: null };
    expect(resolveGeoDataDirs(inputs)).toEqual({
      gdalData: { dir: mine, source: 'env', variable: 'GDAL_DATA' },
      projData: { dir: myProj, source: 'env', variable: 'PROJ_LIB' },
    });
    expect(packagedGeoEnv(inputs)).toEqual({}); // nothing overridden
    expect(projDataCandidates({ ...inputs, env: { PROJ_DATA: '/a', PROJ_LIB: '/b' } }).slice(0, 2).map((c) => c.variable)).toEqual(['PROJ_DATA', 'PROJ_LIB']);
    const missing = { ...inputs, env: { GDAL_DATA: path.join(tmp, 'nope') } };
    expect(resolveGeoDataDirs(missing).gdalData?.source).toBe('packaged');
  });

  it('a gdal-async built against the system GDAL (build/config.gypi: shared_gdal) leaves GDAL and PROJ on the system folders, even with a proj.db in its deps/', () => {
    const resources = path.join(tmp, 'system-build', 'resources');
    makePackagedApp(resources); // a source build's deps/ can hold a generated proj.db of another PROJ version
    const root = path.join(resources, 'app.asar', 'node_modules', 'gdal-async');
    const build = path.join(resources, 'app.asar.unpacked', 'node_modules', 'gdal-async', 'build');
    mkdirSync(build, { recursive: true });
    writeFileSync(path.join(build, 'config.gypi'), '{ "variables": { "shared_gdal": "true", "target": "45.5.0" } }');
    expect(isSharedGdalBuild(root)).toBe(true);
    const inputs = { env: {}, platform: 'linux' as const, resourcesPath: resources, gdalAsyncRoot: root, bundledGdal: !isSharedGdalBuild(root) };
    expect(packagedGeoEnv(inputs)).toEqual({});
    const system = (p: string): boolean => p === '/usr/share/gdal/gdalvrt.xsd' || p === '/usr/share/proj/proj.db';
    expect(resolveGeoDataDirs(inputs, system)).toEqual({
      gdalData: { dir: '/usr/share/gdal', source: 'system' },
      projData: { dir: '/usr/share/proj', source: 'system' },
    });
    // A default (bundled) build records shared_gdal false; a prebuilt binary has no build/ at all.
    writeFileSync(path.join(build, 'config.gypi'), '{ "variables": { "shared_gdal": "false" } }');
    expect(isSharedGdalBuild(root)).toBe(false);
    expect(isSharedGdalBuild(path.join(tmp, 'prebuilt', 'gdal-async'))).toBe(false);
  });

  it("without GDAL's data files in deps/ (a system-GDAL build, config.gypi stripped by electron-builder) its proj.db is passed over too", () => {
    const resources = path.join(tmp, 'no-data', 'resources');
    makePackagedApp(resources, { data: false });
    writeFileSync(path.join(resources, ...PROJ_REL, 'proj.db'), 'SQLite format 3'); // generated by the source build
    expect(packagedGeoEnv({ env: {}, platform: 'linux', resourcesPath: resources, gdalAsyncRoot: null })).toEqual({});
    const found = resolveGeoDataDirs({ env: {}, platform: 'linux', resourcesPath: resources, gdalAsyncRoot: null }, (p) => existsSync(p) || p === '/usr/share/proj/proj.db');
    expect(found.projData).toEqual({ dir: '/usr/share/proj', source: 'system' });
  });

  it('from a source checkout: the gdal-async folder is a candidate, no resources folder is', () => {
    const root = path.join(tmp, 'checkout', 'node_modules', 'gdal-async');
    const c = gdalDataCandidates({ env: {}, platform: 'linux', resourcesPath: null, gdalAsyncRoot: root });
    expect(c.map((x) => x.source)).toEqual(['bundled', 'system', 'system']);
    expect(c[0]!.dir).toBe(path.join(root, 'deps', 'libgdal', 'gdal', 'data'));
    expect(toUnpacked('/x/resources/app.asar/node_modules/gdal-async')).toBe('/x/resources/app.asar.unpacked/node_modules/gdal-async');
    expect(toUnpacked('C:\\x\\resources\\app.asar\\node_modules')).toBe('C:\\x\\resources\\app.asar.unpacked\\node_modules');
    expect(toUnpacked('/x/app.asar.unpacked/y')).toBe('/x/app.asar.unpacked/y');
  });
});
