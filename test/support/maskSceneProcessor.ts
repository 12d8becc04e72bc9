/**
 * A real, model-free SceneProcessor for batch-engine tests: it vectorizes band 1 of the scene (value > 0) with
 * `geo/maskToPolygons`, so corrupt files fail the way they fail with the model (opening the raster), and areas are
 * known from the synthetic scenes. An optional delay per item lets crash tests kill the process mid-batch.
 */
import { maskToPolygons } from '../../src/geo/maskToPolygons.js';
import type { SceneProcessor } from '../../src/inference/batch/sceneProcessor.js';

export function maskSceneProcessor(delayMs = 0): SceneProcessor {
  return async (task) => {
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    const features = await maskToPolygons({ kind: 'file', path: task.scenePath }, { minAreaM2: task.minAreaM2, signal: task.signal });
    task.onProgress(1, 'vectorize');
    return { features };
  };
}
