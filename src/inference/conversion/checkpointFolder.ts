/**
 * @module inference/conversion/checkpointFolder
 * Reads a downloaded SegEarth-R1 checkpoint folder (Hugging Face layout, as tools/export/checkpoint.py does):
 * `config.json` (a PhiConfig with the LLaVA fields, `model_type` llava_phi), the weights as `model.safetensors`
 * or shards listed by `model.safetensors.index.json`, and the tokenizer as `tokenizer.json` or
 * `vocab.json` + `merges.txt` + `added_tokens.json` (which must add `[SEG]`). Pickle checkpoints
 * (`pytorch_model*.bin`) are refused with the Python exporter's command: reading them safely needs PyTorch.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { SegEarthError } from '../../shared/errors.js';
import { type CheckpointTensor, indexSafetensors } from './checkpointTensors.js';
import type { TemplatePhiConfig } from './graphTemplate.js';

export const SEG_TOKEN = '[SEG]';
const EOS_TOKEN = '<|endoftext|>';
/** `model_type` values of the architecture the graphs implement. */
const KNOWN_MODEL_TYPES = ['llava_phi', 'phi'];

export interface CheckpointFolder {
  readonly dir: string;
  /** config.json as read. */
  readonly config: Record<string, unknown>;
  /** The safetensors files, sorted by name (what the manifest's `source.files` lists). */
  readonly weightFiles: string[];
  readonly tensors: Map<string, CheckpointTensor>;
}

/** Opens a checkpoint folder: config.json, the safetensors shards' headers (no tensor data is read). */
export async function readCheckpointFolder(dir: string): Promise<CheckpointFolder> {
  const names = await readdir(dir).catch((err: unknown) => {
    throw new SegEarthError('NOT_FOUND', `${dir} is not a readable folder.`, {
      hint: 'Give the folder of the downloaded checkpoint (config.json, *.safetensors, tokenizer files).',
      path: dir,
      cause: err,
    });
  });
  if (!names.includes('config.json')) {
    throw new SegEarthError('MODEL_INVALID', `${dir} has no config.json: it is not a Hugging Face checkpoint folder.`, {
      hint: 'Download the whole model repository (e.g. earth-insights/SegEarth-R1-EarthReason), or use `segearth models get`.',
      path: dir,
    });
  }
  const config = await readJson(path.join(dir, 'config.json'), z.record(z.string(), z.unknown()));
  checkArchitecture(config, dir);
  const safetensors = names.filter((n) => n.endsWith('.safetensors')).sort();
  if (safetensors.length === 0) {
    const pickles = names.filter((n) => /^pytorch_model.*\.bin$/.test(n));
    throw new SegEarthError(
      'MODEL_INVALID',
      pickles.length > 0
        ? `${dir} holds a PyTorch pickle checkpoint (${pickles[0]}), which cannot be read without Python.`
        : `${dir} has no *.safetensors weight files.`,
      {
        hint: pickles.length > 0
          ? `Use the Python exporter: /usr/bin/python3 -m tools.export ${dir} -o models/<id> (see README "Installing the SegEarth-R1 model"), then \`segearth models import models/<id>\`.`
          : 'The download is incomplete: download the checkpoint again (model.safetensors or its shards).',
        path: dir,
      },
    );
  }
  const indexFile = path.join(dir, 'model.safetensors.index.json');
  if (names.includes('model.safetensors.index.json')) {
    const index = await readJson(indexFile, z.object({ weight_map: z.record(z.string(), z.string()) }));
    const missing = [...new Set(Object.values(index.weight_map))].filter((f) => !safetensors.includes(f));
    if (missing.length > 0) {
      throw new SegEarthError('MODEL_INVALID', `${dir} lacks ${missing.join(', ')} (listed in model.safetensors.index.json).`, {
        hint: 'The download is incomplete: download the missing shard(s) again.',
        path: path.join(dir, missing[0]!),
      });
    }
  }
  const weightFiles = safetensors.map((n) => path.join(dir, n));
  for (const f of weightFiles) {
    if (!(await stat(f)).isFile()) throw new SegEarthError('MODEL_INVALID', `${f} is not a file.`, { path: f });
  }
  return { dir, config, weightFiles, tensors: await indexSafetensors(weightFiles) };
}

function checkArchitecture(config: Record<string, unknown>, dir: string): void {
  const type = typeof config.model_type === 'string' ? config.model_type : undefined;
  if (type !== undefined && KNOWN_MODEL_TYPES.includes(type)) return;
  const archs = Array.isArray(config.architectures) ? config.architectures.join(', ') : undefined;
  throw new SegEarthError(
    'MODEL_INVALID',
    `${path.join(dir, 'config.json')} describes model_type ${JSON.stringify(type ?? null)}${archs ? ` (${archs})` : ''}, not SegEarth-R1 (llava_phi: Swin-B + Phi-1.5).`,
    { hint: 'Only SegEarth-R1 checkpoints (earth-insights/SegEarth-R1-EarthReason, SegEarth-R1-RRSIS-D) can be converted.', path: dir },
  );
}

/** The Phi sizes of config.json (transformers 4.36 or 5.x layout), as tools/export/config.py reads them. */
export function phiSizes(config: Record<string, unknown>, base: TemplatePhiConfig): TemplatePhiConfig {
  const num = (v: unknown, d: number): number => (typeof v === 'number' ? v : d);
  const rope = (config.rope_parameters ?? {}) as Record<string, unknown>;
  const heads = num(config.num_attention_heads, base.num_heads);
  return {
    hidden_size: num(config.hidden_size, base.hidden_size),
    num_layers: num(config.num_hidden_layers, base.num_layers),
    num_heads: heads,
    num_kv_heads: num(config.num_key_value_heads, heads) || heads,
    intermediate_size: num(config.intermediate_size, base.intermediate_size),
    vocab_size: num(config.vocab_size, base.vocab_size),
    partial_rotary_factor: num(config.partial_rotary_factor, num(rope.partial_rotary_factor, base.partial_rotary_factor)),
    rope_theta: num(config.rope_theta, num(rope.rope_theta, base.rope_theta)),
    layer_norm_eps: num(config.layer_norm_eps, base.layer_norm_eps),
    max_positions: num(config.max_position_embeddings, base.max_positions),
  };
}

const ByteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
type AddedToken = { id: number; content: string; [k: string]: unknown };

/**
 * The checkpoint's tokenizer as a tokenizer.json object: its own tokenizer.json, or one built from
 * vocab.json + merges.txt (byte-level BPE, as Phi-1.5's) with added_tokens.json's tokens; `[SEG]` must be an
 * added token. Same result as tools/export/checkpoint.py `tokenizer_json`.
 */
export async function checkpointTokenizer(dir: string): Promise<Record<string, unknown>> {
  const has = async (f: string): Promise<boolean> => stat(path.join(dir, f)).then(() => true, () => false);
  const extra: Record<string, number> = (await has('added_tokens.json'))
    ? await readJson(path.join(dir, 'added_tokens.json'), z.record(z.string(), z.number().int()))
    : {};
  let tok: Record<string, unknown> & { added_tokens?: AddedToken[] };
  if (await has('tokenizer.json')) {
    tok = await readJson(path.join(dir, 'tokenizer.json'), z.record(z.string(), z.unknown()));
  } else if ((await has('vocab.json')) && (await has('merges.txt'))) {
    const vocab = await readJson(path.join(dir, 'vocab.json'), z.record(z.string(), z.number().int()));
    const merges = (await readFile(path.join(dir, 'merges.txt'), 'utf8')).split(/\r?\n/).filter((l) => l && !l.startsWith('#version'));
    tok = {
      version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null,
      pre_tokenizer: ByteLevel, post_processor: ByteLevel, decoder: ByteLevel,
      model: {
        type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '',
        fuse_unk: false, byte_fallback: false, vocab, merges,
      },
    };
    if (vocab[EOS_TOKEN] !== undefined && extra[EOS_TOKEN] === undefined) extra[EOS_TOKEN] = vocab[EOS_TOKEN];
  } else {
    throw new SegEarthError('MODEL_INVALID', `${dir} has no tokenizer: neither tokenizer.json nor vocab.json + merges.txt.`, {
      hint: 'Download the checkpoint repository completely (its tokenizer files too).',
      path: dir,
    });
  }
  const added: AddedToken[] = Array.isArray(tok.added_tokens) ? tok.added_tokens : [];
  const present = new Set(added.map((t) => t.content));
  for (const [content, id] of Object.entries(extra).sort((a, b) => a[1] - b[1])) {
    if (!present.has(content)) added.push({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  }
  tok.added_tokens = added;
  if (!added.some((t) => t.content === SEG_TOKEN)) {
    throw new SegEarthError('MODEL_INVALID', `The tokenizer in ${dir} has no ${SEG_TOKEN} added token: is this a SegEarth-R1 checkpoint?`, {
      hint: 'SegEarth-R1 checkpoints add [SEG] in added_tokens.json or tokenizer.json; download the released checkpoint again.',
      path: dir,
    });
  }
  return tok;
}

/** The `[SEG]` id of a tokenizer.json object. */
export function segTokenId(tok: Record<string, unknown>): number {
  const added = (tok.added_tokens ?? []) as AddedToken[];
  const t = added.find((a) => a.content === SEG_TOKEN);
  if (!t) throw new SegEarthError('MODEL_INVALID', `The tokenizer has no ${SEG_TOKEN} token.`);
  return t.id;
}

async function readJson<T>(file: string, schema: z.ZodType<T>): Promise<T> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new SegEarthError('MODEL_INVALID', `${file} is not readable JSON (${(err as Error).message}).`, {
      hint: 'Download the checkpoint file again.',
      path: file,
      cause: err,
    });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new SegEarthError('MODEL_INVALID', `${file} has an unexpected layout: ${parsed.error.issues[0]?.message ?? 'invalid'}.`, {
      hint: 'Download the checkpoint file again.',
      path: file,
    });
  }
  return parsed.data;
}
