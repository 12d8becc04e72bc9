/**
 * electron-builder really run on this repository.
 *
 * 1. With a stand-in Electron (a shell script in place of the binary) and no native rebuild: checks what lands
 *    in `resources/` — app.asar, the unpacked native modules of this platform and architecture only, the
 *    worker, GDAL/PROJ data where `geo/dataPaths` looks for it, models/ without the test bundle. Linux only
 *    (the stand-in mimics Linux's Electron layout); needs `npm run build:app` first.
 * 2. With the real Electron binary (ELECTRON_OVERRIDE_DIST_PATH, or the electron package's dist/): the
 *    unpacked app for this platform, native modules rebuilt for Electron's ABI. Skipped, with the reason
 *    printed, where there is no Electron binary (it cannot be downloaded in every environment).
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import gdal from 'gdal-async';
import { listPackage } from '@electron/asar';
import { afterAll, describe, expect, it } from 'vitest';
import { isSharedGdalBuild, resolveGeoDataDirs } from '../../src/geo/dataPaths.js';
import { REPO_ROOT } from '../support/tinyBundle.js';
import { electronDist } from './builderConfig.js';

const run = promisify(execFile);
const BUILDER = path.join(REPO_ROOT, 'node_modules', 'electron-builder', 'cli.js');
const tmp = mkdtempSync(path.join(tmpdir(), 'segearth-package-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const built = existsSync(path.join(REPO_ROOT, 'dist', 'main', 'electron', 'index.js')) && existsSync(path.join(REPO_ROOT, 'dist-renderer', 'index.html'));
const standInSkip = process.platform !== 'linux' ? 'the stand-in Electron layout is Linux-only' : !built ? 'the app is not built (run npm run build:app)' : null;
if (standInSkip) console.log(`[packaging] skipping the stand-in package: ${standInSkip}`);
const real = electronDist();
if (real.dir === null) console.log(`[packaging] skipping the real electron-builder package: ${real.reason}`);

function listFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).map((f) => f.split(path.sep).join('/'));
}

async function builder(args: string[]): Promise<void> {
  try {
    await run(process.execPath, [BUILDER, ...args, '--publish', 'never'], {
      cwd: REPO_ROOT,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, CSC_IDENTITY_AUTO_DISCOVERY: 'false' },
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`electron-builder failed: ${e.message}\n${(e.stderr ?? '').slice(-4000)}\n${(e.stdout ?? '').slice(-2000)}`);
  }
}

describe.skipIf(standInSkip !== null)('electron-builder with a stand-in Electron binary', () => {
  it('lays out resources/ as the packaged app expects', { timeout: 300_000 }, async () => {
    const fake = path.join(tmp, 'electron-dist');
    mkdirSync(path.join(fake, 'resources'), { recursive: true });
    writeFileSync(path.join(fake, 'electron'), '#!/bin/sh\necho stand-in\n');
    chmodSync(path.join(fake, 'electron'), 0o755);
    writeFileSync(path.join(fake, 'version'), 'v45.5.0');
    const out = path.join(tmp, 'release');
    await builder(['--linux', 'dir', '-c.npmRebuild=false', `-c.electronDist=${fake}`, `-c.directories.output=${out}`]);
    const resources = path.join(out, process.arch === 'x64' ? 'linux-unpacked' : `linux-${process.arch}-unpacked`, 'resources');
    expect(existsSync(path.join(resources, 'app.asar'))).toBe(true);
    // Only the app: no sources, tests, benchmarks or developer caches (electron-builder's own asar listing).
    const packed = new Set(listPackage(path.join(resources, 'app.asar'), { isPack: false }).map((f) => f.split('/')[1]));
    expect([...packed].sort()).toEqual(['dist', 'dist-renderer', 'node_modules', 'package.json']);
    const unpacked = listFiles(path.join(resources, 'app.asar.unpacked'));
    expect(unpacked).toContain(`node_modules/onnxruntime-node/bin/napi-v6/linux/${process.arch}/onnxruntime_binding.node`);
    expect(unpacked.filter((f) => f.startsWith('node_modules/onnxruntime-node/bin/napi-v6/') && f.endsWith('.node'))).toHaveLength(1);
    expect(unpacked.some((f) => f.startsWith('node_modules/gdal-async/') && f.endsWith('gdal.node'))).toBe(true);
    expect(unpacked).toContain('dist/inference/worker/inference.worker.js');
    expect(unpacked).toContain('dist/inference/worker/geo.process.js');
    expect(unpacked.some((f) => f.startsWith('node_modules/gdal-async/deps/libhdf5/'))).toBe(false);
    expect(unpacked.some((f) => f.startsWith('node_modules/esbuild/'))).toBe(false);
    // Models shipped with the app, never the tiny test bundle.
    expect(existsSync(path.join(resources, 'models'))).toBe(true);
    expect(existsSync(path.join(resources, 'models', 'tiny-test'))).toBe(false);
    // the checkpoint converter's graph templates (inference/conversion/graphTemplate: shippedTemplatesDir)
    for (const profile of ['fp32', 'cpu', 'fp16']) expect(existsSync(path.join(resources, 'models', 'graph-templates', profile, 'template.json')), profile).toBe(true);
    // GDAL/PROJ data: from inside the app when gdal-async carries its own GDAL, else the system's.
    // As the app's main process asks it, before gdal-async is loaded (electron-builder drops build/config.gypi).
    const packagedRoot = path.join(resources, 'app.asar', 'node_modules', 'gdal-async');
    expect(isSharedGdalBuild(packagedRoot)).toBe(false);
    const dirs = resolveGeoDataDirs({ env: {}, platform: 'linux', resourcesPath: resources, gdalAsyncRoot: packagedRoot, bundledGdal: !isSharedGdalBuild(packagedRoot) });
    if (gdal.bundled) {
      expect(dirs.gdalData?.source).toBe('packaged');
      expect(dirs.projData?.source).toBe('packaged');
    } else {
      // This gdal-async is built against the system GDAL: the system folders are used, never the proj.db in its deps/.
      expect(dirs.gdalData).toEqual({ dir: '/usr/share/gdal', source: 'system' });
      expect(dirs.projData).toEqual({ dir: '/usr/share/proj', source: 'system' });
    }
  });
});

describe.skipIf(real.dir === null)('electron-builder with the real Electron binary', () => {
  it('packs the app for this platform with native modules rebuilt for Electron', { timeout: 1_800_000 }, async () => {
    const out = path.join(tmp, 'release-real');
    const platform = process.platform === 'win32' ? '--win' : process.platform === 'darwin' ? '--mac' : '--linux';
    await builder([platform, 'dir', `-c.electronDist=${real.dir}`, `-c.directories.output=${out}`]);
    const appDir = listFiles(out).find((f) => f.endsWith('app.asar'));
    expect(appDir).toBeDefined();
    const resources = path.join(out, path.dirname(appDir!));
    const unpacked = listFiles(path.join(resources, 'app.asar.unpacked'));
    // node-pre-gyp names the folder after the runtime: electron-v45.x-<platform>-<arch>.
    expect(unpacked.some((f) => /^node_modules\/gdal-async\/(lib\/binding\/electron-v\d+[^/]*|build\/Release)\/gdal\.node$/.test(f))).toBe(true);
    const dirs = resolveGeoDataDirs({ env: {}, platform: process.platform, resourcesPath: resources, gdalAsyncRoot: null });
    if (gdal.bundled) expect(dirs.projData?.source).toBe('packaged');
  });
});
