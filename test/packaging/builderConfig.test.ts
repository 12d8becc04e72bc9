/**
 * electron-builder.yml: the four package targets, electron-builder's own schema, native modules and the
 * GDAL/PROJ data unpacked from the asar (checked against the .node files that really are in node_modules),
 * nothing the app needs removed by the size filters, and the dist:* scripts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import picomatch from 'picomatch';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/tinyBundle.js';
import { loadConfig, loadRawConfig, validateWithElectronBuilder } from './builderConfig.js';

const config = loadConfig();

/** Files under `dir` (relative to the repository, POSIX separators) whose name passes `keep`. */
function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(path.join(REPO_ROOT, rel), { withFileTypes: true })) {
      const child = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(child);
      else if (keep(e.name)) out.push(child);
    }
  };
  walk(dir);
  return out;
}

const PLATFORM = { linux: 'linux', win: 'win32', mac: 'darwin' } as const;
const matcher = (globs: string[], arch = 'x64', platform: keyof typeof PLATFORM = 'linux') =>
  picomatch(globs.map((g) => g.replaceAll('${arch}', arch).replaceAll('${platform}', PLATFORM[platform])), { dot: true });
const unpacked = matcher(config.asarUnpack);

/** Whether electron-builder's `files` filters drop `file` (on `platform`, for `arch`). */
function excluded(file: string, platform: 'linux' | 'win' | 'mac', arch = 'x64'): boolean {
  const negated = config.files.filter((g) => g.startsWith('!')).map((g) => g.slice(1));
  return matcher(negated, arch, platform)(file);
}

describe('electron-builder.yml', () => {
  it('builds AppImage and deb on Linux, an NSIS installer on Windows and a dmg on macOS', () => {
    expect(config.linux.target).toEqual(expect.arrayContaining(['AppImage', 'deb']));
    expect(config.win.target).toEqual(['nsis']);
    expect(config.mac.target).toEqual(['dmg']);
    expect(config.asar ?? true).toBe(true);
    expect(config.npmRebuild ?? true).toBe(true); // native modules rebuilt for Electron's ABI
  });

  it("passes electron-builder's own schema validation (and a misspelt option does not)", async () => {
    const raw = loadRawConfig() as Record<string, unknown>;
    await expect(validateWithElectronBuilder(raw)).resolves.toBeUndefined();
    await expect(validateWithElectronBuilder({ ...raw, linux: { targett: ['deb'] } })).rejects.toThrow(/Invalid configuration object[\s\S]*linux/);
  });

  it('unpacks every native binary of gdal-async and onnxruntime-node that is in node_modules', () => {
    const natives = [
      ...filesUnder('node_modules/gdal-async', (n) => n.endsWith('.node')),
      ...filesUnder('node_modules/onnxruntime-node', (n) => /\.(node|so(\.\d+)*|dll|dylib)$/.test(n)),
    ];
    expect(natives.some((f) => f.startsWith('node_modules/gdal-async/') && f.endsWith('/gdal.node'))).toBe(true);
    expect(natives.some((f) => f.includes('onnxruntime-node/bin/napi-v6/linux/x64/'))).toBe(true);
    const notUnpacked = natives.filter((f) => !unpacked(f));
    expect(notUnpacked).toEqual([]);
    // Explicit globs per module too, so removing the generic "**/*.node" cannot silently break them.
    const specific = matcher(config.asarUnpack.filter((g) => g.startsWith('node_modules/')));
    expect(natives.filter((f) => !f.includes('/obj.target/') && !specific(f))).toEqual([]);
  });

  it('unpacks the GDAL and PROJ data gdal-async carries, and the size filters keep it', () => {
    const data = [
      'node_modules/gdal-async/deps/libgdal/gdal/data/gdalvrt.xsd',
      'node_modules/gdal-async/deps/libgdal/gdal/data/header.dxf',
      'node_modules/gdal-async/deps/libgdal/gdal/frmts/grib/data/grib2_center.csv',
      'node_modules/gdal-async/deps/libproj/proj/data/proj.db',
      'node_modules/gdal-async/deps/libproj/proj/data/CH',
    ];
    for (const f of data) {
      expect(unpacked(f), f).toBe(true);
      for (const p of ['linux', 'win', 'mac'] as const) expect(excluded(f, p), `${f} on ${p}`).toBe(false);
    }
    // What the filters are for: sources of the bundled libraries are not shipped.
    expect(excluded('node_modules/gdal-async/deps/libhdf5/hdf5/src/H5.c', 'linux')).toBe(true);
    expect(excluded('node_modules/gdal-async/deps/libgdal/gdal/gcore/gdal.h', 'linux')).toBe(true);
    expect(excluded('node_modules/gdal-async/src/gdal_dataset.cpp', 'linux')).toBe(true);
  });

  it('has no platform `files` list (one of exclusions only makes electron-builder pack the whole repository)', () => {
    for (const platform of ['linux', 'win', 'mac'] as const) expect((config[platform] as { files?: unknown }).files, platform).toBeUndefined();
  });

  it("ships only the target platform's and architecture's onnxruntime binaries", () => {
    const bin = (p: string, a: string) => `node_modules/onnxruntime-node/bin/napi-v6/${p}/${a}/onnxruntime_binding.node`;
    expect(excluded(bin('linux', 'x64'), 'linux', 'x64')).toBe(false);
    expect(excluded(bin('linux', 'arm64'), 'linux', 'x64')).toBe(true);
    expect(excluded(bin('linux', 'arm64'), 'linux', 'arm64')).toBe(false);
    expect(excluded(bin('win32', 'x64'), 'linux')).toBe(true);
    expect(excluded(bin('win32', 'x64'), 'win')).toBe(false);
    expect(excluded(bin('darwin', 'arm64'), 'win', 'arm64')).toBe(true);
    expect(excluded(bin('darwin', 'arm64'), 'mac', 'arm64')).toBe(false);
    expect(excluded(bin('linux', 'x64'), 'mac')).toBe(true);
  });

  it('packs the compiled app and renderer, unpacks the inference worker and the geo process, ships models/ (graph templates included) without the test bundle', () => {
    const included = matcher(config.files.filter((g) => !g.startsWith('!')));
    for (const f of ['dist/main/electron/index.js', 'dist/main/electron/preload.cjs', 'dist/geo/dataPaths.js', 'dist-renderer/index.html', 'package.json']) {
      expect(included(f) && !excluded(f, 'linux'), f).toBe(true);
    }
    expect(unpacked('dist/inference/worker/inference.worker.js')).toBe(true);
    expect(unpacked('dist/inference/worker/geo.process.js')).toBe(true);
    const models = config.extraResources.find((r) => r.to === 'models');
    expect(models?.from).toBe('models');
    const shipped = picomatch(models!.filter.filter((g) => !g.startsWith('!')), { dot: true });
    const dropped = picomatch(models!.filter.filter((g) => g.startsWith('!')).map((g) => g.slice(1)), { dot: true });
    expect(shipped('segearth-r1-earthreason/manifest.json') && !dropped('segearth-r1-earthreason/manifest.json')).toBe(true);
    expect(dropped('tiny-test/manifest.json')).toBe(true);
    // the converter's graph templates (inference/conversion/graphTemplate: <resources>/models/graph-templates)
    for (const f of ['graph-templates/fp32/llm.onnx', 'graph-templates/cpu/template.json', 'graph-templates/fp16/weights.json']) {
      expect(shipped(f) && !dropped(f), f).toBe(true);
    }
  });

  it('has dist:linux, dist:win and dist:mac scripts that build first', () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; main: string };
    expect(pkg.scripts['dist:linux']).toMatch(/^npm run build:app && electron-builder --linux\b/);
    expect(pkg.scripts['dist:win']).toMatch(/^npm run build:app && electron-builder --win\b/);
    expect(pkg.scripts['dist:mac']).toMatch(/^npm run build:app && electron-builder --mac\b/);
    expect(pkg.main).toBe('dist/main/electron/index.js');
    expect(statSync(path.join(REPO_ROOT, 'src', 'main', 'electron', 'index.ts')).isFile()).toBe(true);
  });
});
