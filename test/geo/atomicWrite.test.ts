import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeAtomically } from '../../src/geo/atomicWrite.js';

const work = mkdtempSync(join(tmpdir(), 'segearth-atomic-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function fresh(name: string): string {
  const dir = mkdtempSync(join(work, `${name}-`));
  return dir;
}

describe('writeAtomically', () => {
  it('moves every produced file into place and leaves no temporary folder', async () => {
    const dir = fresh('ok');
    const paths = await writeAtomically(join(dir, 'out.shp'), {}, async (temp) => {
      await writeFile(temp, 'shp');
      await writeFile(temp.replace(/\.shp$/, '.dbf'), 'dbf');
    });
    expect(paths.map((p) => p.slice(dir.length + 1))).toEqual(['out.dbf', 'out.shp']);
    expect(readdirSync(dir).sort()).toEqual(['out.dbf', 'out.shp']);
  });

  it('refuses an existing output with OUTPUT_EXISTS and leaves it untouched; overwrite replaces it', async () => {
    const dir = fresh('exists');
    const target = join(dir, 'out.gpkg');
    writeFileSync(target, 'old');
    await expect(writeAtomically(target, {}, (temp) => writeFile(temp, 'new'))).rejects.toMatchObject({
      code: 'OUTPUT_EXISTS',
      hint: expect.stringMatching(/overwrit/),
    });
    expect(readFileSync(target, 'utf8')).toBe('old');
    await writeAtomically(target, { overwrite: true }, (temp) => writeFile(temp, 'new'));
    expect(readFileSync(target, 'utf8')).toBe('new');
    expect(readdirSync(dir)).toEqual(['out.gpkg']);
  });

  it('checks sidecar names before writing (a lone .dbf blocks a shapefile)', async () => {
    const dir = fresh('sidecar');
    writeFileSync(join(dir, 'out.dbf'), 'someone else');
    let called = false;
    await expect(
      writeAtomically(join(dir, 'out.shp'), { expectedNames: ['out.shp', 'out.dbf'] }, async () => {
        called = true;
      }),
    ).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
    expect(called).toBe(false);
    // A produced name that was not announced is still checked before the move.
    await expect(
      writeAtomically(join(dir, 'out.shp'), {}, async (temp) => {
        await writeFile(temp, 'shp');
        await writeFile(temp.replace(/\.shp$/, '.dbf'), 'dbf');
      }),
    ).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
    expect(readdirSync(dir)).toEqual(['out.dbf']);
    expect(readFileSync(join(dir, 'out.dbf'), 'utf8')).toBe('someone else');
  });

  it('leaves nothing behind when the writer fails half way', async () => {
    const dir = fresh('fail');
    await expect(
      writeAtomically(join(dir, 'out.shp'), {}, async (temp) => {
        await writeFile(temp, 'half');
        throw new Error('disk full');
      }),
    ).rejects.toMatchObject({ code: 'OUTPUT_NOT_WRITABLE', message: expect.stringMatching(/disk full/) });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('reports a folder that cannot exist (under a regular file) or is missing as OUTPUT_NOT_WRITABLE', async () => {
    const dir = fresh('nowrite');
    const file = join(dir, 'file.txt');
    writeFileSync(file, 'x');
    const err = await writeAtomically(join(file, 'out.gpkg'), {}, (temp) => writeFile(temp, 'x')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OUTPUT_NOT_WRITABLE', hint: expect.stringMatching(/folder/) });
    await expect(writeAtomically(join(dir, 'missing', 'out.gpkg'), {}, (temp) => writeFile(temp, 'x'))).rejects.toMatchObject({
      code: 'OUTPUT_NOT_WRITABLE',
    });
    await expect(writeAtomically(dir, { overwrite: true }, (temp) => writeFile(temp, 'x'))).rejects.toMatchObject({
      code: 'OUTPUT_NOT_WRITABLE',
    });
    expect(readdirSync(dir)).toEqual(['file.txt']);
  });

  it("removes the temporary folders of killed runs on this host, never a live process's", async () => {
    const dir = fresh('stale');
    const host = hostname().replace(/[^A-Za-z0-9]+/g, '').slice(0, 16) || 'host';
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // exited: its pid no longer runs
    const old = (Date.now() - 5 * 60_000) / 1000;
    const make = (name: string, mtime = old): string => {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'half.geojson'), '{"type":"FeatureCollection","feat');
      utimesSync(join(dir, name), mtime, mtime);
      return name;
    };
    make(`.segearth-tmp-out.geojson-${host}-${dead}-aaaaaa`);
    const live = make(`.segearth-tmp-out.geojson-${host}-${process.ppid}-bbbbbb`);
    const otherHost = make(`.segearth-tmp-out.geojson-otherhost-${dead}-cccccc`);
    make(`.segearth-tmp-other.gpkg-old`, (Date.now() - 8 * 24 * 3600_000) / 1000);
    await writeAtomically(join(dir, 'out.geojson'), {}, async (temp) => writeFile(temp, '{}'));
    await writeAtomically(join(dir, 'other.gpkg'), {}, async (temp) => writeFile(temp, 'gpkg'));
    expect(readdirSync(dir).sort()).toEqual([live, otherHost, 'other.gpkg', 'out.geojson'].sort());
  });
});
