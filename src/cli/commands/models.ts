/**
 * @module cli/commands/models
 * `segearth models list|import|download|get|convert|verify|remove|default|devices`: the model manager on the command line
 * (the same `ModelStore` the app's Model & device dialog uses). Results go to stdout (a table, or JSON with
 * `--json`); progress goes to stderr. Exit statuses come from `cli/exitCodes` (a failed verification is
 * MODEL_INVALID: status 3).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { type ConversionPrecision, type ConvertOptions, convertCheckpoint } from '../../inference/conversion/convertCheckpoint.js';
import { CONVERSION_PRECISIONS } from '../../inference/conversion/graphTemplate.js';
import { SegEarthError } from '../../shared/errors.js';
import { formatBytes } from '../../inference/models/diskSpace.js';
import { firstRunGuide, formatFirstRunGuide } from '../../inference/models/firstRun.js';
import { ModelStore } from '../../inference/models/ModelStore.js';
import {
  type InstalledModel,
  type ModelProgress,
  type ProgressListener,
  type Variant,
  VARIANT_LABELS,
  VARIANTS,
  VariantSchema,
} from '../../inference/models/types.js';
import type { CliContext } from '../context.js';
import { jsonProgressWriter } from '../jsonProgress.js';
import { registerModelsGet } from './modelsGet.js';
import { parseNonNegativeInteger } from '../optionParsers.js';

export function register(program: Command, context: CliContext): void {
  const models = program
    .command('models')
    .description('manage SegEarth-R1 model bundles: get from the hub, list, import, download, convert, verify, remove, choose the default; devices')
    .addHelpText(
      'after',
      '\nBundles are searched in $SEGEARTH_MODELS_DIR (if set), else the user data folder, then the models/ shipped ' +
        'with the app.\nRun "segearth models list" to see the folders.',
    );
  const store = (): ModelStore => new ModelStore();

  models
    .command('list')
    .description('installed bundles with variant, precision, size, source checkpoint and verified state')
    .option('--verify', 'hash files not verified before (can take minutes for a real model)')
    .option('--json', 'print JSON: { models, broken, defaults, locations }')
    .action(async (options: { verify?: boolean; json?: boolean }) => {
      const s = store();
      const listing = await s.list({
        ...(options.verify ? { verify: true, onProgress: progressPrinter(context) } : {}),
        signal: context.signal,
      });
      if (options.json) {
        context.out(
          json({ ...listing, defaults: await s.defaults(), locations: s.locations }),
        );
        return;
      }
      if (listing.models.length === 0) {
        context.out(formatFirstRunGuide(firstRunGuide(s.locations)));
      } else {
        context.out(formatTable(listing.models));
      }
      for (const b of listing.broken) context.err(`warning: ${b.dir} is not a usable bundle: ${b.reason}\n`);
      context.out(`\nModel folders, in search order:\n`);
      for (const d of s.locations.searchDirs) {
        const note = d.dir === s.locations.installDir ? 'installs go here' : d.writable ? 'writable' : 'read-only';
        context.out(`  ${d.kind.padEnd(8)} ${d.dir}  (${note})\n`);
      }
    });

  models
    .command('import')
    .description('install a bundle from its folder or a .tar.gz / .tar / .zip archive (every file checked first)')
    .argument('<source>', 'bundle folder (with manifest.json) or archive')
    .option('--replace', 'overwrite an installed bundle with the same id')
    .option('--json', 'print the installed bundle as JSON')
    .action(async (source: string, options: { replace?: boolean; json?: boolean }) => {
      const m = await store().import(source, {
        replace: options.replace ?? false,
        onProgress: progressPrinter(context),
        signal: context.signal,
      });
      context.out(options.json ? json(m) : `installed ${describe(m)}\n`);
    });

  models
    .command('download')
    .description('download a bundle archive (resumable), check its sha256, then install it')
    .argument('<url>', 'http(s) URL of a .tar.gz / .tar / .zip bundle archive')
    .requiredOption('--sha256 <hex>', 'sha256 of the archive, as published with it')
    .option('--replace', 'overwrite an installed bundle with the same id')
    .option('--retries <n>', 'automatic resumes after a dropped connection', parseNonNegativeInteger, 3)
    .option('--json', 'print the installed bundle as JSON')
    .action(async (url: string, options: { sha256: string; replace?: boolean; retries: number; json?: boolean }) => {
      const m = await store().download(url, {
        sha256: options.sha256,
        replace: options.replace ?? false,
        retries: options.retries,
        onProgress: progressPrinter(context),
        signal: context.signal,
      });
      context.out(options.json ? json(m) : `installed ${describe(m)}\n`);
    });

  registerModelsGet(models, context, store);

  models
    .command('convert')
    .description('convert a downloaded SegEarth-R1 checkpoint folder into a bundle (no Python needed)')
    .argument('<checkpoint-dir>', 'folder with config.json, *.safetensors (+ index) and tokenizer files')
    .option('-o, --out <bundle-dir>', 'write the bundle folder here')
    .option('--install', 'install the bundle into the model folder (like `models import`)')
    .addOption(new Option('--precision <profile>', 'fp32 (CPU and GPU), cpu (int8 image + int8 LLM), fp16 (GPUs)').choices(CONVERSION_PRECISIONS).default('fp32'))
    .option('--graphs <template-dir>', 'a graph template from `python3 -m tools.export <checkpoint> --graphs-only` (other model sizes)')
    .addOption(new Option('--variant <variant>', 'prompt wording (default: guessed from the folder name)').choices(['earthreason', 'rrsis-d', 'refsegrs']))
    .option('--id <id>', 'bundle id (default: the output folder name, or segearth-r1-<variant>[-<profile>])')
    .option('--name <name>', 'display name')
    .option('--replace', 'overwrite an existing bundle folder or installed bundle with the same id')
    .option('--json', 'print the manifest facts as JSON (progress as JSON lines on stderr)')
    .action(async (dir: string, o: { out?: string; install?: boolean; precision: ConversionPrecision; graphs?: string; variant?: ConvertOptions['variant']; id?: string; name?: string; replace?: boolean; json?: boolean }) => {
      if (Boolean(o.out) === Boolean(o.install)) throw new SegEarthError('BAD_ARGUMENT', 'Give exactly one of -o <bundle-dir> and --install.');
      let last = '';
      const jsonLine = o.json ? jsonProgressWriter(context.err) : null;
      const { bundleDir, manifest } = await convertCheckpoint({
        checkpointDir: dir, precision: o.precision, replace: o.replace ?? false, signal: context.signal,
        ...(o.out ? { out: o.out } : { store: store() }),
        ...(o.graphs ? { templateDir: o.graphs } : {}), ...(o.variant ? { variant: o.variant } : {}),
        ...(o.id ? { id: o.id } : {}), ...(o.name ? { name: o.name } : {}),
        onProgress: (p) => {
          if (jsonLine) return jsonLine({ fraction: p.total > 0 ? p.done / p.total : 0, stage: p.stage });
          const line = p.total > 1 ? `${p.stage}: ${Math.floor((100 * p.done) / p.total / 10) * 10}%` : p.done < p.total ? `${p.stage}…` : '';
          if (line && line !== last) context.err(`${(last = line)}${p.total > 1 ? ` of ${formatBytes(p.total)}` : ''}\n`);
        },
      });
      context.out(o.json ? json({ dir: bundleDir, id: manifest.id, variant: manifest.variant, files: manifest.files }) : `converted ${manifest.id} (${manifest.variant}) into ${bundleDir}\n`);
    });

  models
    .command('verify')
    .description('check every file of the bundles against the sha256 in their manifest')
    .argument('[ids...]', 'bundle ids (default: all installed)')
    .option('--force', 'ignore remembered results and hash every file again')
    .option('--json', 'print the reports as JSON')
    .action(async (ids: string[], options: { force?: boolean; json?: boolean }) => {
      const s = store();
      const targets = ids.length > 0 ? ids : (await s.list()).models.map((m) => m.id);
      if (targets.length === 0) {
        throw new SegEarthError('MODEL_NOT_FOUND', 'No model bundle is installed, so there is nothing to verify.', {
          hint: 'Install one first: `segearth models import <bundle>` (see `segearth models list`).',
        });
      }
      const results: InstalledModel[] = [];
      for (const id of targets) {
        const m = await s.verify(id, { force: options.force ?? false, onProgress: progressPrinter(context), signal: context.signal });
        results.push(m);
        if (!options.json) {
          context.out(`${m.id}: ${m.verify.state} (${m.verify.checkedFiles} files, ${m.verify.hashedFiles} hashed now)\n`);
          for (const p of m.verify.problems) context.out(`  ${p.problem}: ${p.detail}\n`);
        }
      }
      if (options.json) context.out(json(results));
      const failed = results.filter((m) => m.verify.state !== 'verified');
      if (failed.length > 0) {
        throw new SegEarthError('MODEL_INVALID', `Damaged bundle${failed.length > 1 ? 's' : ''}: ${failed.map((m) => m.id).join(', ')}.`, {
          hint: 'Import or download the bundle again with --replace.',
        });
      }
    });

  models
    .command('remove')
    .description('delete an installed bundle (bundles shipped with the app cannot be removed)')
    .argument('<id>', 'bundle id')
    .action(async (id: string) => {
      await store().remove(id);
      context.out(`removed ${id}\n`);
    });

  models
    .command('default')
    .description('show the default bundle per variant, or make <id> the default for its variant')
    .argument('[id]', 'bundle id to make the default')
    .option('--clear <variant>', `forget the chosen default of a variant (${VARIANTS.join(', ')})`, parseVariant)
    .option('--json', 'print the defaults as JSON')
    .action(async (id: string | undefined, options: { clear?: Variant; json?: boolean }) => {
      const s = store();
      if (id !== undefined && options.clear !== undefined) {
        throw new SegEarthError('BAD_ARGUMENT', 'Give either a bundle id or --clear <variant>, not both.');
      }
      if (id !== undefined) {
        const variant = await s.setDefault(id);
        if (!options.json) context.out(`${id} is now the default ${VARIANT_LABELS[variant]} model\n`);
      }
      if (options.clear !== undefined) {
        await s.clearDefault(options.clear);
        if (!options.json) context.out(`cleared the chosen default for ${VARIANT_LABELS[options.clear]}\n`);
      }
      const defaults = await s.defaults();
      if (options.json) {
        context.out(json(defaults));
      } else if (id === undefined && options.clear === undefined) {
        for (const v of VARIANTS) context.out(`${VARIANT_LABELS[v].padEnd(18)} ${defaults[v] ?? '(none installed)'}\n`);
      }
    });
  models
    .command('devices')
    .description('execution providers on this machine: which work, which one --ep auto uses, and why others do not')
    .option('--json', 'print JSON: { auto, providers }')
    .action(async (options: { json?: boolean }) => {
      const report = await probeProviders();
      if (options.json) {
        context.out(json(report));
        return;
      }
      const rows = report.providers.map((p) => [p.label, p.works ? 'yes' : 'no', p.provider === report.auto ? `used by --ep auto (${report.autoReason})` : (p.reason ?? '')]);
      const w0 = Math.max(8, ...rows.map((r) => r[0].length));
      context.out(`${'PROVIDER'.padEnd(w0)}  WORKS  NOTE\n`);
      for (const r of rows) context.out(`${r[0].padEnd(w0)}  ${r[1].padEnd(5)}  ${r[2]}\n`);
    });
}

export interface ProviderReport {
  /** The provider `--ep auto` (and the app's "Automatic") picks. */
  readonly auto: string;
  readonly autoReason: string;
  readonly providers: { provider: string; label: string; works: boolean; reason?: string }[];
}

/** Probes every onnxruntime execution provider with a tiny session (loaded lazily: onnxruntime is heavy). */
export async function probeProviders(): Promise<ProviderReport> {
  const ep = await import('../../inference/providers/executionProvider.js');
  const auto = await ep.selectExecutionProvider({ request: 'auto' });
  const providers: ProviderReport['providers'] = [];
  for (const provider of ep.EXECUTION_PROVIDERS) {
    const label = ep.EP_LABEL[provider];
    if (provider === auto.provider) {
      providers.push({ provider, label, works: true });
      continue;
    }
    try {
      await ep.selectExecutionProvider({ request: provider });
      providers.push({ provider, label, works: true });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      providers.push({ provider, label, works: false, reason: message.replace(/^.*? execution provider cannot run here: /, '') });
    }
  }
  return { auto: auto.provider, autoReason: auto.reason, providers };
}

/** A table with one row per bundle; `*` marks the default of its variant. */
export function formatTable(models: readonly InstalledModel[]): string {
  const rows = models.map((m) => [
    `${m.id}${m.isDefault ? ' *' : ''}`,
    VARIANT_LABELS[m.variant],
    m.precision,
    formatBytes(m.sizeBytes),
    m.verify.state,
    m.testFixture ? `${m.sourceCheckpoint} (test fixture, not a model)` : m.sourceCheckpoint,
    m.location,
  ]);
  const header = ['ID', 'VARIANT', 'PRECISION', 'SIZE', 'STATE', 'SOURCE CHECKPOINT', 'LOCATION'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  const out = [line(header), ...rows.map(line), '', '* default for its variant'];
  const unverified = models.filter((m) => m.verify.state === 'unverified').length;
  if (unverified > 0) out.push(`${unverified} bundle${unverified > 1 ? 's are' : ' is'} not verified yet: run "segearth models verify".`);
  return `${out.join('\n')}\n`;
}

function describe(m: InstalledModel): string {
  return `${m.id} (${VARIANT_LABELS[m.variant]}, ${m.precision}, ${formatBytes(m.sizeBytes)}, ${m.verify.state}) in ${m.dir}`;
}

/**
 * Progress on stderr: one self-overwriting line on a terminal; otherwise a line per phase and per 10 %.
 */
function progressPrinter(context: CliContext): ProgressListener {
  const tty = process.stderr.isTTY === true;
  let lastPhase = '';
  let lastDecile = -1;
  let lastDraw = 0;
  let lastMessage: string | undefined;
  return (e: ModelProgress) => {
    const pct = e.total ? Math.floor((100 * e.done) / e.total) : null;
    const text = `${e.phase}: ${formatBytes(e.done)}${e.total ? ` / ${formatBytes(e.total)} (${pct}%)` : ''}${e.message ? ` — ${e.message}` : ''}`;
    if (tty) {
      const now = Date.now();
      const final = e.total !== null && e.done >= e.total;
      if (e.phase === lastPhase && !final && e.message === lastMessage && now - lastDraw < 100) return;
      lastDraw = now;
      lastMessage = e.message;
      context.err(`${e.phase !== lastPhase && lastPhase ? '\n' : '\r'}${text}\x1b[K${final ? '\n' : ''}`);
      lastPhase = final ? '' : e.phase;
      return;
    }
    const decile = pct === null ? -1 : Math.floor(pct / 10);
    if (e.phase !== lastPhase || decile !== lastDecile || (e.message && e.phase === 'download')) {
      context.err(`${text}\n`);
      lastPhase = e.phase;
      lastDecile = decile;
    }
  };
}

function parseVariant(value: string): Variant {
  const parsed = VariantSchema.safeParse(value.toLowerCase());
  if (!parsed.success) throw new InvalidArgumentError(`"${value}" is not a variant; use one of ${VARIANTS.join(', ')}.`);
  return parsed.data;
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
