/**
 * @module cli/index
 * `segearth` entry point (run by bin/segearth.js). Never imports Electron: the CLI uses src/geo and
 * src/inference directly. Sub-commands are listed in `cli/commandList`.
 */
import { COMMANDS } from './commandList.js';
import { runCli } from './run.js';

process.exitCode = await runCli(process.argv, COMMANDS);
