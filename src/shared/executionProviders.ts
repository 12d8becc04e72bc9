/**
 * @module shared/executionProviders
 * The vocabulary of onnxruntime execution providers, end to end (runtime, CLI, API, UI): the providers in the
 * order `auto` tries them, what can be asked for (`auto` first, then the order settings show), and their
 * display names.
 */
import { z } from 'zod';

/** In the order `auto` tries them. */
export const EXECUTION_PROVIDERS = ['cuda', 'webgpu', 'dml', 'coreml', 'cpu'] as const;
export const ExecutionProviderSchema = z.enum(EXECUTION_PROVIDERS);
export type ExecutionProvider = z.infer<typeof ExecutionProviderSchema>;

/** What a user can ask for (settings, `--ep`). */
export const EP_REQUESTS = ['auto', 'cpu', 'webgpu', 'cuda', 'dml', 'coreml'] as const;
export const EpRequestSchema = z.enum(EP_REQUESTS);
export type EpRequest = z.infer<typeof EpRequestSchema>;

/** Display names used in reasons and the UI. */
export const EP_LABEL: Readonly<Record<ExecutionProvider, string>> = {
  cuda: 'CUDA',
  webgpu: 'WebGPU',
  dml: 'DirectML',
  coreml: 'CoreML',
  cpu: 'CPU',
};
