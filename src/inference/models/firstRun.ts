/**
 * @module inference/models/firstRun
 * What the app's question panel (and `segearth models list`) says when no model bundle is installed: the
 * released checkpoints, the export command, and how to import or download a ready bundle. Structured for
 * the UI ({@link firstRunGuide}) and as plain text for the CLI ({@link formatFirstRunGuide}).
 *
 * Viewing, vectorizing masks and exporting work without a model; only questions need one.
 */
import { type ModelLocations, resolveModelLocations } from './locations.js';
import type { Variant } from './types.js';

export interface CheckpointRef {
  readonly variant: Variant;
  readonly label: string;
  /** Hugging Face repository id. */
  readonly repo: string;
  readonly url: string;
  readonly use: string;
}

export interface GuideStep {
  readonly title: string;
  readonly detail: string;
  /** Shell commands, one per entry, in order. */
  readonly commands: readonly string[];
}

export interface FirstRunGuide {
  readonly title: string;
  readonly summary: string;
  readonly checkpoints: readonly CheckpointRef[];
  /** Alternatives, easiest first. */
  readonly options: readonly GuideStep[];
  /** Where `import` and `download` install bundles. */
  readonly installDir: string;
  /** Every folder searched for bundles, in order. */
  readonly searchDirs: readonly string[];
  /** Where to read more (repository-relative). */
  readonly docs: readonly string[];
}

/** The released SegEarth-R1 checkpoints the exporter understands. */
export const CHECKPOINTS: readonly CheckpointRef[] = [
  {
    variant: 'earthreason',
    label: 'EarthReason',
    repo: 'earth-insights/SegEarth-R1-EarthReason',
    url: 'https://huggingface.co/earth-insights/SegEarth-R1-EarthReason',
    use: 'implicit questions ("where could flood water spread?") — the recommended model',
  },
  {
    variant: 'rrsis-d',
    label: 'RRSIS-D',
    repo: 'earth-insights/SegEarth-R1-RRSIS-D',
    url: 'https://huggingface.co/earth-insights/SegEarth-R1-RRSIS-D',
    use: 'explicit referring expressions ("the large building left of the pool")',
  },
];

/** The short line for status bars and `ModelStatus.problem`. */
export const NO_MODEL_MESSAGE =
  'No SegEarth-R1 model is installed. Viewing, vectorizing and exporting work; to ask questions, install a model ' +
  '(Model → Model & device…, or `segearth models import <bundle>`).';

export function firstRunGuide(locations: ModelLocations = resolveModelLocations()): FirstRunGuide {
  const bundleDir = 'segearth-r1-earthreason';
  return {
    title: 'No model installed yet',
    summary:
      'SegEarth Desktop answers questions with SegEarth-R1, converted once into a model bundle (ONNX graphs and ' +
      'weights, about 7 GB). Everything else — viewing scenes, vectorizing masks, exporting — works without it.',
    checkpoints: CHECKPOINTS,
    options: [
      {
        title: 'Import a ready bundle',
        detail:
          'If a colleague or your organisation already exported a bundle (a folder with manifest.json, or a .tar.gz ' +
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
        title: 'Export it yourself from the released checkpoint',
        detail:
          'Needs Python 3 with PyTorch, NumPy and ONNX (no GPU, no research environment); expect about 7 GB of disk ' +
          'and 16 GB of RAM while exporting. Run the export from the SegEarth Desktop source folder, then import.',
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
