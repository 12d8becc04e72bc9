/**
 * @module test/support/batchOptions
 * The batch options of the engine tests (maskSceneProcessor as the "model"): two questions, GeoPackage +
 * GeoJSON per scene, merged.gpkg; `over` changes what a test needs.
 */
import type { BatchOptions } from '../../src/inference/batch/batchPlan.js';

export function testBatchOptions(over: Partial<BatchOptions> = {}): BatchOptions {
  return {
    questions: ['where are the fields?', 'which parcels are large?'],
    model: 'test-mask-processor',
    strategy: 'tiled',
    formats: ['gpkg', 'geojson'],
    merged: true,
    threshold: 0.5,
    minAreaM2: 0,
    include: [],
    exclude: [],
    ...over,
  };
}
