/**
 * @module inference/models/bundleFacts
 * Reads a bundle's `manifest.json` and keeps only what the model manager needs ({@link BundleFacts}): id,
 * variant, precision, source checkpoint and the sha256 of every file. The manifest is validated with the
 * runtime's own schema (`inference/bundle/manifest`, documented in docs/MODEL_BUNDLE.md), so a bundle the
 * manager installs is one the runtime can load; this module is the one place that maps it onto the
 * manager's view.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { SegEarthError } from '../../shared/errors.js';
import { BUNDLE_FORMAT_VERSION, type Manifest, ManifestSchema } from '../bundle/manifest.js';
import type { BundleFacts } from './types.js';

export const MANIFEST_FILE = 'manifest.json';

/** Maps a parsed manifest onto the manager's view; MODEL_VERSION / MODEL_INVALID (with the zod issues) otherwise. */
export function bundleFactsFromManifest(json: unknown, where: string): BundleFacts {
  const version = (json as { formatVersion?: unknown } | null)?.formatVersion;
  if (version !== BUNDLE_FORMAT_VERSION) {
    throw new SegEarthError(
      'MODEL_VERSION',
      `${where} has bundle format version ${JSON.stringify(version)}; this SegEarth understands version ${BUNDLE_FORMAT_VERSION}.`,
      { hint: 'Re-export the bundle with this version of tools/export, or update SegEarth Desktop.', path: where },
    );
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) {
    throw new SegEarthError('MODEL_INVALID', `${where} is not a valid model bundle manifest: ${summarize(parsed.error)}.`, {
      hint: 'Re-export the bundle with `python3 -m tools.export`, or import a bundle made by this version.',
      path: where,
    });
  }
  return factsOf(parsed.data);
}

/** The manager's view of a validated manifest. */
export function factsOf(m: Manifest): BundleFacts {
  const graphs = Object.entries(m.graphs) as [string, { precision: string }][];
  const precisions = [...new Set(graphs.map(([, g]) => g.precision))];
  return {
    id: m.id,
    name: m.name,
    formatVersion: m.formatVersion,
    variant: m.variant,
    testFixture: m.testFixture,
    precision: precisions.length === 1 ? precisions[0] : graphs.map(([name, g]) => `${name} ${g.precision}`).join(', '),
    sourceCheckpoint: m.source.checkpoint,
    sourceFiles: m.source.files,
    files: m.files.filter((f) => f.path !== MANIFEST_FILE),
  };
}

/** Reads `<dir>/manifest.json`; MODEL_NOT_FOUND when it is missing, MODEL_INVALID when it is not a manifest. */
export async function readBundleFacts(dir: string): Promise<BundleFacts> {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new SegEarthError('MODEL_NOT_FOUND', `No ${MANIFEST_FILE} in ${dir}: this folder is not a model bundle.`, {
      hint: 'Point at the folder written by `python3 -m tools.export` (it contains manifest.json and the .onnx files).',
      path: dir,
      cause: err,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SegEarthError('MODEL_INVALID', `${file} is not valid JSON.`, {
      hint: 'The bundle is damaged; import or download it again.',
      path: file,
      cause: err,
    });
  }
  return bundleFactsFromManifest(json, file);
}

function summarize(error: z.ZodError): string {
  return error.issues
    .slice(0, 4)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}
