/**
 * @module main/services/jsonStore
 * A small JSON document on disk (settings, window state, recent files), validated with zod on every read and
 * written atomically and durably (`inference/models/atomicJson`: temp file, fsync, rename), so a crash mid-write never leaves a
 * half-written settings file. A missing or unreadable file yields the defaults, with the problem reported.
 */
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { writeJsonAtomic } from '../../inference/models/atomicJson.js';

export interface JsonStore<T> {
  read(): Promise<T>;
  write(value: T): Promise<void>;
  update(change: (current: T) => T): Promise<T>;
}

export function createJsonStore<S extends z.ZodType>(
  file: string,
  schema: S,
  defaults: z.output<S>,
  onProblem: (message: string) => void = () => {},
): JsonStore<z.output<S>> {
  type T = z.output<S>;
  let queue: Promise<unknown> = Promise.resolve();

  const read = async (): Promise<T> => {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') onProblem(`cannot read ${file}: ${(err as Error).message}`);
      return structuredClone(defaults);
    }
    try {
      const parsed = schema.safeParse({ ...(defaults as object), ...(JSON.parse(text) as object) });
      if (parsed.success) return parsed.data;
      onProblem(`${file} has invalid values (${parsed.error.issues[0]?.message}); using defaults`);
    } catch {
      onProblem(`${file} is not valid JSON; using defaults`);
    }
    return structuredClone(defaults);
  };

  const write = async (value: T): Promise<void> => {
    await writeJsonAtomic(file, schema.parse(value));
  };

  // Serialise read-modify-write cycles so concurrent updates do not lose each other.
  const serial = <R>(task: () => Promise<R>): Promise<R> => {
    const next = queue.then(task, task);
    queue = next.catch(() => undefined);
    return next;
  };

  return {
    read: () => serial(read),
    write: (value) => serial(() => write(value)),
    update: (change) =>
      serial(async () => {
        const next = change(await read());
        await write(next);
        return next;
      }),
  };
}
