/**
 * @module inference/batch/sceneProcessor
 * The one thing a batch needs from the model: answer one question about one whole scene. The batch engine
 * does not know about ONNX sessions; `segearth batch` and the app pass a processor built on the inference
 * runtime (model loaded once per batch, image-side caches shared by the questions of a scene).
 */
import type { FeatureSet } from '../../shared/featureSet.js';

export interface SceneTask {
  /** Absolute path of the scene. */
  scenePath: string;
  question: string;
  threshold: number;
  minAreaM2: number;
  /**
   * Whether another question about this scene may follow (the batch asks several): keep the scene's image-side
   * work cached for it. False for one-question batches, so a scene's tiles do not fill the model's cache.
   */
  cacheViews: boolean;
  /** When set, the processor also writes the probability/mask GeoTIFF there (atomically). */
  maskPath?: string;
  signal: AbortSignal;
  onProgress: (fraction: number, stage: string) => void;
}

export interface SceneAnswer {
  /** Polygons in the scene's native CRS, with at least `area_m2` per feature. */
  features: FeatureSet;
}

export type SceneProcessor = (task: SceneTask) => Promise<SceneAnswer>;
