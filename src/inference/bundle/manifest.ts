/**
 * @module inference/bundle/manifest
 * The schema of a SegEarth-R1 model bundle's `manifest.json` (format version 1), validated with zod.
 *
 * A bundle is a folder `models/<id>/` written by `tools/export` (Python) and read by the TypeScript runtime.
 * Layout and semantics are documented in docs/MODEL_BUNDLE.md; this module is the machine-checked contract.
 *
 * Shapes use numbers for fixed dimensions and strings for symbolic ones (`"T"` new tokens, `"P"` past length,
 * `"L"` description length). All tensors are batch 1, row-major, little-endian.
 */
import { z } from 'zod';
import { VariantSchema, type Variant } from '../../shared/api/modelDto.js';

/** The only format version this runtime understands. Bumped on any incompatible change. */
export const BUNDLE_FORMAT_VERSION = 1;

/** Lower-case hex sha256 of a file's bytes. */
export const Sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lower-case hex digits');

/** A path relative to the bundle folder: no absolute paths, no `..`, forward slashes. */
export const BundlePathSchema = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.includes('\\') && !p.split('/').includes('..'), {
    message: 'must be a relative path inside the bundle (no "/" prefix, no "..", no backslashes)',
  });

export const TensorDtypeSchema = z.enum(['float32', 'float16', 'int64', 'int32', 'int8', 'uint8', 'bool']);
export type TensorDtype = z.infer<typeof TensorDtypeSchema>;

/** A dimension: a fixed size or a symbolic name. */
export const DimSchema = z.union([z.number().int().nonnegative(), z.string().min(1)]);

export const TensorSpecSchema = z.object({
  name: z.string().min(1),
  dtype: TensorDtypeSchema,
  shape: z.array(DimSchema),
  /** Free-text meaning, e.g. "Swin stage-4 output after norm3". */
  doc: z.string().optional(),
});
export type TensorSpec = z.infer<typeof TensorSpecSchema>;

/**
 * A graph's numeric precision (docs/MODEL_BUNDLE.md "Precision"). `fp16`: float16 weights and arithmetic
 * behind a float32 interface (inputs, outputs and KV cache stay float32); for GPUs. `int8-weight-only` /
 * `int4-weight-only`: the llm's Linear weights block-quantized for com.microsoft.MatMulNBits, float32
 * interface; for CPUs. How those matmuls treat their activations is the graph's `accuracyLevel`.
 * `int8-dynamic`: the image graph's Linear layers as com.microsoft.DynamicQuantizeMatMul — int8 weights per
 * output channel, activations quantized to uint8 per tensor at run time; float32 interface; for CPUs.
 */
export const PrecisionSchema = z.enum(['fp32', 'fp16', 'int8-weight-only', 'int4-weight-only', 'int8-dynamic']);
export type Precision = z.infer<typeof PrecisionSchema>;

/** One file of the bundle with its integrity data. */
export const FileEntrySchema = z.object({
  path: BundlePathSchema,
  bytes: z.number().int().nonnegative(),
  sha256: Sha256Schema,
});
export type FileEntry = z.infer<typeof FileEntrySchema>;

export const GraphNameSchema = z.enum(['image', 'llm', 'head']);
export type GraphName = z.infer<typeof GraphNameSchema>;

/** One ONNX graph. Weights live in `externalData` (ONNX external data, raw little-endian tensors). */
export const GraphSpecSchema = z.object({
  file: BundlePathSchema,
  /** External-data files this graph references (may be empty for a graph without weights). */
  externalData: z.array(BundlePathSchema),
  opset: z.number().int().min(16),
  precision: PrecisionSchema,
  /**
   * `int8-weight-only` / `int4-weight-only` graphs: the `accuracy_level` attribute of every MatMulNBits node —
   * the lowest precision the op may compute its activations in: 0 unset (float32), 1 fp32, 2 fp16, 3 bf16,
   * 4 int8 (activations quantized per block of the weights' block size; onnxruntime's fast CPU kernels). Absent
   * in bundles exported before it was recorded, whose nodes have none (0). Informational: the runtime runs the
   * graph as it is.
   */
  accuracyLevel: z.number().int().min(0).max(4).optional(),
  inputs: z.array(TensorSpecSchema).min(1),
  outputs: z.array(TensorSpecSchema).min(1),
});
export type GraphSpec = z.infer<typeof GraphSpecSchema>;

/**
 * The prompt, as an ordered list of chunks. Text chunks are tokenized each on their own, without special
 * tokens; `image` becomes the image graph's `image_tokens`; `refer` becomes
 * `encode(referPrefix + question) + [SEG]`. Causal attention: nothing after `refer` matters, so the template
 * ends there.
 */
export const PromptChunkSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('text'), text: z.string() }),
  z.object({ kind: z.literal('image') }),
  z.object({ kind: z.literal('refer') }),
]);
export type PromptChunk = z.infer<typeof PromptChunkSchema>;

export const PromptSchema = z
  .object({
    chunks: z.array(PromptChunkSchema).min(3),
    /** Prepended to the question before tokenizing the refer chunk (the official code uses a space). */
    referPrefix: z.string(),
    /**
     * How many leading chunks form the fixed system prefix whose KV cache is stored in `prefixCache`
     * (question- and image-independent). Usually 1: the system text chunk.
     */
    prefixChunks: z.number().int().nonnegative(),
  })
  .refine((p) => p.chunks.filter((c) => c.kind === 'image').length === 1, {
    message: 'prompt must contain exactly one image chunk',
  })
  .refine((p) => p.chunks.length > 0 && p.chunks[p.chunks.length - 1]?.kind === 'refer', {
    message: 'prompt must end with the refer chunk',
  })
  .refine((p) => p.chunks.slice(0, p.prefixChunks).every((c) => c.kind === 'text'), {
    message: 'prefix chunks must be text chunks',
  });
export type Prompt = z.infer<typeof PromptSchema>;

/** How an arbitrary RGB window becomes the model's square input (the official RS_val_dataset rule). */
export const LetterboxSchema = z.object({
  /** Longest side scaled to `size`; the other side `floor(side * size / longest)`. */
  resize: z.literal('longest-side'),
  /** Bilinear, no antialias, half-pixel centres (cv2 INTER_LINEAR on uint8). */
  interpolation: z.literal('bilinear'),
  /** Padding split: top/left = floor(pad / 2), bottom/right = the rest. */
  pad: z.literal('center'),
  /** Pad value in uint8 pixel space, before normalisation. */
  padValue: z.number(),
});

export const ImageInputSchema = z.object({
  size: z.number().int().positive(),
  channels: z.literal('RGB'),
  /** Applied as (x - mean) / std to uint8-range values, per channel. */
  mean: z.tuple([z.number(), z.number(), z.number()]),
  std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
  letterbox: LetterboxSchema,
});
export type ImageInput = z.infer<typeof ImageInputSchema>;

export const TokenizerSpecSchema = z.object({
  file: BundlePathSchema,
  vocabSize: z.number().int().positive(),
  /** Text chunks and the question are encoded with add_special_tokens = false. */
  addSpecialTokens: z.literal(false),
  specialTokens: z.object({
    seg: z.object({ content: z.string().min(1), id: z.number().int().nonnegative() }),
  }),
});

/** Sizes the runtime needs to allocate and interpret tensors. */
export const ArchitectureSchema = z.object({
  hiddenSize: z.number().int().positive(),
  numLayers: z.number().int().positive(),
  numHeads: z.number().int().positive(),
  numKeyValueHeads: z.number().int().positive(),
  headDim: z.number().int().positive(),
  imageTokens: z.number().int().positive(),
  /** Side of `mask_logits_256` (the head's output). */
  maskSize: z.number().int().positive(),
  /** Runtime upsamples mask logits bilinearly (align_corners false) to the input size, then `logit > threshold`. */
  maskThreshold: z.number(),
  maxPositions: z.number().int().positive(),
});
export type Architecture = z.infer<typeof ArchitectureSchema>;

/** The embedding table: raw little-endian, row-major [vocab, hidden]; row i starts at i * hidden * bytes. */
export const EmbeddingsSchema = z.object({
  file: BundlePathSchema,
  dtype: z.enum(['float32', 'float16']),
  shape: z.tuple([z.number().int().positive(), z.number().int().positive()]),
});

/** Names of the llm graph's cache tensors; `{i}` is the layer index. Layout [1, kvHeads, seq, headDim]. */
export const KvCacheNamesSchema = z.object({
  pastKey: z.string().includes('{i}'),
  pastValue: z.string().includes('{i}'),
  presentKey: z.string().includes('{i}'),
  presentValue: z.string().includes('{i}'),
  layout: z.literal('batch,heads,seq,headDim'),
  dtype: z.enum(['float32', 'float16']),
});

/** The system-prefix KV cache: a safetensors file holding `pastKey`/`pastValue` names for every layer. */
export const PrefixCacheSchema = z.object({
  file: BundlePathSchema,
  /** The prefix token ids the cache was computed from (positions 0..length-1). */
  tokenIds: z.array(z.number().int().nonnegative()),
  length: z.number().int().nonnegative(),
});

/**
 * Parameters of a block quantization for com.microsoft.MatMulNBits (no zero_points input: the op's default
 * zero point 2^(bits-1) applies). A [N, K] Linear weight yields two entries for the same key (`part`):
 * `values` uint8 [N, K / blockSize, blockSize * bits / 8] and `scales` float32 [N * K / blockSize]. All
 * arithmetic is float32; `round` is round-half-to-even.
 */
const blockQuantization = {
  part: z.enum(['values', 'scales']),
  blockSize: z.number().int().positive(),
  zeroPoint: z.number().int(),
};

/** Where a weight's bytes come from and go to; see docs/MODEL_BUNDLE.md "Weight map". */
export const WeightTransformSchema = z.discriminatedUnion('kind', [
  /**
   * Bytes copied after a dtype cast (source dtype → `dtype`); to float16 with IEEE round-to-nearest-even (the
   * exporter refuses weights outside the float16 range).
   */
  z.object({ kind: z.literal('cast') }),
  /**
   * Weight-only int8 (bits 8, `zeroPoint` 128): per block scale = max|w| / 127 (1 when the block is all
   * zero); value = round(w / scale) clamped to ±127, plus 128; one value per byte.
   */
  z.object({ kind: z.literal('quantize-int8-block'), ...blockQuantization }),
  /**
   * Weight-only int4 (bits 4, `zeroPoint` 8): per block m = the value of largest magnitude (the first on
   * ties), scale = m / −8 (1 when m is 0; negative when m > 0, so m itself maps to code 0); code =
   * round(w / scale) clamped to [−8, 7], plus 8; two codes per byte, even index in the low nibble.
   */
  z.object({ kind: z.literal('quantize-int4-block'), ...blockQuantization }),
  /**
   * Per-output-channel int8 for DynamicQuantizeMatMul (`dtype` int8, zero point 0): a Linear weight W [N, K]
   * gets scale[n] = max_k |W[n, k]| / 127 (1 when the row is all zero); `values` are round(W / scale) clamped
   * to ±127, stored transposed as [K, N]; `scales` are float32 [N].
   */
  z.object({ kind: z.literal('quantize-int8-channel'), part: z.enum(['values', 'scales']), zeroPoint: z.literal(0) }),
]);
export type WeightTransform = z.infer<typeof WeightTransformSchema>;

export const WeightEntrySchema = z.object({
  /** Checkpoint state_dict key, e.g. `model.layers.0.self_attn.q_proj.weight`. */
  key: z.string().min(1),
  /** Target: a graph's external-data file or the embedding table. */
  target: z.enum(['image', 'llm', 'head', 'embeddings']),
  /** ONNX initializer name (equal to `key` for graph weights; absent for the embedding table). */
  initializer: z.string().optional(),
  file: BundlePathSchema,
  offset: z.number().int().nonnegative(),
  length: z.number().int().nonnegative(),
  /** Dtype stored in the bundle. */
  dtype: TensorDtypeSchema,
  shape: z.array(z.number().int().nonnegative()),
  transform: WeightTransformSchema,
});
export type WeightEntry = z.infer<typeof WeightEntrySchema>;

/** `weights.json`: the weight map, a separate file referenced by the manifest. */
export const WeightMapSchema = z.object({
  formatVersion: z.literal(BUNDLE_FORMAT_VERSION),
  /** Checkpoint keys deliberately not exported (training-only or unused at inference). */
  unused: z.array(z.string()),
  entries: z.array(WeightEntrySchema),
});
export type WeightMap = z.infer<typeof WeightMapSchema>;

export const SourceSchema = z.object({
  /** e.g. `earth-insights/SegEarth-R1-EarthReason`, or `synthetic` for test fixtures. */
  checkpoint: z.string().min(1),
  /** The checkpoint's revision (a commit or branch of its model repository), when known. */
  revision: z.string().min(1).optional(),
  /** sha256 of the checkpoint's weight file(s), by file name. */
  files: z.array(z.object({ name: z.string().min(1), sha256: Sha256Schema })),
  exporter: z.object({ name: z.string().min(1), version: z.string().min(1) }),
});

/** The variants are the contract's (`shared/api/modelDto`): the app and the manifest spell them alike. */
export { VariantSchema, type Variant };

export const ManifestSchema = z
  .object({
    formatVersion: z.literal(BUNDLE_FORMAT_VERSION),
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'id: lower-case letters, digits, ".", "_", "-"'),
    name: z.string().min(1),
    /** True for generated test fixtures (random weights): never present these as a model. */
    testFixture: z.boolean(),
    source: SourceSchema,
    variant: VariantSchema,
    prompt: PromptSchema,
    tokenizer: TokenizerSpecSchema,
    image: ImageInputSchema,
    architecture: ArchitectureSchema,
    graphs: z.object({ image: GraphSpecSchema, llm: GraphSpecSchema, head: GraphSpecSchema }),
    embeddings: EmbeddingsSchema,
    kvCache: KvCacheNamesSchema,
    prefixCache: PrefixCacheSchema,
    weightMap: BundlePathSchema,
    /** Every file of the bundle except manifest.json itself. */
    files: z.array(FileEntrySchema).min(1),
  })
  .superRefine((m, ctx) => {
    const listed = new Set(m.files.map((f) => f.path));
    const referenced = [
      m.tokenizer.file,
      m.embeddings.file,
      m.prefixCache.file,
      m.weightMap,
      ...Object.values(m.graphs).flatMap((g) => [g.file, ...g.externalData]),
    ];
    for (const p of referenced) {
      if (!listed.has(p)) ctx.addIssue({ code: 'custom', message: `file "${p}" is referenced but not in files[]` });
    }
    if (m.tokenizer.specialTokens.seg.id >= m.embeddings.shape[0]) {
      ctx.addIssue({ code: 'custom', message: '[SEG] id is outside the embedding table' });
    }
    for (const [name, g] of Object.entries(m.graphs)) {
      if (g.accuracyLevel !== undefined && g.precision !== 'int8-weight-only' && g.precision !== 'int4-weight-only') {
        ctx.addIssue({ code: 'custom', message: `graphs.${name}: accuracyLevel is only for int8/int4-weight-only graphs` });
      }
    }
    if (m.embeddings.shape[1] !== m.architecture.hiddenSize) {
      ctx.addIssue({ code: 'custom', message: 'embedding width differs from architecture.hiddenSize' });
    }
  });
export type Manifest = z.infer<typeof ManifestSchema>;

/** Expands a `{i}` cache-name pattern for one layer. */
export function kvName(pattern: string, layer: number): string {
  return pattern.replace('{i}', String(layer));
}
