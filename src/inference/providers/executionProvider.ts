/**
 * @module inference/providers/executionProvider
 * Chooses the onnxruntime execution provider: the one asked for, or the best one that really works here, in
 * the order CUDA → WebGPU → DirectML → CoreML → CPU. Every provider that was not taken gets a human reason
 * ("CUDA: onnxruntime CUDA libraries not installed (...)", "WebGPU: no GPU adapter: ..."), so the app and the
 * CLI can say which provider runs and why it fell back. A provider is only taken after a tiny probe session
 * on it was created and run (see `probeModel`): listing a provider is not proof that its driver works.
 *
 * The probe environment is injectable (`EpEnvironment`) so the selection and fallback logic is testable on a
 * machine without any GPU.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { ort } from './onnxruntime.js';
import { z } from 'zod';
import { SegEarthError } from '../../shared/errors.js';
import { probeModelBytes } from './probeModel.js';

import { EP_LABEL, EXECUTION_PROVIDERS, ExecutionProviderSchema, type EpRequest, type ExecutionProvider } from '../../shared/executionProviders.js';

export { EP_LABEL, EXECUTION_PROVIDERS, EpRequestSchema, ExecutionProviderSchema, type EpRequest, type ExecutionProvider } from '../../shared/executionProviders.js';

export const ThreadSettingsSchema = z.object({
  /** Threads inside one operator (matrix multiplies); 0 = onnxruntime's default (one per physical core). */
  intraOp: z.number().int().nonnegative(),
  /** Threads across independent operators (only used with parallel execution mode). */
  interOp: z.number().int().nonnegative(),
});
export type ThreadSettings = z.infer<typeof ThreadSettingsSchema>;

export const EpChoiceSchema = z.object({
  provider: ExecutionProviderSchema,
  /** Why this provider was taken, e.g. "asked for with --ep cpu" or "best working provider". */
  reason: z.string(),
  /** Providers tried before (or instead of) it, best first, each with why it was not used. */
  skipped: z.array(z.object({ provider: ExecutionProviderSchema, reason: z.string() })),
  threads: ThreadSettingsSchema,
  /** Advice about the loaded model on this provider (`precisionAdvice`), e.g. fp16 graphs on the CPU. */
  notes: z.array(z.string()).optional(),
});
export type EpChoice = z.infer<typeof EpChoiceSchema>;

/** What the selection needs to know about the machine; the default reads onnxruntime-node and the OS. */
export interface EpEnvironment {
  platform: NodeJS.Platform;
  /** `listSupportedBackends()` of onnxruntime-node: names and whether their libraries are bundled. */
  backends: ReadonlyArray<{ name: string; bundled: boolean }>;
  /** Creates and runs a probe session on the provider; rejects with the onnxruntime error when it does not work. */
  probe(provider: ExecutionProvider): Promise<void>;
  /** Linux only: whether a Vulkan loader is installed (Dawn, the WebGPU backend, needs it there). */
  hasVulkanLoader(): boolean;
  /** Whether onnxruntime's CUDA provider library sits next to the native binding (ONNXRUNTIME_NODE_INSTALL=cuda12). */
  hasCudaProviderLibrary(): boolean;
}

/** Which platforms a provider can exist on at all. */
const PLATFORMS: Record<ExecutionProvider, ReadonlyArray<NodeJS.Platform> | 'any'> = {
  cuda: ['linux', 'win32'],
  webgpu: ['linux', 'win32', 'darwin'],
  dml: ['win32'],
  coreml: ['darwin'],
  cpu: 'any',
};

/** onnxruntime's name of a provider in `executionProviders`. */
export function ortProviderName(provider: ExecutionProvider): string {
  return provider;
}

/** Default thread settings: intra-op = logical cores (the LLM and Swin are matmul bound), inter-op = 1. */
export function defaultThreads(): ThreadSettings {
  return { intraOp: Math.max(1, os.availableParallelism()), interOp: 1 };
}

/**
 * Session options for a provider and thread settings (graph optimisation on, memory arena on).
 *
 * `spin`: whether the session's intra-op threads busy-wait for work between operators. Each session has its own
 * pool, and a pool keeps spinning for a while after its run ends — on a machine with few cores that steals the
 * cores from the next session's run. Measured on 2 cores with the full-size layout: a follow-up question's LLM
 * step took 44–53 ms with every pool spinning and 26–30 ms with the LLM and head pools not spinning, while
 * the image graph (one long run of many small operators) lost ~4 % without spinning. So the image graph spins,
 * the short LLM and head runs do not (`spinFor`).
 */
export function sessionOptions(provider: ExecutionProvider, threads: ThreadSettings, spin = true): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: provider === 'cpu' ? ['cpu'] : [ortProviderName(provider), 'cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads.intraOp,
    interOpNumThreads: threads.interOp,
    executionMode: 'sequential',
    enableCpuMemArena: true,
    enableMemPattern: true,
    ...(spin ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
  };
}

/** Whether a graph's session should spin (see `sessionOptions`): only the long-running image graph. */
export function spinFor(graph: 'image' | 'llm' | 'head'): boolean {
  return graph === 'image';
}

const CUDA_NOT_INSTALLED =
  'onnxruntime CUDA libraries not installed (run: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node; needs the NVIDIA CUDA 12 runtime and cuDNN 9)';

const LIB_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib'];

export function defaultEnvironment(): EpEnvironment {
  return {
    platform: process.platform,
    backends: ort.listSupportedBackends(),
    async probe(provider) {
      const session = await ort.InferenceSession.create(probeModelBytes(), {
        executionProviders: [ortProviderName(provider)],
        logSeverityLevel: 4,
      });
      try {
        const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4]), [4]) });
        const y = out.y?.data;
        if (!(y instanceof Float32Array) || y[3] !== 8) throw new Error('probe graph returned a wrong result');
      } finally {
        await session.release();
      }
    },
    hasVulkanLoader() {
      return LIB_DIRS.some((dir) => existsSync(`${dir}/libvulkan.so.1`));
    },
    hasCudaProviderLibrary() {
      const file = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
      const pkg = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
      return existsSync(join(pkg, 'bin', 'napi-v6', process.platform, process.arch, file));
    },
  };
}

/** Turns an onnxruntime failure into a one-line reason an analyst can act on. */
export function explainProbeFailure(provider: ExecutionProvider, error: unknown, env: EpEnvironment): string {
  const raw = error instanceof Error ? error.message : String(error);
  const firstLine = raw.split('\n')[0] ?? raw;
  switch (provider) {
    case 'cuda':
      if (/shared library|cannot open shared object|providers_shared|libcudnn|libcublas|libcudart/i.test(raw)) {
        return 'onnxruntime could not load the CUDA 12 / cuDNN 9 runtime libraries (install the NVIDIA CUDA 12 runtime and cuDNN 9)';
      }
      if (/no CUDA-capable device|cudaErrorNoDevice|CUDA driver/i.test(raw)) return `no usable NVIDIA GPU or driver: ${firstLine}`;
      return `session creation failed: ${firstLine}`;
    case 'webgpu': {
      const adapter = /adapter/i.test(raw);
      if (adapter && env.platform === 'linux' && !env.hasVulkanLoader()) {
        return 'no GPU adapter: the Vulkan loader libvulkan.so.1 is not installed (install libvulkan1 and your GPU vendor\'s Vulkan driver, e.g. mesa-vulkan-drivers or the NVIDIA driver)';
      }
      if (adapter) return `no GPU adapter: ${firstLine.replace(/^.*was false\.\s*/, '')}`;
      return `session creation failed: ${firstLine}`;
    }
    case 'dml':
      return `DirectML device creation failed: ${firstLine}`;
    case 'coreml':
      return `CoreML session creation failed: ${firstLine}`;
    case 'cpu':
      return `CPU session creation failed: ${firstLine}`;
  }
}

/** Why a provider cannot even be tried on this machine (without probing it), or null when it can. */
function staticUnavailability(provider: ExecutionProvider, env: EpEnvironment): string | null {
  if (provider === 'cpu') return null;
  if (!env.backends.some((b) => b.name === provider)) return 'not part of this onnxruntime-node build';
  if (provider === 'cuda' && !env.hasCudaProviderLibrary()) return CUDA_NOT_INSTALLED;
  if (provider === 'webgpu' && env.platform === 'linux' && !env.hasVulkanLoader()) {
    return 'no GPU adapter: the Vulkan loader libvulkan.so.1 is not installed (install libvulkan1 and your GPU vendor\'s Vulkan driver, e.g. mesa-vulkan-drivers or the NVIDIA driver)';
  }
  return null;
}

function possibleOn(provider: ExecutionProvider, platform: NodeJS.Platform): boolean {
  const platforms = PLATFORMS[provider];
  return platforms === 'any' || platforms.includes(platform);
}

export interface SelectOptions {
  request?: EpRequest;
  threads?: Partial<ThreadSettings>;
  env?: EpEnvironment;
}

/**
 * Picks the execution provider. With `request: 'auto'` (default) the first provider in
 * CUDA → WebGPU → DirectML → CoreML → CPU whose probe session works; with a named provider, that one or a
 * `BAD_ARGUMENT` error explaining why it cannot run (never a silent fallback when the user asked explicitly).
 */
export async function selectExecutionProvider(options: SelectOptions = {}): Promise<EpChoice> {
  const request = options.request ?? 'auto';
  const env = options.env ?? defaultEnvironment();
  const threads: ThreadSettings = { ...defaultThreads(), ...options.threads };
  const skipped: EpChoice['skipped'] = [];

  const tryProvider = async (provider: ExecutionProvider): Promise<string | null> => {
    if (!possibleOn(provider, env.platform)) return `not available on ${env.platform}`;
    const unavailable = staticUnavailability(provider, env);
    if (unavailable) return unavailable;
    try {
      await env.probe(provider);
      return null;
    } catch (error) {
      return explainProbeFailure(provider, error, env);
    }
  };

  if (request !== 'auto') {
    const failure = await tryProvider(request);
    if (failure === null) return { provider: request, reason: `asked for (${EP_LABEL[request]})`, skipped, threads };
    throw new SegEarthError('BAD_ARGUMENT', `${EP_LABEL[request]} execution provider cannot run here: ${failure}.`, {
      hint: 'Use --ep auto to take the best working provider, or --ep cpu.',
    });
  }

  for (const provider of EXECUTION_PROVIDERS.filter((p) => possibleOn(p, env.platform))) {
    const failure = await tryProvider(provider);
    if (failure === null) {
      const reason = skipped.length === 0 ? 'best available provider' : `fell back: ${skipped.map((s) => EP_LABEL[s.provider]).join(', ')} unavailable`;
      return { provider, reason, skipped, threads };
    }
    skipped.push({ provider, reason: failure });
  }
  throw new SegEarthError('INFERENCE_FAILED', 'No onnxruntime execution provider works on this machine, not even the CPU.', {
    hint: skipped.map((s) => `${EP_LABEL[s.provider]}: ${s.reason}`).join('; '),
  });
}

/** One line per provider, for `--json`-less CLI output and logs: "WebGPU (fell back: CUDA unavailable) …". */
export function describeChoice(choice: EpChoice): string {
  const lines = [`Execution provider: ${EP_LABEL[choice.provider]} (${choice.reason}); ${choice.threads.intraOp} intra-op thread(s)`];
  for (const s of choice.skipped) lines.push(`  ${EP_LABEL[s.provider]}: ${s.reason}`);
  for (const n of choice.notes ?? []) lines.push(`  Note: ${n}`);
  return lines.join('\n');
}
