/**
 * @module inference/batch/journal
 * The batch journal: one JSON line per state change of a (scene, question) item, appended and fsync'ed to
 * `journal.jsonl` in the output folder before the batch moves on. After a crash or `kill -9` the journal says
 * exactly which items finished (their outputs were renamed into place before the `done` line was written),
 * which failed and why; everything else is run again. A torn last line (killed mid-write) is ignored.
 */
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ErrorPayloadSchema } from '../../shared/errors.js';

export const JOURNAL_FILE = 'journal.jsonl';

export const JournalRecordSchema = z.object({
  /** Scene path relative to the input folder, forward slashes. */
  scene: z.string(),
  /** 0-based index into the plan's questions. */
  question: z.number().int().nonnegative(),
  state: z.enum(['started', 'done', 'failed']),
  at: z.string(),
  seconds: z.number().nonnegative().optional(),
  polygons: z.number().int().nonnegative().optional(),
  totalAreaM2: z.number().nonnegative().optional(),
  /** Output files of this item, relative to the output folder. */
  outputs: z.array(z.string()).optional(),
  error: ErrorPayloadSchema.optional(),
});
export type JournalRecord = z.infer<typeof JournalRecordSchema>;

export function itemKey(scene: string, question: number): string {
  return `${question}\u0000${scene}`;
}

/** Latest record per item, in the order items first appeared. */
export async function readJournal(outputFolder: string): Promise<Map<string, JournalRecord>> {
  const text = await readFile(join(outputFolder, JOURNAL_FILE), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  const latest = new Map<string, JournalRecord>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue; // torn line from a crash mid-append
    }
    const rec = JournalRecordSchema.safeParse(parsed);
    if (rec.success) latest.set(itemKey(rec.data.scene, rec.data.question), rec.data);
  }
  return latest;
}

/** Appends records durably (write + fsync) so a `done` line is never ahead of a lost output. */
export class JournalWriter {
  private constructor(private readonly handle: import('node:fs/promises').FileHandle) {}

  static async open(outputFolder: string): Promise<JournalWriter> {
    const handle = await open(join(outputFolder, JOURNAL_FILE), 'a');
    return new JournalWriter(handle);
  }

  async append(record: JournalRecord): Promise<void> {
    await this.handle.write(JSON.stringify(JournalRecordSchema.parse(record)) + '\n');
    await this.handle.sync();
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
