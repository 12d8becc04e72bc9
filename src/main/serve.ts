/**
 * @module main/serve
 * `npm run serve [-- --port N] [--root <folder>]...`: SegEarth in a browser. Serves the built renderer and
 * the API on 127.0.0.1 only and prints the URL with its access token. Files are confined to the roots
 * (default: the current folder).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isSegEarthError } from '../shared/errors.js';
import { REPO_ROOT, startServerApp } from './serverApp.js';

const USAGE = `Usage: npm run serve -- [--port N] [--root <folder>]... [--data-dir <folder>] [--model <bundle folder>]

Serves SegEarth Desktop to a browser on http://127.0.0.1 (never on other interfaces).
  --port N          port to listen on (default: a free one)
  --root <folder>   folder the browser may open files from and export to (repeatable; default: current folder)
  --data-dir <dir>  settings and result cache (default: ~/.config/segearth-desktop)
  --model <dir>     model bundle folder (default: the one in the settings, else the installed default)`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      root: { type: 'string', multiple: true },
      'data-dir': { type: 'string' },
      model: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number, not ${values.port}`);
  if (values.model) process.env.SEGEARTH_MODEL_DIR = resolve(values.model);
  const roots = (values.root ?? [process.cwd()]).map((r) => resolve(r));
  const staticDir = join(REPO_ROOT, 'dist-renderer');
  if (!existsSync(join(staticDir, 'index.html'))) {
    console.error('The user interface is not built yet: run `npm run build:renderer` (npm run serve does it for you).');
  }
  const app = await startServerApp({
    roots,
    port,
    ...(values['data-dir'] ? { dataDir: resolve(values['data-dir']) } : {}),
    testHooks: process.env.SEGEARTH_TEST_HOOKS === '1',
  });
  console.log(`SegEarth server mode — open this URL in a browser (it holds the access token):\n\n  ${app.server.url}\n`);
  console.log(`Files: ${app.backend.guard.roots.join(', ')}\nStop with Ctrl+C.`);
  const stop = (): void => {
    void app.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  if (isSegEarthError(err)) console.error(`segearth serve: ${err.describe()}`);
  else if (err instanceof Error && err.message.startsWith('--')) console.error(`segearth serve: ${err.message}\n\n${USAGE}`);
  else console.error('segearth serve:', err);
  process.exit(1);
});
