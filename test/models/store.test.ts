import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, stat, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { create as tarCreate } from 'tar';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSegEarthError } from '../../src/shared/errors.js';
import { resolveModelLocations } from '../../src/inference/models/locations.js';
import { folderSize, ModelStore } from '../../src/inference/models/ModelStore.js';
import { readModelSettings } from '../../src/inference/models/settings.js';
import type { ModelProgress } from '../../src/inference/models/types.js';
import { ensureTinyBundle } from '../support/tinyBundle.js';
import { readZipEntries } from '../../src/inference/models/zip.js';
import { bytes, packBundle, PYTHON, sha256, tempStore, type TempStore, writeBundle, zipWithPython } from './helpers.js';

let ts: TempStore;
let src: string;

beforeEach(async () => {
  ts = await tempStore();
  src = path.join(ts.root, 'src');
});
afterEach(async () => {
  await ts.cleanup();
});

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

async function stagingEntries(): Promise<string[]> {
  try {
    return await readdir(ts.locations.stagingDir);
  } catch {
    return [];
  }
}

describe('ModelStore.import from a folder', () => {
  it('copies the bundle, and list reports variant, precision, size, source and verified state', async () => {
    const dir = await writeBundle(src, { id: 'er-int8', precision: 'int8-weight-only', files: { 'llm.onnx.data': bytes(20_000, 4) } });
    await writeFile(path.join(dir, 'notes.txt'), 'not in the manifest');
    const store = new ModelStore({ locations: ts.locations });
    const events: ModelProgress[] = [];
    const m = await store.import(dir, { onProgress: (e) => events.push(e) });
    expect(m).toMatchObject({
      id: 'er-int8',
      variant: 'earthreason',
      precision: 'image fp32, llm int8-weight-only, head fp32',
      sourceCheckpoint: 'earth-insights/SegEarth-R1-EarthReason',
      location: 'user',
      writable: true,
      testFixture: false,
      isDefault: true,
      dir: path.join(ts.locations.installDir, 'er-int8'),
    });
    // Hashes computed while copying are cached: the fresh install lists as verified without re-hashing.
    expect(m.verify).toMatchObject({ state: 'verified', hashedFiles: 0, checkedFiles: 10, problems: [] });
    const manifestBytes = (await stat(path.join(dir, 'manifest.json'))).size;
    const listedBytes = 3000 + 5000 + 1000 + 20_000 + 900 + 700 + 16 * 8 * 4 + 300 + 12 + 44;
    expect(m.sizeBytes).toBe(listedBytes + manifestBytes); // notes.txt was not copied
    expect(events.at(-1)).toMatchObject({ phase: 'copy', done: listedBytes + manifestBytes, total: listedBytes });
    await expect(stat(path.join(m.dir, 'notes.txt'))).rejects.toThrow();
    expect(await stagingEntries()).toEqual([]);

    const { models, broken } = await store.list();
    expect(models.map((x) => [x.id, x.variant, x.precision, x.sizeBytes])).toEqual([
      ['er-int8', 'earthreason', 'image fp32, llm int8-weight-only, head fp32', listedBytes + manifestBytes],
    ]);
    expect(broken).toEqual([]);
  });

  it('refuses a damaged source and installs nothing', async () => {
    const dir = await writeBundle(src, { id: 'bad' });
    const f = path.join(dir, 'llm.onnx.data');
    const b = await readFile(f);
    b[100] ^= 0xff;
    await writeFile(f, b);
    const store = new ModelStore({ locations: ts.locations });
    const err = await caught(store.import(dir));
    expect(isSegEarthError(err, 'MODEL_INVALID')).toBe(true);
    expect((err as Error).message).toContain('llm.onnx.data');
    expect((await store.list()).models).toEqual([]);
    expect(await stagingEntries()).toEqual([]);
  });

  it('refuses an existing id unless replace is set, and replaces atomically', async () => {
    const store = new ModelStore({ locations: ts.locations });
    await store.import(await writeBundle(src, { id: 'er', precision: 'fp32' }));
    const v2 = await writeBundle(path.join(ts.root, 'v2'), { id: 'er', precision: 'fp16' });
    expect(isSegEarthError(await caught(store.import(v2)), 'OUTPUT_EXISTS')).toBe(true);
    expect((await store.get('er')).precision).toBe('fp32');
    const m = await store.import(v2, { replace: true });
    expect(m.precision).toBe('image fp32, llm fp16, head fp32');
    expect((await store.list()).models).toHaveLength(1);
    expect(await stagingEntries()).toEqual([]);
  });

  it('explains a folder that is not a bundle, and a manifest of another format version', async () => {
    const store = new ModelStore({ locations: ts.locations });
    await mkdir(path.join(src, 'empty'), { recursive: true });
    const e1 = await caught(store.import(path.join(src, 'empty')));
    expect(isSegEarthError(e1, 'MODEL_NOT_FOUND')).toBe(true);
    expect((e1 as Error).message).toContain('not a model bundle');
    const dir = await writeBundle(src, { id: 'future' });
    const m = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify({ ...m, formatVersion: 2 }));
    expect(isSegEarthError(await caught(store.import(dir)), 'MODEL_VERSION')).toBe(true);
    expect(isSegEarthError(await caught(store.import(path.join(src, 'nope'))), 'NOT_FOUND')).toBe(true);
  });

  it('refuses before copying when the disk is too small', async () => {
    const dir = await writeBundle(src, { id: 'big' });
    const store = new ModelStore({ locations: ts.locations, freeSpace: async () => 1000 });
    expect(isSegEarthError(await caught(store.import(dir)), 'DISK_FULL')).toBe(true);
    expect(await stagingEntries()).toEqual([]);
  });
});

describe('ModelStore.import from an archive', () => {
  it('installs a .tar.gz with the bundle in a top folder, and a plain .tar with it at the top level', async () => {
    const store = new ModelStore({ locations: ts.locations });
    const a = await packBundle(await writeBundle(src, { id: 'rr', variant: 'rrsis-d' }), path.join(ts.root, 'rr.tar.gz'));
    const m = await store.import(a);
    expect(m).toMatchObject({ id: 'rr', variant: 'rrsis-d', sourceCheckpoint: 'earth-insights/SegEarth-R1-RRSIS-D' });
    expect(m.verify.state).toBe('verified');
    expect(m.verify.hashedFiles).toBe(0); // hashed while staging, cached for the final paths
    const b = await packBundle(await writeBundle(src, { id: 'flat' }), path.join(ts.root, 'flat.tar'), { gzip: false, flat: true });
    expect((await store.import(b)).id).toBe('flat');
    expect((await store.list()).models.map((x) => x.id)).toEqual(['flat', 'rr']);
    expect(await stagingEntries()).toEqual([]);
  });

  it('rejects an archive whose file does not match the manifest, one with a link, a broken zip and a random file', async () => {
    const store = new ModelStore({ locations: ts.locations });
    const dir = await writeBundle(src, { id: 'tampered' });
    await writeFile(path.join(dir, 'head.onnx'), bytes(900, 99)); // same size, other bytes
    const e1 = await caught(store.import(await packBundle(dir, path.join(ts.root, 't.tar.gz'))));
    expect(isSegEarthError(e1, 'MODEL_INVALID')).toBe(true);
    expect((e1 as Error).message).toContain('head.onnx has sha256');

    const linked = await writeBundle(path.join(ts.root, 'l'), { id: 'linked' });
    await symlink('/etc/passwd', path.join(linked, 'evil'));
    await tarCreate({ gzip: true, file: path.join(ts.root, 'l.tgz'), cwd: path.dirname(linked) }, ['linked']);
    const e2 = await caught(store.import(path.join(ts.root, 'l.tgz')));
    expect(isSegEarthError(e2, 'MODEL_INVALID')).toBe(true);
    expect((e2 as Error).message).toContain('SymbolicLink');

    await writeFile(path.join(ts.root, 'b.zip'), Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0]));
    const e3 = await caught(store.import(path.join(ts.root, 'b.zip')));
    expect(isSegEarthError(e3, 'MODEL_INVALID')).toBe(true);
    expect((e3 as Error).message).toContain('no end-of-central-directory record');
    await writeFile(path.join(ts.root, 'r.bin'), bytes(1000));
    expect(isSegEarthError(await caught(store.import(path.join(ts.root, 'r.bin'))), 'UNSUPPORTED_FORMAT')).toBe(true);
    expect((await store.list()).models).toEqual([]);
    expect(await stagingEntries()).toEqual([]);
  });

  it('rejects a truncated archive and leaves nothing behind', async () => {
    const store = new ModelStore({ locations: ts.locations });
    const a = await packBundle(await writeBundle(src, { id: 'cut' }), path.join(ts.root, 'cut.tar.gz'));
    const whole = await readFile(a);
    await writeFile(a, whole.subarray(0, Math.floor(whole.length / 2)));
    expect(isSegEarthError(await caught(store.import(a)), 'MODEL_INVALID')).toBe(true);
    expect((await store.list()).models).toEqual([]);
    expect(await stagingEntries()).toEqual([]);
  });
});

describe('ModelStore.import from a zip archive', () => {
  const havePython = existsSync(PYTHON);

  it.skipIf(!havePython)('installs a deflate/stored zip, and one that uses ZIP64 fields throughout', async () => {
    const store = new ModelStore({ locations: ts.locations });
    const dir = await writeBundle(src, { id: 'zipped', files: { 'llm.onnx.data': bytes(40_000, 31) } });
    const a = await zipWithPython(dir, path.join(ts.root, 'zipped.zip'), { stored: ['image.onnx'] });
    const events: ModelProgress[] = [];
    const m = await store.import(a, { onProgress: (e) => events.push(e) });
    expect(m).toMatchObject({ id: 'zipped', verify: { state: 'verified' } });
    expect(await readFile(path.join(m.dir, 'llm.onnx.data'))).toEqual(bytes(40_000, 31));
    expect(events.filter((e) => e.phase === 'extract').at(-1)?.message).toBe('zipped/weights.json');

    const dir64 = await writeBundle(path.join(ts.root, 'z64'), { id: 'zip64', files: { 'llm.onnx.data': bytes(40_000, 33) } });
    const entries = await readZipEntries(await zipWithPython(dir64, path.join(ts.root, 'z64.zip'), { zip64: true }));
    expect(entries.find((e) => e.name === 'zip64/llm.onnx.data')).toMatchObject({ size: 40_000, method: 8 });
    const m64 = await store.import(path.join(ts.root, 'z64.zip'));
    expect(m64.verify.state).toBe('verified');
    expect(await readFile(path.join(m64.dir, 'llm.onnx.data'))).toEqual(bytes(40_000, 33));
    expect(await stagingEntries()).toEqual([]);
  });

  it.skipIf(!havePython)('refuses a zip with a symbolic link and one with damaged data', async () => {
    const store = new ModelStore({ locations: ts.locations });
    const dir = await writeBundle(src, { id: 'z' });
    const linked = await zipWithPython(dir, path.join(ts.root, 'l.zip'), { symlink: 'evil' });
    const e1 = await caught(store.import(linked));
    expect(isSegEarthError(e1, 'MODEL_INVALID')).toBe(true);
    expect((e1 as Error).message).toContain('z/evil is not a plain file or folder');

    const good = await zipWithPython(dir, path.join(ts.root, 'd.zip'), { stored: ['llm.onnx.data'] });
    const entries = await readZipEntries(good);
    const target = entries.find((e) => e.name === 'z/llm.onnx.data')!;
    const buf = await readFile(good);
    buf[target.localHeaderOffset + 30 + 'z/llm.onnx.data'.length + 10] ^= 0xff; // inside the stored data
    await writeFile(good, buf);
    const e2 = await caught(store.import(good));
    expect(isSegEarthError(e2, 'MODEL_INVALID')).toBe(true);
    expect((e2 as Error).message).toContain('z/llm.onnx.data fails its CRC-32');
    expect((await store.list()).models).toEqual([]);
    expect(await stagingEntries()).toEqual([]);
  });
});

describe('ModelStore.import: archive bombs stop before they fill the disk', () => {
  const havePython = existsSync(PYTHON);
  it('a tar.gz whose extra entry is far larger than the manifest lists is refused before it is written', async () => {
    const dir = await writeBundle(path.join(ts.root, 'src'), { id: 'bomb' });
    // 256 MiB of zeros gzip to ~250 KiB: the manifest lists a few KiB of files.
    const big = path.join(dir, 'zzz-padding.bin');
    await writeFile(big, '');
    await truncate(big, 256 * 1024 * 1024);
    const archive = await packBundle(dir, path.join(ts.root, 'bomb.tar.gz'));
    const store = new ModelStore({ locations: ts.locations });
    const err = await caught(store.import(archive));
    expect(isSegEarthError(err, 'MODEL_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(/would unpack to \d+ bytes, more than the \d+ bytes allowed/);
    expect((err as { hint?: string }).hint).toMatch(/download or copy the bundle again/);
    expect(await stagingEntries()).toEqual([]);
    expect((await store.list()).models).toEqual([]);
  });

  it('the free space bounds the total as well: refused as the headers come, before the disk fills', async () => {
    const dir = await writeBundle(path.join(ts.root, 'src'), { id: 'fits', files: { 'pad.bin': Buffer.alloc(1024 * 1024) } });
    const archive = await packBundle(dir, path.join(ts.root, 'fits.tar.gz'));
    const size = (await stat(archive)).size;
    // The up-front check (archive size + 64 MiB margin) passes; the unpack budget is then size + 1 KiB < 1 MiB.
    const store = new ModelStore({ locations: ts.locations, freeSpace: async () => 64 * 1024 * 1024 + size + 1024 });
    const err = await caught(store.import(archive));
    expect(isSegEarthError(err, 'MODEL_INVALID')).toBe(true);
    expect((err as Error).message).toContain(`more than the ${size + 1024} bytes allowed`);
    expect(await stagingEntries()).toEqual([]);
  });

  it.skipIf(!havePython)('a zip entry that inflates past its declared size stops at once', async () => {
    const dir = await writeBundle(path.join(ts.root, 'src'), { id: 'z', files: { 'llm.onnx.data': Buffer.alloc(4 * 1024 * 1024) } });
    const zip = await zipWithPython(dir, path.join(ts.root, 'z.zip'));
    const entry = (await readZipEntries(zip)).find((e) => e.name === 'z/llm.onnx.data')!;
    const buf = await readFile(zip);
    // Lower the central directory's uncompressed size of that entry to 1000 bytes.
    const name = Buffer.from('z/llm.onnx.data');
    let cd = buf.lastIndexOf(name);
    cd -= 46;
    expect(buf.readUInt32LE(cd)).toBe(0x02014b50);
    expect(buf.readUInt32LE(cd + 24)).toBe(entry.size);
    buf.writeUInt32LE(1000, cd + 24);
    await writeFile(zip, buf);
    const store = new ModelStore({ locations: ts.locations });
    const err = await caught(store.import(zip));
    expect(isSegEarthError(err, 'MODEL_INVALID')).toBe(true);
    // Either the manifest bound or the per-entry bound stops it; never a CRC check after the whole write.
    expect((err as Error).message).toMatch(/inflates past its declared 1000 bytes/);
    expect(await stagingEntries()).toEqual([]);
  });
});

describe('ModelStore.verify', () => {
  it('detects a flipped byte (and, with force, one hidden behind a restored mtime)', async () => {
    const store = new ModelStore({ locations: ts.locations });
    const m = await store.import(await writeBundle(src, { id: 'er' }));
    const f = path.join(m.dir, 'image.onnx.data');
    // File-system clocks tick coarsely; give every edit its own mtime, as edits minutes apart would have.
    const edit = async (content: Buffer, second: number): Promise<void> => {
      await writeFile(f, content);
      await utimes(f, second, second);
    };
    const b = await readFile(f);
    b[1234] ^= 0x01;
    await edit(b, 1_700_000_001);

    const listed = (await store.list()).models[0];
    expect(listed.verify.state).toBe('unverified'); // changed since the last hash; list does not hash by default
    const v = await store.verify('er');
    expect(v.verify.state).toBe('failed');
    expect(v.verify.hashedFiles).toBe(1); // the nine untouched files came from the cache
    expect(v.verify.problems).toEqual([
      { path: 'image.onnx.data', problem: 'sha256', detail: expect.stringContaining('image.onnx.data has sha256') },
    ]);
    expect((await store.list()).models[0].verify.state).toBe('failed'); // remembered

    b[1234] ^= 0x01; // repaired
    await edit(b, 1_700_000_002);
    expect((await store.verify('er')).verify.state).toBe('verified');

    // Damage that keeps size and mtime fools the cache; --force re-hashes everything.
    b[4000] ^= 0x80;
    await edit(b, 1_700_000_002);
    expect((await store.verify('er')).verify.state).toBe('verified');
    const forced = await store.verify('er', { force: true });
    expect(forced.verify.state).toBe('failed');
    expect(forced.verify.hashedFiles).toBe(10);
  });

  it('a long-lived store sees verification results written by another process', async () => {
    const app = new ModelStore({ locations: ts.locations });
    await writeBundle(ts.locations.installDir, { id: 'er' }); // copied by hand: never hashed
    expect((await app.list()).models[0].verify.state).toBe('unverified');
    const cli = new ModelStore({ locations: ts.locations });
    expect((await cli.verify('er')).verify.state).toBe('verified');
    expect((await app.list()).models[0].verify.state).toBe('verified');
  });

  it('reports missing files and wrong sizes without hashing them', async () => {
    const store = new ModelStore({ locations: ts.locations });
    const m = await store.import(await writeBundle(src, { id: 'er' }));
    await writeFile(path.join(m.dir, 'weights.json'), '{}');
    const { rm } = await import('node:fs/promises');
    await rm(path.join(m.dir, 'tokenizer.json'));
    const v = await store.verify('er');
    expect(v.verify.state).toBe('failed');
    expect(v.verify.problems.map((p) => [p.path, p.problem])).toEqual([
      ['tokenizer.json', 'missing'],
      ['weights.json', 'size'],
    ]);
  });
});

describe('ModelStore locations, defaults and removal', () => {
  it('lists shipped bundles read-only after the user ones, shadows duplicate ids and refuses to remove shipped ones', async () => {
    const shipped = ts.locations.searchDirs.find((d) => d.kind === 'shipped')!.dir;
    await writeBundle(shipped, { id: 'er', precision: 'fp16' });
    await writeBundle(shipped, { id: 'tiny', variant: 'tiny-test' });
    await mkdir(path.join(shipped, 'broken'), { recursive: true });
    await writeFile(path.join(shipped, 'broken', 'manifest.json'), '{"formatVersion":1}');
    const store = new ModelStore({ locations: ts.locations });
    await store.import(await writeBundle(src, { id: 'er' }));
    const { models, broken } = await store.list();
    expect(models.map((m) => [m.id, m.location, m.writable, m.precision, m.testFixture])).toEqual([
      ['er', 'user', true, 'fp32', false],
      ['tiny', 'shipped', false, 'fp32', true],
    ]);
    expect(models[0].shadows).toEqual([path.join(shipped, 'er')]);
    expect(broken).toHaveLength(1);
    expect(broken[0].reason).toContain('not a valid model bundle manifest');
    expect(isSegEarthError(await caught(store.remove('tiny')), 'OUTPUT_NOT_WRITABLE')).toBe(true);
    // Removing the user copy uncovers the shipped one.
    await store.remove('er');
    expect((await store.get('er')).location).toBe('shipped');
    expect(isSegEarthError(await caught(store.remove('nope')), 'MODEL_NOT_FOUND')).toBe(true);
  });

  it('chooses the default per variant, persists it atomically and falls back when it is removed', async () => {
    const store = new ModelStore({ locations: ts.locations });
    await store.import(await writeBundle(src, { id: 'er-a' }));
    await store.import(await writeBundle(src, { id: 'er-b', precision: 'fp16' }));
    await store.import(await writeBundle(src, { id: 'rr', variant: 'rrsis-d' }));
    expect(await store.defaults()).toEqual({ earthreason: 'er-a', 'rrsis-d': 'rr', refsegrs: null, 'tiny-test': null });
    expect(await store.setDefault('er-b')).toBe('earthreason');
    expect((await store.resolveDefault('earthreason'))?.id).toBe('er-b');
    expect((await store.resolveDefault())?.id).toBe('er-b');
    expect(await store.resolveDefault('refsegrs')).toBeNull();
    expect(await readModelSettings(ts.locations.settingsFile)).toEqual({ version: 1, defaults: { earthreason: 'er-b' } });
    expect((await readdir(path.dirname(ts.locations.settingsFile))).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    const listed = (await store.list()).models;
    expect(listed.filter((m) => m.isDefault).map((m) => m.id)).toEqual(['er-b', 'rr']);
    await store.remove('er-b');
    expect(await readModelSettings(ts.locations.settingsFile)).toEqual({ version: 1, defaults: {} });
    expect((await store.resolveDefault('earthreason'))?.id).toBe('er-a');
    expect(isSegEarthError(await caught(store.setDefault('zzz')), 'MODEL_NOT_FOUND')).toBe(true);
  });

  it('reports a damaged settings file instead of silently dropping the defaults, but still lists models', async () => {
    await mkdir(path.dirname(ts.locations.settingsFile), { recursive: true });
    await writeFile(ts.locations.settingsFile, '{ nope');
    const store = new ModelStore({ locations: ts.locations });
    const err = await caught(store.defaults());
    expect(isSegEarthError(err, 'BAD_ARGUMENT')).toBe(true);
    expect((err as Error).message).toContain('damaged');
    // list still shows the models (with automatic defaults) and reports the settings file as broken.
    await writeBundle(ts.locations.installDir, { id: 'er' });
    const { models, broken } = await store.list();
    expect(models.map((m) => [m.id, m.isDefault])).toEqual([['er', true]]);
    expect(broken).toEqual([{ dir: ts.locations.settingsFile, location: 'user', reason: expect.stringContaining('damaged') }]);
  });

  it('cleans leftovers of interrupted imports but keeps partial downloads', async () => {
    const store = new ModelStore({ locations: ts.locations });
    await mkdir(path.join(ts.locations.stagingDir, 'import-x-1'), { recursive: true });
    await writeFile(path.join(ts.locations.stagingDir, `${sha256('a')}.partial`), 'abc');
    await writeFile(path.join(ts.locations.stagingDir, `${sha256('b')}.archive`), 'abc');
    expect((await store.cleanStaging()).sort()).toEqual([`${sha256('b')}.archive`, 'import-x-1']);
    expect(await readdir(ts.locations.stagingDir)).toEqual([`${sha256('a')}.partial`]);
  });

  it('folderSize counts every regular file', async () => {
    const dir = await writeBundle(src, { id: 'x' });
    const m = await stat(path.join(dir, 'manifest.json'));
    expect(await folderSize(dir)).toBe(3000 + 5000 + 1000 + 4000 + 900 + 700 + 512 + 300 + 12 + 44 + m.size);
  });

  it('explains a models folder that cannot be created (SEGEARTH_MODELS_DIR pointing at a file)', async () => {
    const notADir = path.join(ts.root, 'file');
    await writeFile(notADir, 'x');
    const locations = resolveModelLocations({ env: { SEGEARTH_DATA_DIR: path.join(ts.root, 'data'), SEGEARTH_MODELS_DIR: notADir }, shippedDir: null });
    const store = new ModelStore({ locations });
    const err = await caught(store.import(await writeBundle(src, { id: 'x' })));
    expect(isSegEarthError(err, 'OUTPUT_NOT_WRITABLE')).toBe(true);
    expect((err as Error).message).toContain('(ENOTDIR)');
    const err2 = await caught(store.download('http://127.0.0.1:9/x.tar.gz', { sha256: sha256('x') }));
    expect(isSegEarthError(err2, 'OUTPUT_NOT_WRITABLE')).toBe(true);
  });

  it('refuses to install into a read-only models folder with a clear message', async () => {
    if (process.getuid?.() === 0) {
      console.log('skipped: running as root, permissions are not enforced');
      return;
    }
    await mkdir(ts.locations.installDir, { recursive: true });
    await chmod(ts.locations.installDir, 0o500);
    const store = new ModelStore({ locations: ts.locations });
    const err = await caught(store.import(await writeBundle(src, { id: 'ro' })));
    await chmod(ts.locations.installDir, 0o700);
    expect((err as Error).message).toMatch(/EACCES|permission/i);
  });
});

describe('the real tiny bundle (test fixture from tools/export)', () => {
  it('imports from its folder, verifies, and lists as a test fixture', async () => {
    const tiny = await ensureTinyBundle();
    const store = new ModelStore({ locations: ts.locations });
    const m = await store.import(tiny);
    expect(m).toMatchObject({ id: 'tiny-test', variant: 'tiny-test', testFixture: true, precision: 'fp32', sourceCheckpoint: 'synthetic' });
    expect(m.verify.state).toBe('verified');
    const again = await store.verify('tiny-test', { force: true });
    expect(again.verify).toMatchObject({ state: 'verified', hashedFiles: m.verify.checkedFiles });
  }, 600_000); // generating the tiny bundle (Python) can take minutes on a loaded machine
});
