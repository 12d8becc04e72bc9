/**
 * Settings on disk: validated, atomic writes (no temporary file left behind), defaults when the file is
 * missing or damaged, recent files de-duplicated and bounded, concurrent updates not lost.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEventBus } from '../../src/main/events.js';
import { createSettingsService, DEFAULT_SETTINGS, MAX_RECENT } from '../../src/main/services/settingsService.js';
import type { RpcEvent } from '../../src/shared/api/rpc.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'segearth-settings-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('settings store', () => {
  it('starts from the defaults, basemap off', async () => {
    const settings = createSettingsService(dir, createEventBus());
    expect(await settings.get()).toEqual(DEFAULT_SETTINGS);
    expect(DEFAULT_SETTINGS.basemap).toBe(false);
  });

  it('writes atomically and announces the change', async () => {
    const events = createEventBus();
    const seen: RpcEvent[] = [];
    events.subscribe((e) => seen.push(e));
    const settings = createSettingsService(dir, events);
    await settings.update({ executionProvider: 'cpu', defaultThreshold: 0.4 });
    const onDisk = JSON.parse(await readFile(join(dir, 'settings.json'), 'utf8')) as typeof DEFAULT_SETTINGS;
    expect(onDisk.executionProvider).toBe('cpu');
    expect(onDisk.defaultThreshold).toBe(0.4);
    expect(await readdir(dir)).toEqual(['settings.json']);
    expect(seen.map((e) => e.event)).toEqual(['settings.changed']);
  });

  it('falls back to the defaults for a damaged file and reports it', async () => {
    await writeFile(join(dir, 'settings.json'), '{"basemap": tru');
    const problems: string[] = [];
    const settings = createSettingsService(dir, createEventBus(), (m) => problems.push(m));
    expect(await settings.get()).toEqual(DEFAULT_SETTINGS);
    expect(problems[0]).toContain('not valid JSON');
    await writeFile(join(dir, 'settings.json'), JSON.stringify({ defaultThreshold: 7 }));
    expect((await settings.get()).defaultThreshold).toBe(0.5);
    expect(problems[1]).toContain('invalid values');
  });

  it('keeps recent files unique, newest first, bounded, and can clear them', async () => {
    const settings = createSettingsService(dir, createEventBus());
    for (let i = 0; i < MAX_RECENT + 3; i++) await settings.addRecent(`/data/scene${i}.tif`);
    await settings.addRecent('/data/scene5.tif');
    const recent = (await settings.get()).recentFiles;
    expect(recent).toHaveLength(MAX_RECENT);
    expect(recent[0]).toBe('/data/scene5.tif');
    expect(recent.filter((p) => p === '/data/scene5.tif')).toHaveLength(1);
    await settings.clearRecent();
    expect((await settings.get()).recentFiles).toEqual([]);
  });

  it('does not lose concurrent updates', async () => {
    const settings = createSettingsService(dir, createEventBus());
    await Promise.all([settings.addRecent('/a.tif'), settings.update({ basemap: true }), settings.addRecent('/b.tif')]);
    const s = await settings.get();
    expect(s.basemap).toBe(true);
    expect([...s.recentFiles].sort()).toEqual(['/a.tif', '/b.tif']);
  });
});
