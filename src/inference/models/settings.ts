/**
 * @module inference/models/settings
 * The default model per variant, kept in `<data folder>/model-settings.json`. Written atomically
 * (`./atomicJson`), so a crash never leaves half a settings file.
 */
import { readFile } from 'node:fs/promises';
import { SegEarthError } from '../../shared/errors.js';
import { writeJsonAtomic } from './atomicJson.js';
import { type ModelSettings, ModelSettingsSchema } from './types.js';

/** Reads the settings; a missing file gives the empty settings, a damaged one is reported, not ignored. */
export async function readModelSettings(file: string): Promise<ModelSettings> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, defaults: {} };
    throw err;
  }
  let parsed;
  try {
    parsed = ModelSettingsSchema.safeParse(JSON.parse(text));
  } catch {
    parsed = undefined;
  }
  if (!parsed?.success) {
    throw new SegEarthError('BAD_ARGUMENT', `The model settings file ${file} is damaged.`, {
      hint: 'Delete it and choose the default models again (`segearth models default <id>`).',
      path: file,
    });
  }
  return parsed.data;
}

export async function writeModelSettings(file: string, settings: ModelSettings): Promise<void> {
  await writeJsonAtomic(file, ModelSettingsSchema.parse(settings));
}
