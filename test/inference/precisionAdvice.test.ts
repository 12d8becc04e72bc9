import { describe, expect, it } from 'vitest';
import type { Manifest, Precision } from '../../src/inference/bundle/manifest.js';
import { describeChoice } from '../../src/inference/providers/executionProvider.js';
import { precisionAdvice } from '../../src/inference/providers/precisionAdvice.js';

function graphs(image: Precision, llm: Precision, head: Precision): Manifest['graphs'] {
  const g = (precision: Precision) => ({ file: 'x.onnx', externalData: [], opset: 17, precision, inputs: [], outputs: [] });
  return { image: g(image), llm: g(llm), head: g(head) } as unknown as Manifest['graphs'];
}

describe('precisionAdvice', () => {
  it('says nothing when the precisions fit the provider', () => {
    expect(precisionAdvice(graphs('fp32', 'fp32', 'fp32'), 'cpu')).toEqual([]);
    expect(precisionAdvice(graphs('int8-dynamic', 'int8-weight-only', 'fp32'), 'cpu')).toEqual([]);
    expect(precisionAdvice(graphs('fp16', 'fp16', 'fp16'), 'webgpu')).toEqual([]);
    expect(precisionAdvice(graphs('fp32', 'int4-weight-only', 'fp32'), 'cuda')).toEqual([]);
  });

  it('names the CPU-only int8 image graph on a GPU provider and what to install instead', () => {
    const notes = precisionAdvice(graphs('int8-dynamic', 'fp32', 'fp32'), 'webgpu');
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain('The image graph');
    expect(notes[0]).toContain('WebGPU');
    expect(notes[0]).toContain('fp32 or fp16 export');
  });

  it('names the fp16 graphs on the CPU', () => {
    const notes = precisionAdvice(graphs('fp16', 'fp16', 'fp16'), 'cpu');
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain('image, llm, head graphs are fp16');
    expect(notes[0]).toContain('install an fp32 export');
  });

  it('is printed with the provider choice', () => {
    const text = describeChoice({ provider: 'cpu', reason: 'asked for', skipped: [], threads: { intraOp: 2, interOp: 1 }, notes: ['fp16 on the CPU'] });
    expect(text.split('\n')).toEqual(['Execution provider: CPU (asked for); 2 intra-op thread(s)', '  Note: fp16 on the CPU']);
  });
});
