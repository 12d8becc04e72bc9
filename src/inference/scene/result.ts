/**
 * @module inference/scene/result
 * The last step of an answer: polygons from the probability raster at a threshold and minimum area, with their
 * provenance — each feature gets the question, model id, bundle hash, source file, threshold, mean
 * probability inside the polygon (from the probability raster), `area_m2` and `created_at`. Field names are
 * ≤ 10 characters where the Shapefile writer would otherwise truncate them. `runtime.ask` runs it after the
 * scene; the app runs it again when the threshold or minimum area changes (the model does not run again).
 *
 * The polygons stay OGR geometries (`geo/polygonLayer`) throughout: `answerPolygonLayer` is what `segearth
 * ask` writes to its file, `answerPolygons` the same polygons as the DTO for the app (the geo process, IPC) —
 * one annotation for both.
 */
import { vectorizeMask } from '../../geo/maskToPolygons.js';
import type { PolygonField, PolygonLayer } from '../../geo/polygonLayer.js';
import { zonalMeans } from '../../geo/zonalMean.js';
import { SegEarthError } from '../../shared/errors.js';
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

/** The fields every answer's polygons get after `id`, `area_m2`, `perimeter_m`, in this order. */
export const PROVENANCE_FIELDS: readonly PolygonField[] = [
  { name: 'question', type: 'string' },
  { name: 'model_id', type: 'string' },
  { name: 'bundle_sha', type: 'string' },
  { name: 'source', type: 'string' },
  { name: 'threshold', type: 'real' },
  { name: 'mean_prob', type: 'real' },
  { name: 'created_at', type: 'string' },
];

/** Polygons of a probability raster at `settings`, with provenance and mean probability, as OGR geometries; the caller closes them. */
export async function answerPolygonLayer(
  probabilityPath: string,
  settings: PolygonSettings,
  provenance: Omit<Provenance, 'threshold'>,
  vectorize: SceneDeps['vectorizeMask'] = vectorizeMask,
): Promise<PolygonLayer> {
  const { threshold, minAreaM2, signal, onProgress } = settings;
  const polygons = await vectorize({ kind: 'file', path: probabilityPath }, { threshold, minAreaM2, fields: PROVENANCE_FIELDS, ...(signal ? { signal } : {}), ...(onProgress ? { onProgress } : {}) });
  try {
    onProgress?.(0, 'annotate');
    await annotatePolygons(polygons, probabilityPath, { ...provenance, threshold });
    return polygons;
  } catch (err) {
    polygons.close();
    throw err;
  }
}

/** `answerPolygonLayer` as the JSON-safe DTO (the app's road: the geo process sends it over IPC). */
export async function answerPolygons(
  probabilityPath: string,
  settings: PolygonSettings,
  provenance: Omit<Provenance, 'threshold'>,
  vectorize: SceneDeps['vectorizeMask'] = vectorizeMask,
): Promise<FeatureSet> {
  const polygons = await answerPolygonLayer(probabilityPath, settings, provenance, vectorize);
  try {
    return polygons.toFeatureSet();
  } finally {
    polygons.close();
  }
}

/**
 * Adds provenance and `mean_prob` (rounded to 4 decimals) to every polygon: the mean probability over the
 * pixels whose centres are inside the polygon, all polygons in one sweep over the probability raster
 * (`geo/zonalMean`, fed one polygon at a time). The polygons were made with `fields: PROVENANCE_FIELDS`.
 */
export async function annotatePolygons(polygons: PolygonLayer, probabilityPath: string, provenance: Provenance): Promise<void> {
  const names = polygons.layer.fields.getNames().slice(-PROVENANCE_FIELDS.length);
  if (names.join() !== PROVENANCE_FIELDS.map((f) => f.name).join()) {
    throw new SegEarthError('INTERNAL', 'These polygons have no provenance fields to fill.', { hint: 'Vectorize with { fields: PROVENANCE_FIELDS }.' });
  }
  const means = await zonalMeans(probabilityPath, polygons.ringCoordinates(), { vertexCount: polygons.vertexCount });
  polygons.fillFields((index) => {
    const mean = means[index] ?? null;
    return [
      provenance.question,
      provenance.modelId,
      provenance.bundleSha256,
      provenance.source,
      provenance.threshold,
      mean === null ? null : Math.round(mean * 1e4) / 1e4,
      provenance.createdAt,
    ];
  });
}
