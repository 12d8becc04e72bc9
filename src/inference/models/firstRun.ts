/**
 * @module inference/models/firstRun
 * What the app's question panel (and `segearth models list`) says when no model bundle is installed: the
 * released checkpoints (the Model & device dialog's Get cards), getting one from the model hub in one click or
 * one command, converting a checkpoint folder, importing or downloading a ready bundle, and the Python export
 * for developers. Structured for
 * the UI ({@link firstRunGuide}) and as plain text for the CLI ({@link formatFirstRunGuide}).
 *
 * Viewing, vectorizing masks and exporting work without a model; only questions need one.
 */
import type { FirstRunGuide } from '../../shared/api/modelDto.js';
import { type ModelLocations, resolveModelLocations } from './locations.js';

export type { FirstRunGuide };
export type CheckpointRef = FirstRunGuide['checkpoints'][number];

/**
 * What a released checkpoint weighs on the hub when the hub cannot be asked (offline, proxy): its fp32
 * safetensors — about 1.5 billion parameters (Phi-1.5 1.42 B, Swin-B 88 M, the mask head) × 4 bytes, plus the
 * tokenizer files. The Model & device dialog says "about"; with the hub reachable it shows the hub's sum of the
 * repository's file sizes instead. (README "Get the model in the app".)
 */
export const APPROX_CHECKPOINT_BYTES = 6.1e9;

/** The released SegEarth-R1 checkpoints the converter (and the exporter) understand. */
export const CHECKPOINTS: readonly CheckpointRef[] = [
  {
    variant: 'earthreason',
    label: 'EarthReason',
    repo: 'earth-insights/SegEarth-R1-EarthReason',
    url: 'https://huggingface.co/earth-insights/SegEarth-R1-EarthReason',
    use: 'implicit questions ("where could flood water spread?") — the recommended model',
    licence: 'Apache-2.0',
    approxDownloadBytes: APPROX_CHECKPOINT_BYTES,
  },
  {
    variant: 'rrsis-d',
    label: 'RRSIS-D',
    repo: 'earth-insights/SegEarth-R1-RRSIS-D',
    url: 'https://huggingface.co/earth-insights/SegEarth-R1-RRSIS-D',
    use: 'explicit referring expressions ("the large building left of the pool")',
    licence: 'Apache-2.0',
    approxDownloadBytes: APPROX_CHECKPOINT_BYTES,
  },
];

/** The released checkpoint of a hub repository id or a short name (`earthreason`, `rrsis-d`), if it is one. */
export function findCheckpoint(name: string): CheckpointRef | undefined {
  const key = name.toLowerCase();
  return CHECKPOINTS.find((c) => c.repo.toLowerCase() === key || c.variant === key);
}

/** The short line for status bars and `ModelStatus.problem`. */
export const NO_MODEL_MESSAGE =
  'No SegEarth-R1 model is installed. Viewing, vectorizing and exporting work; to ask questions, install a model ' +
  '(Model → Model & device… → Get, or `segearth models get earthreason`).';

export function firstRunGuide(locations: ModelLocations = resolveModelLocations()): FirstRunGuide {
  const bundleDir = 'segearth-r1-earthreason';
  return {
    title: 'No model installed yet',
    summary:
      'SegEarth Desktop answers questions with SegEarth-R1, converted once into a model bundle (ONNX graphs and ' +
      'weights, 2.5 to 7 GB). Everything else — viewing scenes, vectorizing masks, exporting — works without it.',
    checkpoints: [...CHECKPOINTS],
    options: [
      {
        title: 'Get it from the model hub (one click)',
        detail:
          'In the app: Model → Model & device… → Get on the EarthReason card. The checkpoint is downloaded (pause ' +
          'and resume at any time, even after closing the app), converted on this machine in the precision ' +
          'that suits it, checked and installed as the default model. No Python needed. The same from a terminal:',
        commands: ['segearth models get earthreason'],
      },
      {
        title: 'Convert a checkpoint folder (offline machines)',
        detail:
          'If the checkpoint folder (config.json, *.safetensors, tokenizer files) reached this machine another way, ' +
          'convert it: Model → Model & device… → Convert a checkpoint folder…, or',
        commands: ['segearth models convert <checkpoint-folder> --install'],
      },
      {
        title: 'Import a ready bundle',
        detail:
          'If a colleague or your organisation already made a bundle (a folder with manifest.json, or a .tar.gz ' +
          'of it), import it: every file is checked against the manifest before it is installed.',
        commands: ['segearth models import <bundle-folder-or-archive.tar.gz>'],
      },
      {
        title: 'Download a published bundle',
        detail:
          'A bundle archive published on a web server comes with its sha256; the download resumes if interrupted ' +
          'and is only installed when the checksum matches.',
        commands: ['segearth models download <https-url-of-bundle.tar.gz> --sha256 <checksum>'],
      },
      {
        title: 'For developers: export with Python',
        detail:
          'The Python exporter (PyTorch, NumPy, ONNX; about 16 GB of RAM) also reads pickle .bin checkpoints. Run it ' +
          'from the SegEarth Desktop source folder, then import the bundle.',
        commands: [
          'sudo apt-get install -y python3-torch python3-onnx python3-numpy',
          'huggingface-cli download earth-insights/SegEarth-R1-EarthReason --local-dir ckpt/SegEarth-R1-EarthReason',
          `/usr/bin/python3 -m tools.export ckpt/SegEarth-R1-EarthReason -o ${bundleDir}`,
          `segearth models import ${bundleDir}`,
        ],
      },
    ],
    installDir: locations.installDir,
    searchDirs: locations.searchDirs.map((d) => d.dir),
    docs: ['README.md#installing-the-segearth-r1-model', 'README.md#model-storage-and-the-model-manager', 'docs/MODEL_BUNDLE.md'],
  };
}

/** The guide as plain text (CLI, logs, a plain-text panel). */
export function formatFirstRunGuide(guide: FirstRunGuide = firstRunGuide()): string {
  const lines: string[] = [guide.title, '', guide.summary, '', 'Released checkpoints:'];
  for (const c of guide.checkpoints) lines.push(`  ${c.repo}  (${c.use})`);
  guide.options.forEach((o, i) => {
    lines.push('', `${i + 1}. ${o.title}`, `   ${o.detail}`);
    for (const cmd of o.commands) lines.push(`     $ ${cmd}`);
  });
  lines.push('', `Bundles are installed into ${guide.installDir}.`);
  lines.push(`Searched for bundles: ${guide.searchDirs.join(', ')}.`);
  return `${lines.join('\n')}\n`;
}
