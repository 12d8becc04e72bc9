/**
 * @module main/services/getStateFile
 * How far each Get of a released checkpoint got, kept in `<data folder>/model-get.json` so that pause and
 * resume survive a restart of the app: the Model & device card then says "paused at N %" and offers Resume.
 * The file is rewritten atomically (`inference/models/atomicJson`: write-file-atomic's temp file, fsync, rename)
 * and writes are queued, so a crash leaves the previous state, never half a file. A Get that was running when
 * the app stopped reads back as paused (its partial downloads are still in the download cache).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../../inference/models/atomicJson.js';
import { GetStateSchema, HubRepoSchema, type GetState } from '../../shared/api/modelReleaseDto.js';

const GetStateFileSchema = z.object({
  version: z.literal(1),
  gets: z.record(HubRepoSchema, GetStateSchema),
});

export const GET_STATE_FILE = 'model-get.json';

export interface GetStateFile {
  /** Every Get with a state (running, paused, failed), by repository. */
  all(): ReadonlyMap<string, GetState>;
  get(repo: string): GetState | undefined;
  /** Records a Get's state (written to disk before the promise resolves). */
  set(repo: string, state: GetState): Promise<void>;
  delete(repo: string): Promise<void>;
}

/** Loads the state of `dataDir`; a missing or unreadable file starts empty (it only holds progress). */
export async function openGetStateFile(dataDir: string): Promise<GetStateFile> {
  const file = path.join(dataDir, GET_STATE_FILE);
  const gets = new Map<string, GetState>();
  try {
    const parsed = GetStateFileSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    if (parsed.success) {
      for (const [repo, state] of Object.entries(parsed.data.gets)) {
        gets.set(repo, state.status === 'running' ? { ...state, status: 'paused', taskId: null } : state);
      }
    }
  } catch {
    // No file yet, or a damaged one: nothing was in progress that we can tell.
  }
  let queue: Promise<void> = Promise.resolve();
  const save = (): Promise<void> => {
    const snapshot = { version: 1 as const, gets: Object.fromEntries(gets) };
    queue = queue.catch(() => undefined).then(() => writeJsonAtomic(file, snapshot));
    return queue;
  };
  return {
    all: () => gets,
    get: (repo) => gets.get(repo),
    set(repo, state) {
      gets.set(repo, state);
      return save();
    },
    delete(repo) {
      if (!gets.delete(repo)) return queue;
      return save();
    },
  };
}
