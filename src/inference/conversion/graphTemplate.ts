/**
 * @module inference/conversion/graphTemplate
 * A graph template: what a bundle holds that does not depend on the checkpoint's weights — the three `.onnx`
 * graphs, `weights.json` and `template.json` (the profile, the model configuration, the checkpoint-independent
 * manifest fields, every variant's prompt and the checkpoint it expects). Written by the Python exporter
 * (`python3 -m tools.export.template`, or `python3 -m tools.export <checkpoint> --graphs-only`); the app ships
 * one per precision profile for the released architecture in `<shipped models>/graph-templates/<profile>/`
 * (docs/MODEL_BUNDLE.md "Graph templates").
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { SegEarthError } from '../../shared/errors.js';
import {
  ArchitectureSchema,
  EmbeddingsSchema,
  FileEntrySchema,
  GraphSpecSchema,
  ImageInputSchema,
  KvCacheNamesSchema,
  PromptChunkSchema,
  VariantSchema,
  WeightMapSchema,
  type WeightMap,
} from '../bundle/manifest.js';
import { defaultShippedDir } from '../models/locations.js';
import { sha256File } from '../models/verify.js';

export const TEMPLATE_FILE = 'template.json';
/** The precision profiles shipped with the app (tools/export/template.py PROFILES). */
export const CONVERSION_PRECISIONS = ['fp32', 'cpu', 'fp16'] as const;
export type ConversionPrecision = (typeof CONVERSION_PRECISIONS)[number];

const PhiConfigSchema = z.object({
  hidden_size: z.number().int().positive(),
  num_layers: z.number().int().positive(),
  num_heads: z.number().int().positive(),
  num_kv_heads: z.number().int().positive(),
  intermediate_size: z.number().int().positive(),
  vocab_size: z.number().int().positive(),
  partial_rotary_factor: z.number(),
  rope_theta: z.number(),
  layer_norm_eps: z.number(),
  max_positions: z.number().int().positive(),
});
export type TemplatePhiConfig = z.infer<typeof PhiConfigSchema>;

export const GraphTemplateSchema = z.object({
  formatVersion: z.literal(1),
  profile: z.string().min(1),
  options: z.object({
    precision: z.enum(['fp32', 'fp16']),
    llmWeights: z.string().nullable(),
    imageWeights: z.string().nullable(),
    llmAccuracyLevel: z.number().int().nullable(),
  }),
  exporter: z.object({ name: z.string(), version: z.string() }),
  config: z.object({ phi: PhiConfigSchema }).passthrough(),
  manifest: z.object({
    image: ImageInputSchema,
    architecture: ArchitectureSchema,
    graphs: z.object({ image: GraphSpecSchema, llm: GraphSpecSchema, head: GraphSpecSchema }),
    embeddings: EmbeddingsSchema,
    kvCache: KvCacheNamesSchema,
    prompts: z.record(VariantSchema, z.array(PromptChunkSchema)),
    referPrefix: z.string(),
    prefixChunks: z.number().int().nonnegative(),
  }),
  checkpoint: z.object({
    embedKey: z.string(),
    tensors: z.array(z.object({ key: z.string(), shape: z.array(z.number().int().nonnegative()) })),
    relativePositionIndex: z.object({ suffix: z.string(), shape: z.array(z.number().int()), sha256: z.string() }),
  }),
  files: z.array(FileEntrySchema),
  dataFiles: z.record(z.string(), z.number().int().nonnegative()),
});
export type GraphTemplateJson = z.infer<typeof GraphTemplateSchema>;

export interface GraphTemplate {
  readonly dir: string;
  readonly json: GraphTemplateJson;
  readonly weightMap: WeightMap;
}

/** The folder of the shipped templates: `<shipped models>/graph-templates` (resources when packaged). */
export function shippedTemplatesDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return path.join(defaultShippedDir(env), 'graph-templates');
}

/** The template folder for a profile, or the one given with `--graphs`. */
export function templateDirFor(o: { precision?: ConversionPrecision | undefined; templateDir?: string | undefined }): string {
  return o.templateDir ? path.resolve(o.templateDir) : path.join(shippedTemplatesDir(), o.precision ?? 'fp32');
}

/** Reads and checks a template folder (schema; with `verify`, the sha256 of its graphs and weights.json). */
export async function readGraphTemplate(dir: string, options: { verify?: boolean; signal?: AbortSignal } = {}): Promise<GraphTemplate> {
  let raw: string;
  try {
    raw = await readFile(path.join(dir, TEMPLATE_FILE), 'utf8');
  } catch (err) {
    throw new SegEarthError('MODEL_NOT_FOUND', `No graph template in ${dir} (no ${TEMPLATE_FILE}).`, {
      hint: 'Give --graphs a folder written by `python3 -m tools.export <checkpoint> --graphs-only -o <dir>` (or `python3 -m tools.export.template`); the shipped templates live in models/graph-templates/.',
      path: dir,
      cause: err,
    });
  }
  const parsed = GraphTemplateSchema.safeParse(JSON.parse(raw));
  if (!parsed.success) {
    throw new SegEarthError('MODEL_INVALID', `${path.join(dir, TEMPLATE_FILE)} is not a graph template: ${parsed.error.issues[0]?.message ?? 'invalid'}.`, {
      hint: 'Write the template again with the Python exporter of this version.',
      path: dir,
    });
  }
  for (const f of parsed.data.files) {
    const file = path.join(dir, f.path);
    const size = await stat(file).then((s) => s.size, () => -1);
    const bad = size !== f.bytes || (options.verify && (await sha256File(file, undefined, options.signal)) !== f.sha256);
    if (bad) {
      throw new SegEarthError('MODEL_INVALID', `The graph template in ${dir} is damaged: ${f.path} ${size < 0 ? 'is missing' : 'does not match template.json'}.`, {
        hint: 'Reinstall the app, or write the template again with the Python exporter.',
        path: file,
      });
    }
  }
  return { dir, json: parsed.data, weightMap: await readWeightMap(dir) };
}

/** A bundle's or template's `weights.json`, validated. */
export async function readWeightMap(dir: string): Promise<WeightMap> {
  return WeightMapSchema.parse(JSON.parse(await readFile(path.join(dir, 'weights.json'), 'utf8')));
}
