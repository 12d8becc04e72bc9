/**
 * Decompression bombs: an archive must stop unpacking as soon as it exceeds what it declares (a zip entry
 * inflating past its central-directory size) or what the bundle's manifest lists (a tar.gz with a huge
 * entry), not after filling the disk; nothing is left in the staging folder.
 */
import { readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSegEarthError } from '../../src/shared/errors.js';
import { ModelStore } from '../../src/inference/models/ModelStore.js';
import { readZipEntries } from '../../src/inference/models/zip.js';
import { packBundle, PYTHON, tempStore, type TempStore, writeBundle, zipWithPython } from './helpers.js';

let ts: TempStore;
beforeEach(async () => {
  ts = await tempStore();
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
  return existsSync(ts.locations.stagingDir) ? readdir(ts.locations.stagingDir) : [];
}

const havePython = existsSync(PYTHON);

describe('archive bombs', () => {
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
