/**
 * @module inference/models/settings
 * The default model per variant, kept in `<data folder>/model-settings.json`. Written atomically (temp file
 * in the same folder, fsync, rename), so a crash never leaves half a settings file.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { SegEarthError } from '../../shared/errors.js';
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

/** Writes JSON to a temp file beside `file`, flushes it to disk and renames it over `file`. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const dir = path.dirname(file);
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw notWritable(dir, err);
  }
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(JSON.stringify(value, null, 2) + '\n');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw notWritable(file, err);
  }
}

function notWritable(where: string, cause: unknown): SegEarthError {
  return new SegEarthError('OUTPUT_NOT_WRITABLE', `Cannot write ${where}: ${(cause as Error).message}.`, {
    hint: 'Check the permissions of the SegEarth data folder, or set SEGEARTH_DATA_DIR to a writable folder.',
    path: where,
    cause,
  });
}
