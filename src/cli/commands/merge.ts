/**
 * @module cli/commands/merge
 * `segearth merge <shard-output>... -o <out>`: joins the output folders of `segearth batch --shard i/n` runs into
 * one folder identical to an unsharded run (per-scene outputs, journal, summaries, merged.gpkg); without `-o`, finishes
 * in place the one output folder that all shards wrote into (summaries and merged.gpkg of the whole batch).
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { mergeShards } from '../../inference/batch/mergeShards.js';
import type { CliContext } from '../context.js';

export function register(program: Command, context: CliContext): void {
  program
    .command('merge')
    .description('merge the output folders of the shards of one batch')
    .argument('<folders...>', 'output folders of every shard (or the one folder they all wrote into)')
    .option('-o, --output <folder>', 'new or empty output folder (default: finish the one shared folder in place)')
    .option('--json', 'print the merged summary as JSON on stdout')
    .action(async (folders: string[], options: { output?: string; json?: boolean }) => {
      const summary = await mergeShards(folders, options.output ?? null);
      const t = summary.totals;
      if (options.json) context.out(`${JSON.stringify(summary, null, 2)}\n`);
      else context.out(`${folders.length} shard(s): ${t.done} done, ${t.failed} failed, ${t.pending} pending, ${t.polygons} polygon(s) → ${resolve(options.output ?? folders[0] ?? '.')}\n`);
      if (t.pending > 0) context.err(`warning: ${t.pending} item(s) never finished in their shard; resume those shards with --resume, then merge again.\n`);
    });
}
