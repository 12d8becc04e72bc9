/**
 * @module cli/index
 * `segearth` entry point (run by bin/segearth.js). Never imports Electron: the CLI uses src/geo and
 * src/inference directly. Sub-commands are listed in `cli/commandList`. gdal-async is loaded without the
 * packages it needs only later (`geo/gdalLoad`): the commands load it, so that is set up first.
 */
import { deferGdalDependencies } from '../geo/gdalLoad.js';
import { COMMANDS } from './commandList.js';
import { runCli } from './run.js';

deferGdalDependencies();
process.exitCode = await runCli(process.argv, COMMANDS);
