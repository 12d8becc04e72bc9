import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFERRED, defaultBindingPath } from '../../src/geo/gdalLoad.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const gdalPackage = createRequire(import.meta.url).resolve('gdal-async/package.json');
const gdalRequire = createRequire(gdalPackage);

/** The names each file of gdal-async's lib/ takes from `pkg`: `const { a, b } = require(pkg)` or `x = require(pkg)` then `x.a`. */
function namesTaken(pkg: string): Map<string, string[]> {
  const lib = join(dirname(gdalPackage), 'lib');
  const quoted = pkg.replace(/[/.@-]/g, (c) => `\\${c}`);
  const taken = new Map<string, string[]>();
  for (const file of readdirSync(lib).filter((name) => name.endsWith('.js'))) {
    const source = readFileSync(join(lib, file), 'utf8');
    for (const match of source.matchAll(new RegExp(`(\\{[^}]*\\}|\\w+)\\s*=\\s*require\\(['"]${quoted}['"]\\)`, 'g'))) {
      const bound = match[1]!;
      const names = bound.startsWith('{')
        ? bound.slice(1, -1).split(',').map((part) => part.split(':')[0]!.trim()).filter(Boolean)
        : [...source.matchAll(new RegExp(`\\b${bound}\\.(\\w+)`, 'g'))].map((use) => use[1]!);
      taken.set(file, [...(taken.get(file) ?? []), ...names]);
    }
  }
  return taken;
}

/** Runs a script with the sources (through tsx); prints JSON. */
function runScript(defer: boolean): { before: string[]; after: string[]; vrt: string } {
  const script = `
    import { createRequire } from 'node:module';
    import { deferGdalDependencies } from ${JSON.stringify(join(repoRoot, 'src/geo/gdalLoad.ts'))};
    const require = createRequire(${JSON.stringify(gdalPackage)});
    if (${defer}) deferGdalDependencies();
    const gdal = require('gdal-async');
    const heavy = () => Object.keys(require.cache).filter((p) => /[\\\\/](@oozcitak|js-yaml|semver|nopt)[\\\\/]/.test(p) || /node-pre-gyp[\\\\/]lib[\\\\/]pre-binding/.test(p)).map((p) => p.replace(/.*node_modules[\\\\/]/, '')).sort();
    const before = heavy();
    const band = gdal.open('band', 'w', 'MEM', 4, 3, 1, gdal.GDT_Byte).bands.get(1);
    const vrt = gdal.wrapVRT({ bands: [{ sources: [band], pixelFunc: 'inv', pixelFuncArgs: { k: 3 } }] });
    console.log(JSON.stringify({ before, after: heavy(), vrt }));
  `;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8' });
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as { before: string[]; after: string[]; vrt: string };
}

describe('geo/gdalLoad: gdal-async without xmlbuilder2 and node-pre-gyp until they are used', () => {
  it('stands in for every function gdal-async takes from them, forwarding to the real package', () => {
    for (const pkg of Object.keys(DEFERRED)) {
      const taken = namesTaken(pkg);
      expect(taken.size, `gdal-async requires ${pkg}`).toBeGreaterThan(0);
      const real = gdalRequire(pkg) as Record<string, unknown>;
      const standIn = DEFERRED[pkg]!(() => real);
      for (const [file, names] of taken) {
        for (const name of names) {
          expect(typeof standIn[name], `${file} takes ${pkg}.${name}`).toBe('function');
          expect(typeof real[name], `${pkg} exports ${name}`).toBe('function');
        }
      }
      for (const name of Object.keys(standIn)) expect(typeof real[name], `${pkg} exports ${name}`).toBe('function');
    }
  });

  it("names the binding node-pre-gyp's find names", () => {
    const { find } = gdalRequire('@mapbox/node-pre-gyp') as { find: (path: string) => string };
    expect(defaultBindingPath(gdalPackage)).toBe(find(gdalPackage));
  });

  it('loads gdal-async without them, loads xmlbuilder2 when wrapVRT is first called, and wrapVRT gives what it gives without deferring', () => {
    const deferred = runScript(true);
    const eager = runScript(false);
    expect(eager.before.some((p) => p.startsWith('@oozcitak'))).toBe(true); // what deferring avoids
    expect(eager.before.some((p) => p.startsWith('semver'))).toBe(true);
    expect(deferred.before).toEqual([]);
    expect(deferred.after.some((p) => p.startsWith('@oozcitak'))).toBe(true);
    expect(deferred.vrt).toContain('<VRTDataset');
    expect(deferred.vrt).toBe(eager.vrt);
  });
});
