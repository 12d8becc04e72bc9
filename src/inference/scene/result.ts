/**
 * @module inference/scene/result
 * Result polygons with their provenance: each feature gets the question, model id, bundle hash, source file,
 * threshold, mean probability inside the polygon (from the probability raster), `area_m2` and `created_at`.
 * Field names are ≤ 10 characters where the Shapefile writer would otherwise truncate them.
 */
import { zonalMeans } from '../../geo/zonalMean.js';
import type { FeatureSet } from '../../shared/featureSet.js';

export interface Provenance {
  question: string;
  modelId: string;
  bundleSha256: string;
  source: string;
  threshold: number;
  createdAt: string;
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
