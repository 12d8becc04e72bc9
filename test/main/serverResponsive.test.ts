/**
 * Server mode stays responsive while it vectorizes (issue 15.5): the app's polygon step (the runtime adapter's
 * `polygons`, behind the threshold slider and every answer) runs in the geo process, so `files.list` over HTTP
 * is answered while a vectorize is still in progress. To know for certain that the vectorize has not finished
 * when `files.list` answers — without any timing — the geo process is paused (SIGSTOP) until then.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelStore } from '../../src/inference/models/ModelStore.js';
import { startServerApp, type ServerApp } from '../../src/main/serverApp.js';
import { createRuntimeAdapter } from '../../src/main/services/runtimeAdapter.js';
import type { InferenceBackend } from '../../src/main/services/backends.js';
import { gdalPolygonize } from '../../e2e/support/gdalPolygonize.js';
import { probabilityBlobs } from '../support/probabilityRasters.js';
import { makeTempDir, removeDir } from '../support/syntheticRaster.js';

const haveProc = existsSync('/proc/self/stat');
if (!haveProc) console.warn('serverResponsive: skipped, it finds the geo process through /proc (Linux only).');

/** Child processes of this process whose command line names the geo process. */
function geoProcesses(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return ppid === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('geo.process');
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

let dir: string;
let root: string;
let probability: string;
let runtime: InferenceBackend;
let app: ServerApp;

beforeAll(async () => {
  dir = makeTempDir('segearth-server-responsive-');
  root = join(dir, 'root');
  await mkdir(join(root, 'scenes'), { recursive: true });
  for (let i = 0; i < 20; i++) await writeFile(join(root, 'scenes', `scene_${i}.tif`), 'x');
  probability = probabilityBlobs(join(dir, 'probability.tif'), 2000, 4000, 5);
  runtime = createRuntimeAdapter({ store: new ModelStore(), defaultModelDir: null });
  app = await startServerApp({ roots: [root], dataDir: join(dir, 'data'), runtime, staticDir: null });
}, 120_000);

afterAll(async () => {
  await app?.close();
  removeDir(dir);
});

describe.skipIf(!haveProc)('server mode while vectorizing', () => {
  it('answers files.list before a vectorize in progress finishes; the vectorize then completes', async () => {
    let finished = false;
    const vectorizing = runtime
      .polygons(probability, { threshold: 0.5, minAreaM2: 0 }, { question: 'q', modelId: 'm', bundleSha256: 's', source: 'scene.tif', createdAt: 'now' })
      .finally(() => (finished = true));
    let pids: number[] = [];
    while (pids.length === 0 && !finished) {
      await new Promise((r) => setTimeout(r, 5));
      pids = geoProcesses();
    }
    expect(pids).toHaveLength(1);
    process.kill(pids[0]!, 'SIGSTOP');
    try {
      const res = await fetch(`http://127.0.0.1:${app.server.port}/api/files/list`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${app.server.token}` },
        body: JSON.stringify({ dir: join(root, 'scenes') }),
      });
      const body = (await res.json()) as { ok: boolean; result: { entries: unknown[] } };
      expect(finished).toBe(false);
      expect(body.ok).toBe(true);
      expect(body.result.entries).toHaveLength(20);
    } finally {
      process.kill(pids[0]!, 'SIGCONT');
    }
    const answer = await vectorizing;
    expect(answer.features.length).toBe(gdalPolygonize(probability, 0.5).extents.length);
  }, 180_000);
});
