/**
 * @module inference/conversion/checkCheckpoint
 * Checks a checkpoint folder against the graph template before anything is written: the Phi sizes of
 * config.json, every tensor the graphs need (present, same shape, a float dtype), the embedding table's width,
 * and the Swin relative position indices, which the graphs recompute from the window size (as the Python
 * exporter's `_check_derived`). Each mismatch is an error naming the tensor and what to do.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { SegEarthError } from '../../shared/errors.js';
import { type CheckpointFolder, phiSizes } from './checkpointFolder.js';
import { TensorReader } from './checkpointTensors.js';
import type { GraphTemplate, TemplatePhiConfig } from './graphTemplate.js';
import { FLOAT_SOURCE_DTYPES } from './weightTransforms.js';

export interface CheckpointFacts {
  /** Rows of the embedding table (the vocabulary the bundle gets). */
  readonly vocabSize: number;
  /** Checkpoint keys no graph uses, sorted (weights.json `unused`). */
  readonly unused: string[];
}

const SIZE_NAMES: Record<keyof TemplatePhiConfig, string> = {
  hidden_size: 'hidden_size',
  num_layers: 'num_hidden_layers',
  num_heads: 'num_attention_heads',
  num_kv_heads: 'num_key_value_heads',
  intermediate_size: 'intermediate_size',
  vocab_size: 'vocab_size',
  partial_rotary_factor: 'partial_rotary_factor',
  rope_theta: 'rope_theta',
  layer_norm_eps: 'layer_norm_eps',
  max_positions: 'max_position_embeddings',
};

function templateHint(ckpt: CheckpointFolder): string {
  return `This checkpoint is not the released SegEarth-R1 architecture the template was made for: write a template for it with \`/usr/bin/python3 -m tools.export ${ckpt.dir} --graphs-only -o <template-dir>\` and convert with --graphs <template-dir> (or export it with the Python exporter).`;
}

export async function checkCheckpoint(ckpt: CheckpointFolder, template: GraphTemplate): Promise<CheckpointFacts> {
  const want = template.json.config.phi;
  const have = phiSizes(ckpt.config, want);
  for (const k of Object.keys(SIZE_NAMES) as (keyof TemplatePhiConfig)[]) {
    // The vocabulary comes from the embedding table (as tools/export/checkpoint.py model_config), not config.json.
    if (k === 'vocab_size' || have[k] === want[k]) continue;
    throw new SegEarthError('MODEL_INVALID', `config.json has ${SIZE_NAMES[k]} ${have[k]}; the graph template (${template.json.profile}) expects ${want[k]}.`, {
      hint: templateHint(ckpt),
      path: path.join(ckpt.dir, 'config.json'),
    });
  }
  const spec = template.json.checkpoint;
  const missing = spec.tensors.filter((t) => !ckpt.tensors.has(t.key));
  if (missing.length > 0) {
    throw new SegEarthError(
      'MODEL_INVALID',
      `The checkpoint lacks ${missing.length} tensor${missing.length === 1 ? '' : 's'} the graphs need: ${missing.slice(0, 3).map((t) => t.key).join(', ')}${missing.length > 3 ? ', …' : ''}.`,
      { hint: 'Download the checkpoint again (a shard may be missing), or check that it is a SegEarth-R1 checkpoint.', path: ckpt.dir },
    );
  }
  let vocabSize = 0;
  for (const t of spec.tensors) {
    const src = ckpt.tensors.get(t.key)!;
    if (!FLOAT_SOURCE_DTYPES.includes(src.dtype)) {
      throw new SegEarthError('MODEL_INVALID', `Checkpoint tensor ${t.key} is ${src.dtype}; a weight must be F32, F16 or BF16.`, {
        hint: 'The checkpoint is not in the released layout (quantized or converted checkpoints cannot be read): download the released checkpoint.',
        path: src.file,
      });
    }
    const isEmbed = t.key === spec.embedKey;
    const ok = isEmbed ? src.shape.length === 2 && src.shape[1] === t.shape[1] : src.shape.join(',') === t.shape.join(',');
    if (!ok) {
      throw new SegEarthError(
        'MODEL_INVALID',
        `Checkpoint tensor ${t.key} has shape [${src.shape.join(', ')}]; the graph template expects [${isEmbed ? `vocab, ${t.shape[1]}` : t.shape.join(', ')}].`,
        { hint: templateHint(ckpt), path: src.file },
      );
    }
    if (isEmbed) vocabSize = src.shape[0]!;
  }
  await checkRelativePositionIndex(ckpt, template);
  const used = new Set(spec.tensors.map((t) => t.key));
  return { vocabSize, unused: [...ckpt.tensors.keys()].filter((k) => !used.has(k)).sort() };
}

/** The checkpoint's `*.attn.relative_position_index` buffers must equal the ones derived from the window size. */
async function checkRelativePositionIndex(ckpt: CheckpointFolder, template: GraphTemplate): Promise<void> {
  const rpi = template.json.checkpoint.relativePositionIndex;
  const reader = new TensorReader();
  try {
    for (const [key, t] of ckpt.tensors) {
      if (!key.endsWith(rpi.suffix)) continue;
      const same = t.dtype === 'I64' && t.shape.join(',') === rpi.shape.join(',') &&
        createHash('sha256').update(await reader.read(t)).digest('hex') === rpi.sha256;
      if (!same) {
        throw new SegEarthError('MODEL_INVALID', `Checkpoint tensor ${key} differs from the relative position index of the template's window size.`, {
          hint: templateHint(ckpt),
          path: t.file,
        });
      }
    }
  } finally {
    await reader.close();
  }
}
