/**
 * @module inference/scene/result
 * The last step of an answer: polygons from the probability raster at a threshold and minimum area, with their
 * provenance — each feature gets the question, model id, bundle hash, source file, threshold, mean
 * probability inside the polygon (from the probability raster), `area_m2` and `created_at`. Field names are
 * ≤ 10 characters where the Shapefile writer would otherwise truncate them. `runtime.ask` runs it after the
 * scene; the app runs it again when the threshold or minimum area changes (the model does not run again).
 */
import { zonalMeans } from '../../geo/zonalMean.js';
import type { FeatureSet } from '../../shared/featureSet.js';
import type { SceneDeps } from './scene.js';

export interface Provenance {
  question: string;
  modelId: string;
  bundleSha256: string;
  source: string;
  threshold: number;
  createdAt: string;
}

export interface PolygonSettings {
  /** Probability in (0, 1). */
  threshold: number;
  minAreaM2: number;
  signal?: AbortSignal;
  /** Vectorizing's stages as they start (`geo/maskToPolygons`); the mean probabilities are stage 'annotate'. */
  onProgress?: (fraction: number, stage: string) => void;
}

/** Polygons of a probability raster at `settings`, with provenance and mean probability. */
export async function answerPolygons(
  probabilityPath: string,
  settings: PolygonSettings,
  provenance: Omit<Provenance, 'threshold'>,
  vectorize: SceneDeps['maskToPolygons'],
): Promise<FeatureSet> {
  const { threshold, minAreaM2, signal, onProgress } = settings;
  const raw = await vectorize({ kind: 'file', path: probabilityPath }, { threshold, minAreaM2, ...(signal ? { signal } : {}), ...(onProgress ? { onProgress } : {}) });
  onProgress?.(0, 'annotate');
  return annotateFeatures(raw, probabilityPath, { ...provenance, threshold });
}

/**
 * Adds provenance and `mean_prob` to every feature: the mean probability over the pixels whose centres are
 * inside the polygon, all polygons in one sweep over the probability raster (`geo/zonalMean`).
 */
export async function annotateFeatures(features: FeatureSet, probabilityPath: string, provenance: Provenance): Promise<FeatureSet> {
  const means = await zonalMeans(
    probabilityPath,
    features.features.map((f) => f.geometry),
  );
  return {
    ...features,
    features: features.features.map((f, i) => {
      const mean = means[i] ?? null;
      return {
        ...f,
        properties: {
          ...f.properties,
          question: provenance.question,
          model_id: provenance.modelId,
          bundle_sha: provenance.bundleSha256,
          source: provenance.source,
          threshold: provenance.threshold,
          mean_prob: mean === null ? null : Math.round(mean * 1e4) / 1e4,
          created_at: provenance.createdAt,
        },
      };
    }),
  };
}
