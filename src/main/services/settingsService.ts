/**
 * @module main/services/settingsService
 * Analyst settings (model folder, execution provider, basemap, default threshold / minimum area, recent
 * files) in a JSON file in the app's data folder, written atomically.
 */
import { join } from 'node:path';
import { SettingsSchema, type Settings, type SettingsPatch } from '../../shared/api/dto.js';
import type { EventBus } from '../events.js';
import { createJsonStore } from './jsonStore.js';

export const DEFAULT_SETTINGS: Settings = {
  modelDir: null,
  executionProvider: 'auto',
  basemap: false,
  defaultThreshold: 0.5,
  defaultMinAreaM2: 0,
  recentFiles: [],
};

export const MAX_RECENT = 10;

export interface SettingsService {
  get(): Promise<Settings>;
  update(patch: SettingsPatch): Promise<Settings>;
  addRecent(path: string): Promise<void>;
  clearRecent(): Promise<void>;
}

export function createSettingsService(dataDir: string, events: EventBus, log: (m: string) => void = console.warn): SettingsService {
  const store = createJsonStore(join(dataDir, 'settings.json'), SettingsSchema, DEFAULT_SETTINGS, log);
  return {
    get: () => store.read(),
    async update(patch) {
      const next = await store.update((current) => ({ ...current, ...patch }));
      events.emit('settings.changed', next);
      return next;
    },
    async addRecent(path) {
      const next = await store.update((current) => ({
        ...current,
        recentFiles: [path, ...current.recentFiles.filter((p) => p !== path)].slice(0, MAX_RECENT),
      }));
      events.emit('settings.changed', next);
    },
    async clearRecent() {
      events.emit('settings.changed', await store.update((current) => ({ ...current, recentFiles: [] })));
    },
  };
}
