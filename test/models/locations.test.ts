import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultShippedDir, resolveModelLocations, userDataDir } from '../../src/inference/models/locations.js';

describe('userDataDir', () => {
  it('follows XDG on Linux, ignoring a relative XDG_DATA_HOME', () => {
    expect(userDataDir({ platform: 'linux', home: '/home/ana', env: {} })).toBe('/home/ana/.local/share/segearth-desktop');
    expect(userDataDir({ platform: 'linux', home: '/home/ana', env: { XDG_DATA_HOME: '/data/xdg' } })).toBe('/data/xdg/segearth-desktop');
    expect(userDataDir({ platform: 'linux', home: '/home/ana', env: { XDG_DATA_HOME: 'rel/xdg' } })).toBe('/home/ana/.local/share/segearth-desktop');
  });

  it("matches Electron's userData for the product name on macOS and Windows", () => {
    expect(userDataDir({ platform: 'darwin', home: '/Users/ana', env: {} })).toBe('/Users/ana/Library/Application Support/SegEarth Desktop');
    expect(userDataDir({ platform: 'win32', home: 'C:\\Users\\ana', env: { APPDATA: 'C:\\Users\\ana\\AppData\\Roaming' } })).toBe(
      'C:\\Users\\ana\\AppData\\Roaming\\SegEarth Desktop',
    );
    expect(userDataDir({ platform: 'win32', home: 'C:\\Users\\ana', env: {} })).toBe('C:\\Users\\ana\\AppData\\Roaming\\SegEarth Desktop');
  });

  it('is replaced by SEGEARTH_DATA_DIR', () => {
    expect(userDataDir({ platform: 'linux', home: '/home/ana', env: { SEGEARTH_DATA_DIR: '/srv/seg' } })).toBe('/srv/seg');
  });
});

describe('resolveModelLocations', () => {
  it('searches the user folder then the shipped one, installing into the user folder', () => {
    const l = resolveModelLocations({ platform: 'linux', home: '/home/ana', env: {}, shippedDir: '/opt/segearth/resources/models' });
    expect(l.searchDirs).toEqual([
      { dir: '/home/ana/.local/share/segearth-desktop/models', kind: 'user', writable: true },
      { dir: '/opt/segearth/resources/models', kind: 'shipped', writable: false },
    ]);
    expect(l.installDir).toBe('/home/ana/.local/share/segearth-desktop/models');
    expect(l.stagingDir).toBe('/home/ana/.local/share/segearth-desktop/models/.staging');
    expect(l.settingsFile).toBe('/home/ana/.local/share/segearth-desktop/model-settings.json');
    expect(l.verifyCacheFile).toBe('/home/ana/.local/share/segearth-desktop/cache/model-verify.json');
  });

  it('lets SEGEARTH_MODELS_DIR (a path list) replace the user folder; the first entry receives installs', () => {
    const l = resolveModelLocations({
      platform: 'linux',
      home: '/home/ana',
      env: { SEGEARTH_MODELS_DIR: '/mnt/team/models: /scratch/models ::' },
      shippedDir: '/opt/app/models',
    });
    expect(l.searchDirs.map((d) => [d.dir, d.kind])).toEqual([
      ['/mnt/team/models', 'env'],
      ['/scratch/models', 'env'],
      ['/opt/app/models', 'shipped'],
    ]);
    expect(l.installDir).toBe('/mnt/team/models');
    expect(l.stagingDir).toBe('/mnt/team/models/.staging');
    expect(l.settingsFile).toBe('/home/ana/.local/share/segearth-desktop/model-settings.json'); // settings stay per user

    const w = resolveModelLocations({
      platform: 'win32',
      home: 'C:\\Users\\ana',
      env: { APPDATA: 'C:\\Users\\ana\\AppData\\Roaming', SEGEARTH_MODELS_DIR: 'D:\\models;E:\\more' },
      shippedDir: null,
    });
    expect(w.searchDirs.map((d) => d.dir)).toEqual(['D:\\models', 'E:\\more']);
  });

  it('finds the shipped models/ from the environment, or next to the sources', () => {
    expect(defaultShippedDir({ SEGEARTH_SHIPPED_MODELS_DIR: '/opt/x/models' })).toBe('/opt/x/models');
    expect(defaultShippedDir({})).toBe(path.resolve(import.meta.dirname, '..', '..', 'models'));
  });
});
