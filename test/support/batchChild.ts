/**
 * Child process for the crash test: runs one batch with the mask processor and a delay per item, so the test can
 * `kill -9` it mid-run. Arguments: a JSON object {input, output, options, resume, delayMs}.
 */
import { runBatch } from '../../src/inference/batch/runBatch.js';
import type { BatchOptions } from '../../src/inference/batch/batchPlan.js';
import { maskSceneProcessor } from './maskSceneProcessor.js';

const args = JSON.parse(process.argv[2] ?? '{}') as { input: string; output: string; options: BatchOptions; resume?: boolean; delayMs?: number };
await runBatch({
  inputFolder: args.input,
  outputFolder: args.output,
  options: args.options,
  resume: args.resume ?? false,
  processor: maskSceneProcessor(args.delayMs ?? 0),
});
