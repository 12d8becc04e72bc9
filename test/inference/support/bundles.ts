/**
 * @module test/inference/support/bundles
 * Test-only variants of the tiny bundle: copies whose manifest or files are changed (bad-input tests), and a
 * position-independent stand-in (tiling tests). Unchanged files are symlinked, so variants cost nothing.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PYTHON } from '../../support/tinyBundle.js';

type Json = Record<string, unknown>;

/** Copies `source` to `target`: manifest edited by `edit`, files in `replace` written, the rest symlinked. */
export function variantBundle(
  source: string,
  target: string,
  edit: (manifest: Json) => void = () => {},
  replace: Record<string, Uint8Array> = {},
): string {
  mkdirSync(target, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(source, 'manifest.json'), 'utf8')) as Json;
  for (const name of readdirSync(source)) {
    if (name === 'manifest.json' || name.startsWith('.')) continue;
    if (replace[name]) continue;
    symlinkSync(join(source, name), join(target, name));
  }
  for (const [name, bytes] of Object.entries(replace)) writeFileSync(join(target, name), bytes);
  edit(manifest);
  writeFileSync(join(target, 'manifest.json'), JSON.stringify(manifest, null, 1));
  return target;
}

/** The files[] entry of a file in a bundle folder. */
export function fileEntry(dir: string, path: string): { path: string; bytes: number; sha256: string } {
  const bytes = readFileSync(join(dir, path));
  return { path, bytes: statSync(join(dir, path)).size, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/**
 * A bundle whose image and head graphs are the per-pixel stand-ins of `stand_in_graphs.py` (mask logits at
 * full input resolution; each logit depends only on its own pixel). The LLM, tokenizer and prefix are the tiny
 * bundle's.
 */
export function standInBundle(tinyDir: string, target: string): string {
  const tmp = `${target}.graphs`;
  mkdirSync(tmp, { recursive: true });
  const script = join(dirname(fileURLToPath(import.meta.url)), 'stand_in_graphs.py');
  const manifest = JSON.parse(readFileSync(join(tinyDir, 'manifest.json'), 'utf8')) as {
    image: { size: number };
    architecture: { hiddenSize: number };
  };
  const size = manifest.image.size;
  const run = spawnSync(PYTHON, [script, tmp, String(size), String(manifest.architecture.hiddenSize)], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`stand-in graphs failed: ${run.stderr}`);
  const image = readFileSync(join(tmp, 'image.onnx'));
  const head = readFileSync(join(tmp, 'head.onnx'));
  variantBundle(
    tinyDir,
    target,
    (m) => {
      const graphs = m.graphs as Record<string, Json>;
      const t = (name: string, shape: Array<number | string>): Json => ({ name, dtype: 'float32', shape });
      graphs.image = {
        ...graphs.image,
        externalData: [],
        outputs: [t('image_tokens', [1, 64, manifest.architecture.hiddenSize]), t('res5', [1, 1, 1, 1]), t('mask_features', [1, 3, size, size]), t('ms0', [1, 1, 1, 1]), t('ms1', [1, 1, 1, 1]), t('ms2', [1, 1, 1, 1])],
      };
      graphs.head = {
        ...graphs.head,
        externalData: [],
        inputs: [t('refer_hidden', [1, 'L', manifest.architecture.hiddenSize]), t('res5', [1, 1, 1, 1]), t('mask_features', [1, 3, size, size]), t('ms0', [1, 1, 1, 1]), t('ms1', [1, 1, 1, 1]), t('ms2', [1, 1, 1, 1])],
        outputs: [t('mask_logits_256', [1, 1, size, size]), t('q_desc', [1, 1, 4])],
      };
      (m.architecture as Json).maskSize = size;
      m.id = 'stand-in-position-independent';
      const files = (m.files as Array<{ path: string }>).filter((f) => !['image.onnx', 'image.onnx.data', 'head.onnx', 'head.onnx.data'].includes(f.path));
      m.files = files;
    },
    { 'image.onnx': image, 'head.onnx': head },
  );
  refreshFileEntries(target, ['image.onnx', 'head.onnx']);
  return target;
}

/** Adds files[] entries for replaced graph files once they exist in the target (call after variantBundle). */
export function refreshFileEntries(dir: string, paths: string[]): void {
  const manifestPath = join(dir, 'manifest.json');
  const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as { files: Array<{ path: string }> };
  m.files = m.files.filter((f) => !paths.includes(f.path)).concat(paths.map((p) => fileEntry(dir, p)));
  writeFileSync(manifestPath, JSON.stringify(m, null, 1));
}
