/**
 * @module cli/commands/modelsGet
 * `segearth models get <repo-id | earthreason | rrsis-d>`: download a released checkpoint from the model hub,
 * convert it and install it (`inference/hub/getModel`). Registered under `segearth models` by `models.ts`.
 * Progress (bytes, bytes/s, ETA) goes to stderr (JSON lines with `--json`); the installed bundle to stdout. Ctrl-C stops the download
 * (exit 130) and the same command later resumes it.
 */
import { type Command, Option } from 'commander';
import { CONVERSION_PRECISIONS, type ConversionPrecision } from '../../inference/conversion/graphTemplate.js';
import { describeGotModel, getModelFromHub } from '../../inference/hub/getModel.js';
import type { HubProgress } from '../../inference/hub/hubProgress.js';
import { formatDuration } from '../../inference/hub/transferRate.js';
import { formatBytes } from '../../inference/models/diskSpace.js';
import type { ModelStore } from '../../inference/models/ModelStore.js';
import { VARIANT_LABELS } from '../../inference/models/types.js';
import type { CliContext } from '../context.js';
import { jsonProgressWriter, type ProgressLine } from '../jsonProgress.js';
import { parseNonNegativeInteger } from '../optionParsers.js';

export function registerModelsGet(models: Command, context: CliContext, store: () => ModelStore): void {
  models
    .command('get')
    .description('download a released checkpoint from the model hub, convert it and install it (resumable; no Python)')
    .argument('<source>', 'earthreason, rrsis-d, or a hub repository id (organisation/name)')
    .option('--revision <rev>', 'branch, tag or commit of the repository', 'main')
    .addOption(new Option('--precision <profile>', 'fp32 (CPU and GPU), cpu (int8, fastest on CPUs), fp16 (GPUs); default: chosen for this machine').choices(CONVERSION_PRECISIONS))
    .option('--graphs <template-dir>', 'a graph template for other model sizes (`python3 -m tools.export <checkpoint> --graphs-only`)')
    .option('--id <id>', 'bundle id (default segearth-r1-<variant>[-<profile>])')
    .option('--replace', 'overwrite an installed bundle with the same id')
    .option('--retries <n>', 'automatic resumes of a dropped connection per file', parseNonNegativeInteger, 5)
    .option('--json', 'print the installed bundle as JSON (progress as JSON lines on stderr)')
    .addHelpText(
      'after',
      '\nEnvironment (as for huggingface-cli): HF_ENDPOINT (a mirror), HF_TOKEN (gated or private repositories; else the token file ' +
        'of `hf auth login`), HF_HUB_CACHE / HF_HOME (download cache, shared with huggingface-cli), HF_HUB_OFFLINE=1 (cache only), ' +
        'HTTPS_PROXY / HTTP_PROXY / NO_PROXY.',
    )
    .action(
      async (
        source: string,
        o: { revision: string; precision?: ConversionPrecision; graphs?: string; id?: string; replace?: boolean; retries: number; json?: boolean },
      ) => {
        const got = await getModelFromHub(
          {
            source,
            revision: o.revision,
            ...(o.precision ? { precision: o.precision } : {}),
            ...(o.graphs ? { templateDir: o.graphs } : {}),
            ...(o.id ? { id: o.id } : {}),
            replace: o.replace ?? false,
            store: store(),
            retries: o.retries,
          },
          {
            signal: context.signal,
            onProgress: o.json ? hubJsonProgress(context) : hubProgressPrinter(context),
            onPrecision: (c) => context.err(`precision: ${c.precision} — ${c.reason}\n`),
          },
        );
        context.err(`${describeGotModel(got)}\n`);
        if (o.json) {
          context.out(`${JSON.stringify({ ...got.model, repo: got.repo, commit: got.commit, madeDefault: got.madeDefault }, null, 2)}\n`);
          return;
        }
        const m = got.model;
        context.out(`installed ${m.id} (${VARIANT_LABELS[m.variant]}, ${m.precision}, ${formatBytes(m.sizeBytes)}) in ${m.dir}\n`);
        if (got.madeDefault) context.out(`${m.id} is now the default ${VARIANT_LABELS[m.variant]} model\n`);
      },
    );
}

/** A hub progress event as a `--json` progress line: the fraction of its stage, the file or step in the message. */
export function hubProgressLine(p: HubProgress): Omit<ProgressLine, 'type'> {
  const message = [p.stage, p.detail, p.message ? `— ${p.message}` : ''].filter(Boolean).join(' ');
  return { fraction: p.total ? Math.min(1, p.done / p.total) : 0, stage: p.stage, message, etaSeconds: p.etaSeconds };
}

function hubJsonProgress(context: CliContext): (p: HubProgress) => void {
  const write = jsonProgressWriter(context.err);
  const event = jsonProgressWriter(context.err, 0); // rare events (a resumed connection) are never rate-limited away
  return (p) => (p.message ? event : write)(hubProgressLine(p));
}

/**
 * Progress on stderr: one self-overwriting line on a terminal; otherwise a line per stage, per file and per
 * 10 % of the download, and every message (resumes).
 */
export function hubProgressPrinter(context: CliContext): (p: HubProgress) => void {
  const tty = process.stderr.isTTY === true;
  let lastKey = '';
  let lastDraw = 0;
  return (p) => {
    const pct = p.total ? Math.floor((100 * p.done) / p.total) : null;
    const amount = p.stage === 'downloading' || p.stage === 'verifying' ? `${formatBytes(p.done)}${p.total ? ` / ${formatBytes(p.total)}` : ''}` : p.total ? `${p.done}/${p.total}` : '';
    const speed = p.bytesPerSecond ? `, ${formatBytes(p.bytesPerSecond)}/s` : '';
    const eta = p.etaSeconds !== null && p.etaSeconds !== undefined ? `, ${formatDuration(p.etaSeconds)} left` : '';
    const text = `${p.stage}${p.detail ? ` ${p.detail}` : ''}${amount ? `: ${amount}` : ''}${pct !== null ? ` (${pct}%)` : ''}${speed}${eta}${p.message ? ` — ${p.message}` : ''}`;
    const key = `${p.stage}|${p.stage === 'downloading' ? '' : (p.detail ?? '')}`;
    if (tty) {
      const now = Date.now();
      const final = p.total !== null && p.done >= p.total;
      if (key === lastKey && !final && !p.message && now - lastDraw < 200) return;
      lastDraw = now;
      context.err(`${key !== lastKey && lastKey ? '\n' : '\r'}${text}\x1b[K${final ? '\n' : ''}`);
      lastKey = final ? '' : key;
      return;
    }
    const decileKey = `${key}|${pct === null ? '' : Math.floor(pct / 10)}`;
    if (decileKey !== lastKey || p.message) {
      context.err(`${text}\n`);
      lastKey = decileKey;
    }
  };
}
