import { describe, expect, it } from 'vitest';
import {
  defaultEnvironment,
  describeChoice,
  selectExecutionProvider,
  sessionOptions,
  spinFor,
  type EpEnvironment,
  type ExecutionProvider,
} from '../../src/inference/providers/executionProvider.js';
import { isSegEarthError } from '../../src/shared/errors.js';

/** A fake machine: which providers are listed and which probes fail with which onnxruntime message. */
function fakeEnv(opts: {
  platform?: NodeJS.Platform;
  backends?: Array<{ name: string; bundled: boolean }>;
  failures?: Partial<Record<ExecutionProvider, string>>;
  vulkan?: boolean;
  cudaLibs?: boolean;
}): EpEnvironment & { probed: ExecutionProvider[] } {
  const probed: ExecutionProvider[] = [];
  return {
    probed,
    platform: opts.platform ?? 'linux',
    backends: opts.backends ?? [
      { name: 'cpu', bundled: true },
      { name: 'webgpu', bundled: true },
      { name: 'cuda', bundled: false },
    ],
    hasVulkanLoader: () => opts.vulkan ?? true,
    hasCudaProviderLibrary: () => opts.cudaLibs ?? true,
    async probe(provider) {
      probed.push(provider);
      const failure = opts.failures?.[provider];
      if (failure) throw new Error(failure);
    },
  };
}

const CUDA_MISSING =
  'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library 1';
const NO_ADAPTER =
  '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 ... adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters';

describe('selectExecutionProvider', () => {
  it('takes CUDA first when its probe works', async () => {
    const env = fakeEnv({});
    const choice = await selectExecutionProvider({ env });
    expect(choice.provider).toBe('cuda');
    expect(choice.skipped).toEqual([]);
    expect(env.probed).toEqual(['cuda']);
  });

  it('falls back CUDA → WebGPU and says why', async () => {
    const env = fakeEnv({ failures: { cuda: CUDA_MISSING } });
    const choice = await selectExecutionProvider({ env });
    expect(choice.provider).toBe('webgpu');
    expect(choice.skipped).toHaveLength(1);
    expect(choice.skipped[0]?.provider).toBe('cuda');
    expect(choice.skipped[0]?.reason).toMatch(/could not load the CUDA 12/);
    expect(choice.reason).toMatch(/CUDA unavailable/);
  });

  it('falls back to CPU on a Linux box without GPU, explaining CUDA and WebGPU; DirectML/CoreML are not listed', async () => {
    const env = fakeEnv({ failures: { cuda: CUDA_MISSING, webgpu: NO_ADAPTER } });
    const choice = await selectExecutionProvider({ env });
    expect(choice.provider).toBe('cpu');
    expect(choice.skipped.map((s) => s.provider)).toEqual(['cuda', 'webgpu']);
    expect(choice.skipped[1]?.reason).toBe('no GPU adapter: Failed to get a WebGPU adapter: No supported adapters');
    expect(describeChoice(choice)).toMatch(/^Execution provider: CPU/);
  });

  it('does not even probe CUDA without its provider library, nor WebGPU on Linux without a Vulkan loader', async () => {
    const env = fakeEnv({ cudaLibs: false, vulkan: false });
    const choice = await selectExecutionProvider({ env });
    expect(choice.provider).toBe('cpu');
    expect(env.probed).toEqual(['cpu']);
    expect(choice.skipped[0]?.reason).toMatch(/ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node/);
    expect(choice.skipped[1]?.reason).toMatch(/libvulkan\.so\.1/);
  });

  it('orders DirectML before CPU on Windows and CoreML on macOS', async () => {
    const win = fakeEnv({
      platform: 'win32',
      backends: [
        { name: 'cpu', bundled: true },
        { name: 'webgpu', bundled: true },
        { name: 'dml', bundled: true },
      ],
      failures: { webgpu: NO_ADAPTER },
    });
    const w = await selectExecutionProvider({ env: win });
    expect(w.provider).toBe('dml');
    expect(w.skipped.map((s) => [s.provider, s.reason.split(':')[0]])).toEqual([
      ['cuda', 'not part of this onnxruntime-node build'],
      ['webgpu', 'no GPU adapter'],
    ]);
    const mac = fakeEnv({
      platform: 'darwin',
      backends: [
        { name: 'cpu', bundled: true },
        { name: 'webgpu', bundled: true },
        { name: 'coreml', bundled: true },
      ],
      failures: { webgpu: NO_ADAPTER },
    });
    expect((await selectExecutionProvider({ env: mac })).provider).toBe('coreml');
  });

  it('an explicit request never falls back silently', async () => {
    const env = fakeEnv({ failures: { cuda: CUDA_MISSING } });
    const err = await selectExecutionProvider({ env, request: 'cuda' }).catch((e: unknown) => e);
    expect(isSegEarthError(err, 'BAD_ARGUMENT')).toBe(true);
    expect((err as Error).message).toMatch(/^CUDA execution provider cannot run here: onnxruntime could not load/);
    const dml = await selectExecutionProvider({ env, request: 'dml' }).catch((e: unknown) => e);
    expect((dml as Error).message).toMatch(/not available on linux/);
    const cpu = await selectExecutionProvider({ env, request: 'cpu', threads: { intraOp: 1 } });
    expect(cpu).toMatchObject({ provider: 'cpu', threads: { intraOp: 1, interOp: 1 } });
  });

  it('on this machine, the real environment yields a working provider and CPU always probes', async () => {
    const env = defaultEnvironment();
    await expect(env.probe('cpu')).resolves.toBeUndefined();
    const choice = await selectExecutionProvider({ env });
    expect(['cuda', 'webgpu', 'cpu']).toContain(choice.provider);
    for (const s of choice.skipped) expect(s.reason.length).toBeGreaterThan(10);
  });
});

describe('sessionOptions', () => {
  it('lets only the image graph spin; the short LLM and head runs leave the cores to the next run', () => {
    const threads = { intraOp: 2, interOp: 1 };
    const spinning = (graph: 'image' | 'llm' | 'head'): unknown => sessionOptions('cpu', threads, spinFor(graph)).extra;
    expect(spinning('image')).toBeUndefined();
    expect(spinning('llm')).toEqual({ session: { intra_op: { allow_spinning: '0' } } });
    expect(spinning('head')).toEqual({ session: { intra_op: { allow_spinning: '0' } } });
    const cuda = sessionOptions('cuda', threads, false);
    expect(cuda.executionProviders).toEqual(['cuda', 'cpu']);
    expect(cuda.intraOpNumThreads).toBe(2);
  });
});
