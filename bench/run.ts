/**
 * @module bench/run
 * `npm run bench`: every benchmark, one after another, each in its own process (so one's caches and memory
 * never flatter the next), printing each one's table. `npm run bench -- geo` runs only the names given
 * (geo-read, geo-vectorize, model, batch; `geo` = both geo benchmarks).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const ALL = ['geo-read', 'geo-vectorize', 'model', 'batch'] as const;
const GROUPS: Record<string, readonly string[]> = { geo: ['geo-read', 'geo-vectorize'] };

const asked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = asked.length === 0 ? [...ALL] : asked.flatMap((a) => GROUPS[a] ?? [a]);
let failed = 0;
for (const name of names) {
  if (!(ALL as readonly string[]).includes(name)) {
    console.error(`unknown benchmark "${name}"; choose from ${ALL.join(', ')} (or geo)`);
    process.exit(2);
  }
  console.log(`\n## ${name}\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, `${name}.bench.ts`)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed += 1;
    console.error(`benchmark ${name} failed (exit ${r.status})`);
  }
}
process.exitCode = failed ? 1 : 0;
