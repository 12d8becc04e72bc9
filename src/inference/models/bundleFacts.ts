/**
 * @module inference/models/bundleFacts
 * Reads a bundle's `manifest.json` and keeps only what the model manager needs ({@link BundleFacts}): id,
 * variant, precision, source checkpoint and the sha256 of every file. The full schema (graphs, prompt,
 * tokens) belongs to the runtime; this module is the one place that maps it onto the manager's view.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { SegEarthError } from '../../shared/errors.js';
import { type BundleFacts, BundleFactsSchema, BundleFileSchema, VariantSchema } from './types.js';

export const MANIFEST_FILE = 'manifest.json';

/**
 * Local view of the manifest until `inference/bundle/manifest.ts` lands: the fields the manager reads,
 * everything else passed through untouched.
 */
const ManifestView = z.looseObject({
  formatVersion: z.number().int().positive(),
  id: z.string(),
  variant: VariantSchema,
  precision: z.string().optional(),
  source: z.looseObject({ checkpoint: z.string(), sha256: z.string().optional() }),
  files: z.array(BundleFileSchema),
  graphs: z.record(z.string(), z.looseObject({ precision: z.string().optional() })).optional(),
});

/** Maps a parsed manifest onto the manager's view; throws MODEL_INVALID with the zod issues otherwise. */
export function bundleFactsFromManifest(json: unknown, where: string): BundleFacts {
  const parsed = ManifestView.safeParse(json);
  if (!parsed.success) {
    throw new SegEarthError('MODEL_INVALID', `${where} is not a valid model bundle manifest: ${summarize(parsed.error)}.`, {
      hint: 'Re-export the bundle with `python3 -m tools.export`, or import a bundle made by this version.',
      path: where,
    });
  }
  const m = parsed.data;
  const graphPrecisions = [...new Set(Object.values(m.graphs ?? {}).flatMap((g) => (g.precision ? [g.precision] : [])))];
  const precision = m.precision ?? (graphPrecisions.length === 1 ? graphPrecisions[0] : graphPrecisions.length > 1 ? 'mixed' : 'unknown');
  const facts = {
    id: m.id,
    formatVersion: m.formatVersion,
    variant: m.variant,
    precision,
    sourceCheckpoint: m.source.checkpoint,
    ...(m.source.sha256 !== undefined ? { sourceSha256: m.source.sha256 } : {}),
    files: m.files.filter((f) => f.path !== MANIFEST_FILE),
  };
  const checked = BundleFactsSchema.safeParse(facts);
  if (!checked.success) {
    throw new SegEarthError('MODEL_INVALID', `${where}: ${summarize(checked.error)}.`, { path: where });
  }
  for (const f of checked.data.files) assertInsideBundle(f.path, where);
  return checked.data;
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

/** Rejects absolute paths and `..` so a manifest cannot make the manager read or write outside the bundle. */
function assertInsideBundle(rel: string, where: string): void {
  const norm = path.posix.normalize(rel.replaceAll('\\', '/'));
  if (path.posix.isAbsolute(norm) || /^[A-Za-z]:/.test(norm) || norm === '..' || norm.startsWith('../')) {
    throw new SegEarthError('MODEL_INVALID', `${where} lists a file outside the bundle: "${rel}".`, {
      hint: 'File paths in a manifest are relative to the bundle folder.',
      path: where,
    });
  }
}

function summarize(error: z.ZodError): string {
  return error.issues
    .slice(0, 4)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}
