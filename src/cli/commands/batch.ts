/**
 * @module cli/commands/batch
 * `segearth batch <folder> -q "..." [-q ...] -o <out>`: the same question(s) over every scene of a folder, with
 * the model loaded once. Resumable (`--resume`) after a crash or `kill -9`, shardable (`--shard i/n`) for job
 * arrays; per-scene errors are recorded in summary.json/.csv and the batch goes on. Exit status 0 when the batch
 * ran to the end, even if some scenes failed (they are listed on stderr and in the summary); 130 when cancelled
 * (resume it later with --resume). `--shards n --slurm [file]` prints (or writes) the sbatch script that runs this
 * batch as a Slurm job array instead of running it.
 * `--json`: the summary on stdout, progress as JSON lines on stderr.
 */
import { chmod, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import { SegEarthError } from '../../shared/errors.js';
import { describeChoice, EpRequestSchema } from '../../inference/providers/executionProvider.js';
import { InferenceRuntime } from '../../inference/runtime/runtime.js';
import { OUTPUT_FORMATS, type BatchOptions, type OutputFormat } from '../../inference/batch/batchPlan.js';
import { runBatch, type BatchEvent } from '../../inference/batch/runBatch.js';
import { parseShard } from '../../inference/batch/shard.js';
import { workerSceneProcessor } from '../../inference/batch/workerProcessor.js';
import { writeAtomically } from '../../geo/atomicWrite.js';
import type { CliContext } from '../context.js';
import { jsonProgressWriter } from '../jsonProgress.js';
import { slurmBatchScript } from '../slurmScript.js';
import { resolveModelDir } from './ask.js';

interface BatchCliOptions {
  question: string[];
  output: string;
  model?: string;
  ep: string;
  threads?: string;
  format: string;
  merged: boolean;
  strategy: 'tiled' | 'coarse-to-fine' | 'view';
  threshold: string;
  minArea: string;
  include: string[];
  exclude: string[];
  resume?: boolean;
  shard?: string;
  shards?: string;
  slurm?: string | boolean;
  slurmMem: string;
  slurmTime: string;
  json?: boolean;
}

function bad(message: string, hint: string): SegEarthError {
  return new SegEarthError('BAD_ARGUMENT', message, { hint });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function parseFormats(text: string): OutputFormat[] {
  const formats = text.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  for (const f of formats) {
    if (!(OUTPUT_FORMATS as readonly string[]).includes(f)) {
      throw bad(`--format ${f} is not an output format.`, `Use a comma-separated list of ${OUTPUT_FORMATS.join(', ')}.`);
    }
  }
  return [...new Set(formats)] as OutputFormat[];
}

/** `--json`: progress lines over the whole batch (`cli/jsonProgress`), the item in the message. */
function jsonProgress(context: CliContext): (event: BatchEvent) => void {
  const write = jsonProgressWriter(context.err);
  let item = { index: 1, total: 1 };
  return (event) => {
    if (event.type === 'item-start') item = { index: event.index, total: event.total };
    if (event.type === 'item-progress') {
      const what = `${event.scene} · q${event.question + 1} ${event.stage}`;
      write({ fraction: (item.index - 1 + event.fraction) / item.total, stage: 'item', message: `[${item.index}/${item.total}] ${what}`, etaSeconds: event.etaSeconds });
    } else if (event.type === 'item-end') {
      const r = event.record;
      const what = r.state === 'done' ? `${r.polygons} polygon(s)` : `FAILED: ${r.error?.message ?? 'unknown error'}`;
      write({ fraction: event.index / event.total, stage: 'item-end', message: `[${event.index}/${event.total}] ${r.scene} · q${r.question + 1}: ${what}`, etaSeconds: event.etaSeconds });
    }
  };
}

function progressLine(context: CliContext, event: BatchEvent, tty: boolean): void {
  switch (event.type) {
    case 'plan':
      context.err(`${event.scenes} scene(s), ${event.items} item(s)${event.alreadyDone ? `, ${event.alreadyDone} already done` : ''}\n`);
      break;
    case 'item-progress':
      if (tty) context.err(`\r  ${event.scene} · q${event.question + 1} ${event.stage} ${Math.round(event.fraction * 100)}%\x1b[K`);
      break;
    case 'item-end': {
      const r = event.record;
      const eta = event.etaSeconds !== null ? ` · ETA ${Math.ceil(event.etaSeconds)} s` : '';
      const what = r.state === 'done' ? `${r.polygons} polygon(s)` : `FAILED: ${r.error?.message ?? 'unknown error'}`;
      context.err(`${tty ? '\r\x1b[K' : ''}[${event.index}/${event.total}] ${r.scene} · q${r.question + 1}: ${what}${eta}\n`);
      if (r.note) context.err(`  note: ${r.scene}: ${r.note}\n`);
      break;
    }
    default:
      break;
  }
}

/** The arguments of `segearth batch` that define the batch (absolute paths), for the sbatch script. */
function batchDefinitionArgs(folder: string, options: BatchCliOptions, modelDir: string, formats: readonly OutputFormat[]): string[] {
  const args = [resolve(folder), ...options.question.flatMap((q) => ['-q', q]), '-o', resolve(options.output), '--model', modelDir];
  if (options.ep !== 'auto') args.push('--ep', options.ep);
  if (formats.length) args.push('--format', formats.join(','));
  if (!options.merged) args.push('--no-merged');
  args.push('--strategy', options.strategy, '--threshold', options.threshold, '--min-area', options.minArea);
  for (const glob of options.include) args.push('--include', glob);
  for (const glob of options.exclude) args.push('--exclude', glob);
  return args;
}

async function writeSlurmScript(folder: string, options: BatchCliOptions, formats: readonly OutputFormat[], context: CliContext): Promise<void> {
  if (options.shard) throw bad('--slurm writes the script for every shard; --shard is for one task.', 'Drop --shard and give --shards <n>.');
  const shards = Number(options.shards);
  if (!(Number.isInteger(shards) && shards >= 1)) {
    throw bad(options.shards === undefined ? '--slurm needs --shards <n>.' : `--shards ${options.shards} is not valid.`, 'Give the number of array tasks, e.g. --shards 8 (one per node you want to use).');
  }
  if (!/^\d+[KMGT]?$/i.test(options.slurmMem)) throw bad(`--slurm-mem ${options.slurmMem} is not a Slurm memory size.`, 'Write it as Slurm does, e.g. 16G or 16000M.');
  if (!/^(\d+-)?\d+(:\d{1,2}){0,2}$/.test(options.slurmTime)) throw bad(`--slurm-time ${options.slurmTime} is not a Slurm time limit.`, 'Write it as Slurm does, e.g. 04:00:00 or 1-00:00:00.');
  const modelDir = await resolveModelDir(options.model);
  const script = slurmBatchScript({
    // This install's entry point (src/cli/commands or dist/cli/commands → bin/): the nodes share its filesystem.
    segearth: [process.execPath, fileURLToPath(new URL('../../../bin/segearth.js', import.meta.url))],
    batchArgs: batchDefinitionArgs(folder, options, modelDir, formats),
    outputFolder: resolve(options.output),
    shards,
    cpusPerTask: options.threads === undefined ? 8 : Number(options.threads),
    memory: options.slurmMem,
    time: options.slurmTime,
  });
  if (typeof options.slurm !== 'string') {
    context.out(script);
    return;
  }
  const path = resolve(options.slurm);
  await writeAtomically(path, { overwrite: true }, async (tmp) => {
    await writeFile(tmp, script);
    await chmod(tmp, 0o755);
  });
  context.err(`wrote ${path}: submit it with  jobid=$(sbatch --parsable ${path})  then merge as its header says.\n`);
}

async function runBatchCommand(folder: string, options: BatchCliOptions, context: CliContext): Promise<void> {
  if (options.question.length === 0) throw bad('No question given.', 'Add one or more -q "your question".');
  const blank = options.question.findIndex((q) => !q.trim());
  if (blank >= 0) throw bad(`Question ${blank + 1} (-q) is empty.`, 'Type the question in quotes, e.g. -q "where could flood water spread?".');
  const threshold = Number(options.threshold);
  if (!(threshold > 0 && threshold < 1)) throw bad(`--threshold ${options.threshold} is not valid.`, 'The threshold is a probability in (0, 1); 0.5 is the model\'s own boundary.');
  const minAreaM2 = Number(options.minArea);
  if (!(minAreaM2 >= 0)) throw bad(`--min-area ${options.minArea} is not valid.`, 'Give the minimum polygon area in m², e.g. 100.');
  const formats = parseFormats(options.format);
  if (formats.length === 0 && !options.merged) throw bad('Nothing to write.', 'Give --format and/or keep the merged GeoPackage.');
  const ep = EpRequestSchema.safeParse(options.ep);
  if (!ep.success) throw bad(`--ep ${options.ep} is not an execution provider.`, 'Use auto, cpu, webgpu, cuda, dml or coreml.');
  const threads = options.threads === undefined ? undefined : Number(options.threads);
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) throw bad(`--threads ${options.threads} is not valid.`, 'Give a number of threads ≥ 1.');
  if (options.slurm !== undefined && options.slurm !== false) return writeSlurmScript(folder, options, formats, context);
  if (options.shards !== undefined) throw bad('--shards is for --slurm.', 'To run one shard here, give --shard i/n; to run them all on Slurm, add --slurm.');
  const shard = options.shard ? parseShard(options.shard) : undefined;
  const modelDir = await resolveModelDir(options.model);

  const runtime = await InferenceRuntime.open(modelDir, { ep: ep.data, ...(threads ? { threads: { intraOp: threads } } : {}) });
  try {
    context.err(`${describeChoice(runtime.executionProvider)}\n`);
    if (runtime.model.testFixture) context.err(`warning: ${runtime.model.id} is a test fixture with random weights: its masks are meaningless.\n`);
    const batchOptions: BatchOptions = {
      questions: options.question,
      model: `${runtime.model.id}@${runtime.model.bundleSha256.slice(0, 16)}`,
      strategy: options.strategy,
      formats,
      merged: options.merged,
      threshold,
      minAreaM2,
      include: options.include,
      exclude: options.exclude,
    };
    const tty = Boolean(process.stderr.isTTY);
    const summary = await runBatch({
      inputFolder: resolve(folder),
      outputFolder: resolve(options.output),
      options: batchOptions,
      ...(shard ? { shard } : {}),
      resume: Boolean(options.resume),
      processor: workerSceneProcessor(runtime, options.strategy),
      signal: context.signal,
      onEvent: options.json ? jsonProgress(context) : (event) => progressLine(context, event, tty),
    });
    if (context.signal.aborted) {
      throw new SegEarthError('CANCELLED', 'The batch was cancelled.', { hint: `Continue it later with the same command and --resume.` });
    }
    const t = summary.totals;
    if (options.json) {
      context.out(`${JSON.stringify(summary, null, 2)}\n`);
    } else {
      context.out(`${t.done} done, ${t.failed} failed, ${t.polygons} polygon(s), ${(t.totalAreaM2 / 1e4).toFixed(2)} ha → ${resolve(options.output)}\n`);
    }
    if (t.failed > 0) context.err(`warning: ${t.failed} item(s) failed; see summary.csv in the output folder.\n`);
  } finally {
    await runtime.dispose();
  }
}

export function register(program: Command, context: CliContext): void {
  program
    .command('batch')
    .description('run the same question(s) over every scene of a folder (resumable, shardable)')
    .argument('<folder>', 'input folder, searched recursively for rasters')
    .option('-q, --question <text>', 'a question (repeat -q for several)', collect, [] as string[])
    .requiredOption('-o, --output <folder>', 'output folder (empty or new; or an earlier batch with --resume)')
    .option('--model <dir-or-id>', 'model bundle folder or installed model id (default: the default installed model)')
    .option('--ep <provider>', 'execution provider: auto, cpu, webgpu, cuda, dml, coreml', 'auto')
    .option('--threads <n>', 'CPU threads for the model (default: all cores)')
    .option('--format <list>', `per-scene outputs, comma-separated: ${OUTPUT_FORMATS.join(', ')} (mask = probability GeoTIFF)`, 'gpkg')
    .option('--no-merged', 'do not write merged.gpkg (one layer per question with a source attribute)')
    .addOption(new Option('--strategy <name>', 'tiled: full resolution everywhere; coarse-to-fine: full resolution where the coarse pass finds something; view: one pass per scene').choices(['tiled', 'coarse-to-fine', 'view']).default('tiled'))
    .option('--threshold <p>', 'probability threshold in (0, 1)', '0.5')
    .option('--min-area <m2>', 'drop polygons smaller than this many m²', '0')
    .option('--include <glob>', 'only scenes matching (relative path; repeatable)', collect, [] as string[])
    .option('--exclude <glob>', 'skip scenes matching (relative path; repeatable)', collect, [] as string[])
    .option('--resume', 'continue the batch in the output folder where it stopped')
    .option('--shard <i/n>', 'process only shard i of n (deterministic; merge shards with `segearth merge`)')
    .option('--slurm [file]', 'print (or write to file) an sbatch script running this batch as a Slurm job array, instead of running it')
    .option('--shards <n>', 'with --slurm: number of shards = array tasks')
    .option('--slurm-mem <size>', 'with --slurm: memory per task', '16G')
    .option('--slurm-time <limit>', 'with --slurm: time limit per task', '04:00:00')
    .option('--json', 'print the summary as JSON on stdout')
    .action(async (folder: string, options: BatchCliOptions) => runBatchCommand(folder, options, context));
}
