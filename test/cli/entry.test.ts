import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chooseEntry } from '../../bin/entry.js';

const repoRoot = resolve(import.meta.dirname, '../..');

/** A stand-in checkout: bin/ copied from the repository, a dist/ and a src/ CLI that print which one ran. */
let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'segearth-entry-'));
  mkdirSync(join(root, 'bin'));
  for (const f of ['segearth.js', 'entry.js']) copyFileSync(join(repoRoot, 'bin', f), join(root, 'bin', f));
  symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'), 'dir');
  writeFileSync(join(root, 'package.json'), '{ "type": "module" }\n');
  write('src/cli/index.ts', "const from: string = 'source';\nconsole.log(from);\n", 1000);
  write('src/geo/deep/raster.ts', 'export {};\n', 1000);
  write('src/main/server.ts', 'export {};\n', 1000);
  write('dist/cli/index.js', "console.log('compiled');\n", 2000);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** Writes a file with the given modification time (seconds since the epoch). */
function write(rel: string, text: string, mtime: number): void {
  const file = join(root, rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  utimesSync(file, mtime, mtime);
}

function runBin(env: Record<string, string> = {}) {
  const clean = { ...process.env };
  delete clean.SEGEARTH_FROM_SOURCE;
  delete clean.SEGEARTH_USE_DIST;
  return spawnSync(process.execPath, [join(root, 'bin', 'segearth.js')], { encoding: 'utf8', env: { ...clean, ...env } });
}

describe('bin/segearth.js chooses the compiled CLI only when it is current', () => {
  it('runs dist/ when it is newer than every CLI source file, and the sources through tsx otherwise', () => {
    expect(runBin().stdout).toBe('compiled\n');
    write('src/geo/deep/raster.ts', 'export {};\n', 3000); // edited after the build, in a subfolder
    const stale = runBin();
    expect(stale.stderr).toBe('');
    expect(stale.stdout).toBe('source\n');
    expect(chooseEntry(root, {}).reason).toMatch(/src\/geo changed after the build/);
  });

  it('ignores sources the CLI never imports (src/main)', () => {
    write('src/main/server.ts', 'export {};\n', 3000);
    expect(chooseEntry(root, {}).kind).toBe('compiled');
  });

  it('runs the sources when there is no build, and dist/ when there are no sources (installed package)', () => {
    rmSync(join(root, 'dist'), { recursive: true });
    expect(chooseEntry(root, {})).toMatchObject({ kind: 'source', reason: expect.stringMatching(/npm run build/) });
    expect(runBin().stdout).toBe('source\n');
    write('dist/cli/index.js', "console.log('compiled');\n", 500);
    rmSync(join(root, 'src'), { recursive: true });
    expect(runBin().stdout).toBe('compiled\n');
  });

  it('SEGEARTH_FROM_SOURCE=1 and SEGEARTH_USE_DIST=1 force one or the other', () => {
    expect(runBin({ SEGEARTH_FROM_SOURCE: '1' }).stdout).toBe('source\n');
    write('src/cli/index.ts', "console.log('source');\n", 3000);
    expect(runBin({ SEGEARTH_USE_DIST: '1' }).stdout).toBe('compiled\n');
  });
});
