/**
 * @module inference/batch/workerProcessor
 * The production SceneProcessor: each (scene, question) goes to one inference worker that loaded the model
 * once for the whole batch; the questions of a scene reuse its image-side cache in the worker. Without the
 * `mask` format the probability raster goes to a temporary file that is removed afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InferenceRuntime } from '../runtime/runtime.js';
import type { SceneProcessor } from './sceneProcessor.js';

export function workerSceneProcessor(runtime: InferenceRuntime, strategy: 'tiled' | 'coarse-to-fine' | 'view'): SceneProcessor {
  return async (task) => {
    const tempDir = task.maskPath ? null : await mkdtemp(join(tmpdir(), 'segearth-batch-'));
    try {
      const result = await runtime.ask(
        {
          rasterPath: task.scenePath,
          question: task.question,
          strategy,
          probabilityPath: task.maskPath ?? join(tempDir!, 'probability.tif'),
          // A crash may have left this item's probability raster behind; the item is being redone.
          overwrite: true,
          cacheViews: task.cacheViews,
          threshold: task.threshold,
          minAreaM2: task.minAreaM2,
          // A temporary raster only this run reads: the fast compression.
          ...(task.maskPath ? {} : { probabilityCompression: 'zstd' as const }),
        },
        { signal: task.signal, onProgress: (p) => task.onProgress(p.fraction, p.stage) },
      );
      return { features: result.features };
    } finally {
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
    }
  };
}
