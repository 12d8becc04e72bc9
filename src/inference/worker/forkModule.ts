/**
 * @module inference/worker/forkModule
 * Forks one of this folder's entry modules as a Node child process with an IPC channel: the compiled `.js`
 * next to the caller when there is one, else the `.ts` source through tsx. Messages use `advanced`
 * serialization (structured clone), so typed arrays arrive as typed arrays, not as parsed JSON. In Electron's
 * main process `ELECTRON_RUN_AS_NODE=1` makes the Electron binary run the module as Node (with the native
 * modules built for Electron's ABI). The child never writes to this process's stdout (the CLI's `--json`
 * output lives there): its stdout and stderr both go to this process's stderr.
 */
import { fork, type ChildProcess, type ForkOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** `name` without extension (e.g. `geo.process`), resolved next to `baseUrl` (the caller's `import.meta.url`). */
export function forkModule(baseUrl: string, name: string): ChildProcess {
  const env = { ...process.env, ...(process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {}) };
  const options: ForkOptions = { env, stdio: ['ignore', 2, 2, 'ipc'], serialization: 'advanced' };
  const js = fileURLToPath(new URL(`./${name}.js`, baseUrl));
  if (existsSync(js)) return fork(js, [], { ...options, execArgv: [] });
  const ts = fileURLToPath(new URL(`./${name}.ts`, baseUrl));
  return fork(ts, [], { ...options, execArgv: ['--import', import.meta.resolve('tsx')] });
}
