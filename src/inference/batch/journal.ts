/**
 * @module inference/batch/journal
 * The batch journal: one JSON line per state change of a (scene, question) item, appended and fsync'ed to
 * `journal.jsonl` in the output folder before the batch moves on. After a crash or `kill -9` the journal says
 * exactly which items finished (their outputs were renamed into place before the `done` line was written),
 * which failed and why; everything else is run again. A torn last line (killed mid-write) is ignored when read,
 * and the next writer ends it with a newline first, so its own first line is never glued onto the torn one.
 *
 * Shared output folders (cluster job arrays): each shard of a batch appends to a journal of its own,
 * `journal.shard-<i>-of-<n>.jsonl`, so tasks on several nodes never append to one file at once (O_APPEND is not
 * atomic across NFS clients). Reading a folder reads every journal in it: a scene belongs to exactly one shard,
 * and where two journals speak of the same item (a shard, then an unsharded resume) a finished state wins.
 */
import { open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ErrorPayloadSchema } from '../../shared/errorPayloadSchema.js';

export const JOURNAL_FILE = 'journal.jsonl';
const SHARD_JOURNAL = /^journal\.shard-(\d+)-of-(\d+)\.jsonl$/;

/** The journal a run writes: `journal.jsonl`, or `journal.shard-<i>-of-<n>.jsonl` for shard i/n. */
export function journalFileName(shard: { index: number; count: number } | null): string {
  return shard ? `journal.shard-${shard.index}-of-${shard.count}.jsonl` : JOURNAL_FILE;
}

/** Journal files in a folder: the shards' (by shard number), then the unsharded one (a later resume). */
export async function journalFiles(outputFolder: string): Promise<string[]> {
  const names = await readdir(outputFolder).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  const shardNumber = (name: string): number => Number(SHARD_JOURNAL.exec(name)?.[1]);
  const shards = names.filter((n) => SHARD_JOURNAL.test(n)).sort((a, b) => shardNumber(a) - shardNumber(b) || (a < b ? -1 : 1));
  return [...shards, ...(names.includes(JOURNAL_FILE) ? [JOURNAL_FILE] : [])];
}

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
  /** Something the analyst should know about a finished item (e.g. a scene without a CRS). */
  note: z.string().optional(),
});
export type JournalRecord = z.infer<typeof JournalRecordSchema>;

export function itemKey(scene: string, question: number): string {
  return `${question}\u0000${scene}`;
}

const RANK = { started: 0, failed: 1, done: 2 } as const;

/** Latest record per item of one journal file, in the order items first appeared. */
async function readJournalFile(path: string): Promise<Map<string, JournalRecord>> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
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

/**
 * Latest record per item over every journal of the folder (`journalFiles`), in the order items first appeared.
 * Within a file the last line wins; across files the more finished state (done > failed > started) wins.
 */
export async function readJournal(outputFolder: string): Promise<Map<string, JournalRecord>> {
  const merged = new Map<string, JournalRecord>();
  for (const name of await journalFiles(outputFolder)) {
    for (const [key, rec] of await readJournalFile(join(outputFolder, name))) {
      const prev = merged.get(key);
      if (!prev || RANK[rec.state] >= RANK[prev.state]) merged.set(key, rec);
    }
  }
  return merged;
}

/** Appends records durably (write + fsync) so a `done` line is never ahead of a lost output. */
export class JournalWriter {
  private constructor(private readonly handle: import('node:fs/promises').FileHandle) {}

  /** Opens `fileName` (default `journal.jsonl`) for appending; a torn last line is ended first. */
  static async open(outputFolder: string, fileName: string = JOURNAL_FILE): Promise<JournalWriter> {
    const handle = await open(join(outputFolder, fileName), 'a+');
    try {
      const { size } = await handle.stat();
      if (size > 0) {
        const last = Buffer.alloc(1);
        await handle.read(last, 0, 1, size - 1);
        if (last[0] !== 0x0a) {
          await handle.write('\n');
          await handle.sync();
        }
      }
    } catch (err) {
      await handle.close();
      throw err;
    }
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
