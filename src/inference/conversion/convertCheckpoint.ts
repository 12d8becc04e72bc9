/**
 * @module inference/conversion/convertCheckpoint
 * Checkpoint folder + graph template → model bundle, in TypeScript (no Python, no PyTorch): the app's and
 * `segearth models convert`'s way to install the released SegEarth-R1 checkpoints (docs/MODEL_BUNDLE.md
 * "Graph templates").
 *
 * ```ts
 * const { bundleDir, manifest } = await convertCheckpoint({
 *   checkpointDir: 'ckpt/SegEarth-R1-EarthReason', precision: 'cpu', store: new ModelStore(),
 *   onProgress: (p) => console.error(p.stage, p.done, p.total),
 * });
 * ```
 *
 * Steps: read and check the checkpoint against the template (config.json sizes, every tensor's presence,
 * shape and dtype); copy the template's graphs; write weights.json (the template's map with this checkpoint's
 * embedding rows and unused keys) and stream every weight through its transform into the data files (hashing
 * them on the way); the tokenizer; the system-prefix KV cache from the bundle's own llm graph; the manifest
 * with the sha256 of every file. Everything is written into a staging folder that is renamed into place only
 * when complete (into the model store like `models import`, or to `out`): an interrupted or failed conversion
 * installs nothing and leaves no visible folder.
 */
import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { SegEarthError } from '../../shared/errors.js';
import { type Manifest, ManifestSchema, type Variant } from '../bundle/manifest.js';
import { ensureFreeSpace, statfsFreeSpace } from '../models/diskSpace.js';
import { makeTempFolder } from '../../geo/tempFolders.js';
import { discardStaged, moveBundle } from '../models/install.js';
import type { ModelStore } from '../models/ModelStore.js';
import { sha256File } from '../models/verify.js';
import { checkCheckpoint } from './checkCheckpoint.js';
import { checkpointTokenizer, readCheckpointFolder, segTokenId, SEG_TOKEN } from './checkpointFolder.js';
import { fillWeights } from './fillWeights.js';
import { type ConversionPrecision, type GraphTemplate, readGraphTemplate, templateDirFor } from './graphTemplate.js';
import { writePrefixCache } from './prefixCache.js';

export type { ConversionPrecision } from './graphTemplate.js';

export interface ConversionProgress {
  stage: 'checking' | 'weights' | 'tokenizer' | 'prefix-cache' | 'hashing' | 'installing';
  done: number;
  total: number;
  message?: string;
}

export interface ConvertOptions {
  checkpointDir: string;
  /** Picks a shipped graph template (default 'fp32'). */
  precision?: ConversionPrecision;
  /** A template folder written by the Python exporter (`--graphs`); replaces `precision`. */
  templateDir?: string;
  /** Prompt wording; guessed from the folder name when absent (as the Python exporter does). */
  variant?: 'earthreason' | 'rrsis-d' | 'refsegrs';
  id?: string;
  name?: string;
  /**
   * Recorded in manifest.source (default checkpoint: `earth-insights/<folder name>`). `files`: the sha256 of
   * the weight files when the caller already checked them (the hub's LFS hashes); otherwise they are hashed.
   */
  source?: { checkpoint: string; revision?: string; files?: readonly { name: string; sha256: string }[] };
  /** Write the bundle folder here (atomically) … */
  out?: string;
  /** … or install it into the model store (atomically, like `models import`). */
  store?: ModelStore;
  replace?: boolean;
  onProgress?: (p: ConversionProgress) => void;
  /** Abort: nothing installed, temporary files removed (CANCELLED). */
  signal?: AbortSignal;
  /** onnxruntime threads for the prefix cache (default 2). */
  threads?: number;
}

/** Recorded as manifest.source.exporter. */
export const CONVERTER = { name: 'segearth-desktop-convert', version: '1' } as const;

const GRAPH_FILES = ['image.onnx', 'llm.onnx', 'head.onnx'];
/** Files of a bundle, in the order the Python exporter lists them in the manifest. */
const BUNDLE_FILES = ['image.onnx', 'image.onnx.data', 'llm.onnx', 'llm.onnx.data', 'head.onnx', 'head.onnx.data',
  'embed_tokens.bin', 'prefix_kv.safetensors', 'tokenizer.json', 'weights.json'];

/** The variant a folder name suggests (tools/export/checkpoint.py `guess_variant`). */
export function guessVariant(folderName: string): 'earthreason' | 'rrsis-d' | 'refsegrs' {
  const n = folderName.toLowerCase();
  if (n.includes('rrsis')) return 'rrsis-d';
  if (n.includes('refsegrs')) return 'refsegrs';
  return 'earthreason';
}

/** The bundle id used when none is given: `segearth-r1-<variant>` (+ `-<profile>` for other than fp32). */
export function defaultBundleId(variant: string, profile: string): string {
  return `segearth-r1-${variant}${profile === 'fp32' ? '' : `-${profile.toLowerCase().replace(/[^a-z0-9._-]/g, '-')}`}`;
}

/**
 * Bytes the bundle of a template will take on disk (graphs, weight files, embedding table, tokenizer and
 * prefix cache; the last two estimated generously): for a free-space check before downloading.
 */
export async function estimateBundleBytes(o: { precision?: ConversionPrecision; templateDir?: string }): Promise<number> {
  const t = await readGraphTemplate(templateDirFor(o));
  const { architecture: a, embeddings } = t.json.manifest;
  const graphs = t.json.files.reduce((n, f) => n + f.bytes, 0);
  const data = Object.values(t.json.dataFiles).reduce((n, b) => n + b, 0);
  const embed = embeddings.shape[0] * embeddings.shape[1] * (embeddings.dtype === 'float16' ? 2 : 4);
  const prefix = 2 * a.numLayers * a.numKeyValueHeads * 128 * a.headDim * 4; // up to 128 prefix tokens
  return graphs + data + embed + prefix + 8 * 1024 * 1024; // + tokenizer and manifest
}

export async function convertCheckpoint(o: ConvertOptions): Promise<{ bundleDir: string; manifest: Manifest }> {
  if ((o.out === undefined) === (o.store === undefined)) {
    throw new SegEarthError('BAD_ARGUMENT', 'Give either an output folder or a model store to install into.', {
      hint: 'segearth models convert <checkpoint-dir> -o <bundle-dir>, or --install.',
    });
  }
  const progress = (stage: ConversionProgress['stage'], done: number, total: number, message?: string): void =>
    o.onProgress?.({ stage, done, total, ...(message !== undefined ? { message } : {}) });
  const checkpointDir = path.resolve(o.checkpointDir);
  progress('checking', 0, 1, checkpointDir);
  const template = await readGraphTemplate(templateDirFor(o), { verify: true, ...(o.signal ? { signal: o.signal } : {}) });
  const ckpt = await readCheckpointFolder(checkpointDir);
  const facts = await checkCheckpoint(ckpt, template);
  const variant = o.variant ?? guessVariant(path.basename(checkpointDir));
  const id = o.id ?? (o.out ? path.basename(path.resolve(o.out)) : defaultBundleId(variant, template.json.profile));
  progress('checking', 1, 1);
  o.signal?.throwIfAborted();
  const build = (dir: string): Promise<Manifest> =>
    buildBundle(dir, { o, template, ckpt, vocabSize: facts.vocabSize, unused: facts.unused, variant, id, progress });
  const need = await estimateBundleBytes(o);
  try {
    if (o.store) {
      let manifest: Manifest | undefined;
      const installed = await o.store.installBuilt(async (dir) => {
        manifest = await build(dir);
        progress('installing', 0, 1);
      }, { replace: o.replace ?? false, needBytes: need, what: `converting ${path.basename(checkpointDir)}`, ...(o.signal ? { signal: o.signal } : {}) });
      progress('installing', 1, 1);
      return { bundleDir: installed.dir, manifest: manifest! };
    }
    return await convertToFolder(path.resolve(o.out!), o.replace ?? false, need, build, progress, o.signal);
  } catch (err) {
    if (o.signal?.aborted || (err as Error).name === 'AbortError') {
      throw new SegEarthError('CANCELLED', 'The conversion was cancelled; nothing was installed.', { cause: err });
    }
    throw err;
  }
}

/** Builds into a hidden sibling of `out`, then renames it to `out`. */
async function convertToFolder(
  out: string, replace: boolean, need: number, build: (dir: string) => Promise<Manifest>,
  progress: (stage: ConversionProgress['stage'], done: number, total: number) => void, signal?: AbortSignal,
): Promise<{ bundleDir: string; manifest: Manifest }> {
  const exists = await stat(out).then(() => true, () => false);
  if (exists && !replace) {
    throw new SegEarthError('OUTPUT_EXISTS', `${out} already exists.`, { hint: 'Choose another folder, or add --replace.', path: out });
  }
  const parent = path.dirname(out);
  await mkdir(parent, { recursive: true });
  await ensureFreeSpace(statfsFreeSpace, parent, need, `converting into ${out}`);
  const work = await makeTempFolder(parent, `.${path.basename(out)}.converting-`);
  try {
    const dir = path.join(work, 'bundle');
    await mkdir(dir);
    const manifest = await build(dir);
    signal?.throwIfAborted();
    progress('installing', 0, 1);
    if (exists) await moveBundle(out, path.join(work, 'replaced'));
    await moveBundle(dir, out);
    progress('installing', 1, 1);
    return { bundleDir: out, manifest };
  } finally {
    await discardStaged(work);
  }
}

interface BuildContext {
  o: ConvertOptions;
  template: GraphTemplate;
  ckpt: Awaited<ReturnType<typeof readCheckpointFolder>>;
  vocabSize: number;
  unused: string[];
  variant: Variant;
  id: string;
  progress: (stage: ConversionProgress['stage'], done: number, total: number, message?: string) => void;
}

/** Writes the whole bundle into the empty folder `dir`; returns its manifest. */
async function buildBundle(dir: string, c: BuildContext): Promise<Manifest> {
  const { o, template, ckpt, progress } = c;
  const t = template.json;
  const signal = o.signal;
  for (const f of GRAPH_FILES) await copyFile(path.join(template.dir, f), path.join(dir, f));
  // weights.json: the template's map as the exporter wrote it (key order kept), with this checkpoint's
  // embedding rows and unused keys — the bytes the Python exporter writes for the same checkpoint.
  const raw = JSON.parse(await readFile(path.join(template.dir, 'weights.json'), 'utf8')) as { formatVersion: number; unused: string[]; entries: Record<string, unknown>[] };
  const embed = raw.entries.find((e) => e.key === t.checkpoint.embedKey);
  if (!embed) throw new SegEarthError('MODEL_INVALID', `The graph template's weights.json has no entry for ${t.checkpoint.embedKey}.`, { path: template.dir });
  const hidden = t.manifest.embeddings.shape[1];
  const embedBytes = t.manifest.embeddings.dtype === 'float16' ? 2 : 4;
  embed.length = c.vocabSize * hidden * embedBytes;
  embed.shape = [c.vocabSize, hidden];
  const weightsJson = JSON.stringify({ formatVersion: raw.formatVersion, unused: c.unused, entries: raw.entries }, null, 1) + '\n';
  await writeFile(path.join(dir, 'weights.json'), weightsJson);
  const map = { ...template.weightMap, entries: template.weightMap.entries.map((e) => (e.key === t.checkpoint.embedKey ? { ...e, length: embed.length as number, shape: [c.vocabSize, hidden] } : e)) };

  const written = await fillWeights(dir, map, ckpt.tensors, {
    onProgress: (done, total, key) => progress('weights', done, total, key),
    ...(signal ? { signal } : {}),
  });

  progress('tokenizer', 0, 1);
  const tok = await checkpointTokenizer(ckpt.dir);
  await writeFile(path.join(dir, 'tokenizer.json'), JSON.stringify(tok));
  const segId = segTokenId(tok);
  const chunks = t.manifest.prompts[c.variant];
  if (!chunks) throw new SegEarthError('BAD_ARGUMENT', `The graph template has no prompt for variant ${c.variant}.`);
  const tokenizer = new Tokenizer(tok, {});
  const prefixIds = chunks.slice(0, t.manifest.prefixChunks).flatMap((ch) => (ch.kind === 'text' ? tokenizer.encode(ch.text, { add_special_tokens: false }).ids : []));
  if (tokenizer.encode(SEG_TOKEN, { add_special_tokens: false }).ids.join(',') !== String(segId)) {
    throw new SegEarthError('MODEL_INVALID', `The checkpoint's tokenizer does not encode ${SEG_TOKEN} as its added token ${segId}.`, { path: ckpt.dir });
  }
  progress('tokenizer', 1, 1);
  signal?.throwIfAborted();

  const { prompts: _prompts, referPrefix, prefixChunks, ...fixed } = t.manifest;
  const draft = {
    formatVersion: 1 as const,
    id: c.id,
    name: o.name ?? `SegEarth-R1 (${c.variant}${t.profile === 'fp32' ? '' : `, ${t.profile}`})`,
    testFixture: false,
    source: {
      checkpoint: o.source?.checkpoint ?? `earth-insights/${path.basename(ckpt.dir)}`,
      ...(o.source?.revision !== undefined ? { revision: o.source.revision } : {}),
      files: [] as { name: string; sha256: string }[],
      exporter: { ...CONVERTER },
    },
    variant: c.variant,
    prompt: { chunks, referPrefix, prefixChunks },
    tokenizer: { file: 'tokenizer.json', vocabSize: c.vocabSize, addSpecialTokens: false as const, specialTokens: { seg: { content: SEG_TOKEN, id: segId } } },
    image: fixed.image,
    architecture: fixed.architecture,
    graphs: fixed.graphs,
    embeddings: { ...fixed.embeddings, shape: [c.vocabSize, hidden] as [number, number] },
    kvCache: fixed.kvCache,
    prefixCache: { file: 'prefix_kv.safetensors', tokenIds: prefixIds, length: prefixIds.length },
    weightMap: 'weights.json',
    files: [] as { path: string; bytes: number; sha256: string }[],
  };
  progress('prefix-cache', 0, 1);
  await writePrefixCache(dir, draft as Manifest, prefixIds, o.threads ?? 2);
  progress('prefix-cache', 1, 1);
  signal?.throwIfAborted();

  // sha256: the weight files were hashed while written; the rest is small, except the checkpoint's shards.
  const known = new Map(written.map((w) => [w.path, w]));
  const shardBytes = (await Promise.all(ckpt.weightFiles.map((f) => stat(f)))).reduce((n, s) => n + s.size, 0);
  let hashed = 0;
  for (const f of ckpt.weightFiles) {
    const given = o.source?.files?.find((x) => x.name === path.basename(f))?.sha256;
    const sha256 = given ?? (await sha256File(f, (n) => progress('hashing', (hashed += n), shardBytes, path.basename(f)), signal));
    draft.source.files.push({ name: path.basename(f), sha256 });
  }
  for (const f of BUNDLE_FILES) {
    const w = known.get(f);
    draft.files.push(w ?? { path: f, bytes: (await stat(path.join(dir, f))).size, sha256: await sha256File(path.join(dir, f), undefined, signal) });
  }
  const manifest = ManifestSchema.parse(draft);
  await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(draft, null, 1) + '\n');
  return manifest;
}
