/**
 * @module cli/commandList
 * The `segearth` sub-commands, one line each: the name typed after `segearth` and the module registering it
 * (`commands/<name>.ts` exporting `register(program, context)`, see `cli/context`). Only the module of the
 * command being run is loaded (all of them for help, see `cli/run`), so one command's heavy dependencies
 * (GDAL, onnxruntime) never slow another's start; a test checks that each name is the command its module
 * registers.
 */
import type { CommandLoader } from './run.js';

export const COMMANDS: CommandLoader[] = [
  { name: 'info', load: () => import('./commands/info.js') },
  { name: 'vectorize', load: () => import('./commands/vectorize.js') },
  { name: 'ask', load: () => import('./commands/ask.js') },
  { name: 'batch', load: () => import('./commands/batch.js') },
  { name: 'merge', load: () => import('./commands/merge.js') },
  { name: 'models', load: () => import('./commands/models.js') },
];
