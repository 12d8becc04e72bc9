/**
 * @module inference/hub/precisionChoice
 * Which precision profile to convert a downloaded checkpoint to when the user does not say: the one that
 * suits this machine's best execution provider (`executionProvider`), with the reason in words. The profiles
 * and their measured costs are in docs/MODEL_BUNDLE.md "Precision"; `precisionAdvice` warns about the same
 * mismatches at run time.
 */
import type { ConversionPrecision } from '../conversion/convertCheckpoint.js';
import { EP_LABEL, type ExecutionProvider } from '../providers/executionProvider.js';

export interface PrecisionChoice {
  readonly precision: ConversionPrecision;
  readonly provider: ExecutionProvider;
  readonly reason: string;
}

/** The profile for `provider` and why. */
export function precisionFor(provider: ExecutionProvider): PrecisionChoice {
  if (provider === 'cpu') {
    return {
      precision: 'cpu',
      provider,
      reason:
        'no GPU execution provider works here (see `segearth models devices`), and on a CPU the cpu profile (int8 image + int8 LLM) ' +
        'answers fastest (a first question in ~5 s instead of ~7.4 s with fp32 on 2 cores) at less than half the size',
    };
  }
  return {
    precision: 'fp32',
    provider,
    reason:
      `${EP_LABEL[provider]} works here, and fp32 runs on every GPU provider; the int8 cpu profile would run its matrix multiplies ` +
      'on the CPU (fp16 halves the size but has been checked for accuracy on the CPU only: add --precision fp16 to try it)',
  };
}

/** Probes the execution providers (a tiny onnxruntime session each) and returns the profile for the best one. */
export async function choosePrecision(): Promise<PrecisionChoice> {
  const { selectExecutionProvider } = await import('../providers/executionProvider.js');
  return precisionFor((await selectExecutionProvider({ request: 'auto' })).provider);
}
