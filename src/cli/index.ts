/**
 * @module cli/index
 * `segearth` entry point (run by bin/segearth.js). Never imports Electron: the CLI uses src/geo and
 * src/inference directly.
 *
 * To add a sub-command, write `commands/<name>.ts` exporting `register(program, context)` (see
 * `cli/context`) and add ONE line to COMMANDS below. Modules load lazily, so heavy dependencies stay inside
 * the commands that need them.
 */
import { runCli, type CommandLoader } from './run.js';

const COMMANDS: CommandLoader[] = [
  () => import('./commands/info.js'),
  () => import('./commands/vectorize.js'),
  () => import('./commands/ask.js'),
  () => import('./commands/batch.js'),
  () => import('./commands/merge.js'),
  () => import('./commands/models.js'),
];

process.exitCode = await runCli(process.argv, COMMANDS);
