/**
 * @module inference/providers/precisionAdvice
 * Whether a bundle's graph precisions suit the execution provider that runs them. The CPU-only precisions
 * (`int8-dynamic`: DynamicQuantizeMatMul, a CPU contrib op) run on a GPU provider only by sending those nodes
 * back to the CPU; `fp16` graphs run on the CPU provider through float16 ↔ float32 casts around most nodes,
 * slower than the fp32 graphs. Neither is an error — the answer is the same — so the runtime reports a note
 * with what to do instead (docs/MODEL_BUNDLE.md "Precision").
 */
import type { GraphName, Manifest } from '../bundle/manifest.js';
import { EP_LABEL, type ExecutionProvider } from './executionProvider.js';

/** One line per mismatch between a graph's precision and `provider`; empty when everything fits. */
export function precisionAdvice(graphs: Manifest['graphs'], provider: ExecutionProvider): string[] {
  const names = Object.keys(graphs) as GraphName[];
  const graphsIn = (p: string): GraphName[] => names.filter((n) => graphs[n].precision === p);
  const notes: string[] = [];
  const cpuOnly = graphsIn('int8-dynamic');
  if (provider !== 'cpu' && cpuOnly.length > 0) {
    notes.push(
      `The ${cpuOnly.join(', ')} graph of this model is int8 for CPUs (int8-dynamic); ${EP_LABEL[provider]} runs its int8 ` +
        'matrix multiplies on the CPU, which is slow. For this GPU, install an fp32 or fp16 export of the model.',
    );
  }
  const half = graphsIn('fp16');
  if (provider === 'cpu' && half.length > 0) {
    notes.push(
      `This model's ${half.join(', ')} graphs are fp16, made for GPUs; on the CPU they run slower than fp32. ` +
        'For the CPU, install an fp32 export (or one with --image-weights int8 / --llm-weights int8).',
    );
  }
  return notes;
}
