/**
 * The Get state file (`<data>/model-get.json`): what one service instance records, a new one over the same
 * data folder reads back — a running Get as paused (the app stopped under it) — and the file is always whole
 * JSON that the contract's schema accepts, with no temporary files left beside it.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GET_STATE_FILE, openGetStateFile } from '../../src/main/services/getStateFile.js';
import { GetStateSchema, type GetState } from '../../src/shared/api/modelReleaseDto.js';

let dir: string;
const REPO = 'earth-insights/SegEarth-R1-EarthReason';
const running: GetState = {
  status: 'running',
  taskId: 'task-3',
  precision: 'cpu',
  phase: 'download',
  downloadedBytes: 1234,
  totalBytes: 5000,
  updatedAt: '2026-12-05T04:00:00.000Z',
  error: null,
};

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'segearth-getstate-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Get state file', () => {
  it('survives a restart: a running Get reads back as paused at the same bytes', async () => {
    const first = await openGetStateFile(dir);
    expect(first.all().size).toBe(0);
    await first.set(REPO, running);
    const onDisk = JSON.parse(await readFile(path.join(dir, GET_STATE_FILE), 'utf8')) as { version: number; gets: Record<string, unknown> };
    expect(onDisk.version).toBe(1);
    expect(GetStateSchema.parse(onDisk.gets[REPO])).toEqual(running);

    const second = await openGetStateFile(dir);
    expect(second.get(REPO)).toEqual({ ...running, status: 'paused', taskId: null });
    expect((await readdir(dir)).sort()).toEqual([GET_STATE_FILE]); // no temp file left
  });

  it('queues writes: the last state wins, and delete removes it', async () => {
    const file = await openGetStateFile(dir);
    await Promise.all([1, 2, 3, 4, 5].map((n) => file.set(REPO, { ...running, downloadedBytes: n * 1000 })));
    expect((await openGetStateFile(dir)).get(REPO)?.downloadedBytes).toBe(5000);
    await file.delete(REPO);
    expect((await openGetStateFile(dir)).all().size).toBe(0);
  });

  it('starts empty from a damaged file instead of failing', async () => {
    await writeFile(path.join(dir, GET_STATE_FILE), '{"version": 1, "gets": {');
    expect((await openGetStateFile(dir)).all().size).toBe(0);
  });
});
