/**
 * @module inference/bundle/loadBundle
 * Opens a model bundle folder for the runtime: reads `manifest.json`, validates it (zod; a format version this
 * runtime does not know is `MODEL_VERSION`, anything else wrong `MODEL_INVALID`), checks that every listed file
 * exists with its recorded size, that every file still has the sha256 the manifest records, and computes the
 * bundle hash that results carry (sha256 of the manifest bytes: the manifest pins every file's sha256).
 *
 * The sha256 check is cheap on load: hashes are remembered by path + size + mtime in the model manager's
 * cache (`inference/models/verify`), so a bundle verified at install costs one `stat` per file; a file edited
 * since (a new mtime) is hashed again, and a damaged one is reported as a corrupt model (MODEL_INVALID)
 * instead of silently answering with garbage. A bundle loaded for the first time from a folder the model
 * manager never saw is hashed once.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SegEarthError } from '../../shared/errors.js';
import { resolveModelLocations } from '../models/locations.js';
import { HashCache, verifyBundle } from '../models/verify.js';
import { BUNDLE_FORMAT_VERSION, ManifestSchema, type Manifest } from './manifest.js';

export interface BundleHandle {
  /** Absolute folder of the bundle. */
  dir: string;
  manifest: Manifest;
  /** sha256 of manifest.json (hex): identifies the exact bundle a result came from. */
  hash: string;
}

export interface LoadBundleOptions {
  /** Where remembered file hashes live (default: the model manager's cache); null keeps them in memory only. */
  verifyCacheFile?: string | null;
}

export async function loadBundle(dirPath: string, options: LoadBundleOptions = {}): Promise<BundleHandle> {
  const dir = resolve(dirPath);
  const st = await stat(dir).catch(() => null);
  if (!st) {
    throw new SegEarthError('MODEL_NOT_FOUND', `No model bundle at ${dir}.`, {
      path: dir,
      hint: 'Install a model (see README "Installing the SegEarth-R1 model") or pass --model <folder>.',
    });
  }
  if (!st.isDirectory()) {
    throw new SegEarthError('MODEL_NOT_FOUND', `${dir} is a file, not a model bundle folder.`, {
      path: dir,
      hint: 'Pass the folder that contains manifest.json.',
    });
  }
  const manifestPath = join(dir, 'manifest.json');
  const bytes = await readFile(manifestPath).catch(() => null);
  if (!bytes) {
    throw new SegEarthError('MODEL_NOT_FOUND', `${dir} has no manifest.json: it is not a model bundle.`, {
      path: manifestPath,
      hint: 'Pass the folder that contains manifest.json, or re-install the model.',
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw new SegEarthError('MODEL_INVALID', `manifest.json is not valid JSON: ${(cause as Error).message}.`, {
      path: manifestPath,
      hint: 'Re-export or re-install the model bundle.',
    });
  }
  const version = (json as { formatVersion?: unknown } | null)?.formatVersion;
  if (version !== BUNDLE_FORMAT_VERSION) {
    throw new SegEarthError(
      'MODEL_VERSION',
      `The model bundle has format version ${JSON.stringify(version)}; this SegEarth understands version ${BUNDLE_FORMAT_VERSION}.`,
      {
        path: manifestPath,
        hint:
          typeof version === 'number' && version > BUNDLE_FORMAT_VERSION
            ? 'Update SegEarth Desktop, or re-export the model with the exporter that ships with this version.'
            : 'Re-export the model with the exporter that ships with this version (tools/export).',
      },
    );
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new SegEarthError('MODEL_INVALID', `manifest.json is invalid: ${issues.join('; ')}.`, {
      path: manifestPath,
      hint: 'Re-export or re-install the model bundle.',
    });
  }
  const manifest = parsed.data;
  for (const file of manifest.files) {
    const p = join(dir, file.path);
    const fst = await stat(p).catch(() => null);
    if (!fst) {
      throw new SegEarthError('MODEL_INVALID', `The model bundle is incomplete: ${file.path} is missing.`, {
        path: p,
        hint: 'Re-install the model (the download or export did not finish).',
      });
    }
    if (fst.size !== file.bytes) {
      throw new SegEarthError(
        'MODEL_INVALID',
        `The model bundle is corrupt: ${file.path} has ${fst.size} bytes, the manifest says ${file.bytes}.`,
        { path: p, hint: 'Re-install the model (the file was truncated or replaced).' },
      );
    }
  }
  const cache = new HashCache(options.verifyCacheFile === undefined ? resolveModelLocations().verifyCacheFile : options.verifyCacheFile);
  const report = await verifyBundle(dir, manifest, cache, { hash: true });
  if (report.state === 'failed') {
    const bad = report.problems.map((p) => p.path);
    throw new SegEarthError(
      'MODEL_INVALID',
      `The model bundle is corrupt: ${bad.join(', ')} ${bad.length === 1 ? 'does' : 'do'} not match the sha256 in its manifest (changed or damaged since it was installed).`,
      { path: dir, hint: 'Re-install the model (`segearth models import <bundle> --replace` or download it again); `segearth models verify <id>` lists what is damaged.' },
    );
  }
  const hash = createHash('sha256').update(bytes).digest('hex');
  return { dir, manifest, hash };
}
