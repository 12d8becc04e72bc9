/**
 * @module main/services/backends
 * What the backend services need from the geo engine (`src/geo`) and the inference runtime
 * (`src/inference`), as narrow interfaces. The composition root plugs in the real modules; tests plug in
 * fakes. Nothing here imports Electron.
 */
import type { Aoi, ModelLoad, ModelStatus, ResultFeatures, TileGridSpec } from '../../shared/api/dto.js';
import type { Extent, RasterInfo } from '../../shared/rasterInfo.js';
import type { Strategy } from '../../shared/strategies.js';
import type { VectorFormat } from '../../shared/formats.js';
import type { SceneProcessor } from '../../inference/batch/sceneProcessor.js';

/** A probability grid kept in memory for display (values 0..1, row-major). */
export interface ProbabilityGrid {
  width: number;
  height: number;
  data: Float32Array;
}

export interface GeoBackend {
  openRaster(path: string): Promise<RasterInfo>;
  getTileGrid(info: RasterInfo): TileGridSpec;
  /** PNG (RGBA) of one tile of the layer's grid. */
  renderTile(path: string, z: number, x: number, y: number): Promise<Uint8Array>;
  /** Coloured PNG of a probability grid (transparent below 5 %), for the heatmap layer. */
  heatmapPng(grid: ProbabilityGrid): Promise<Uint8Array>;
  writeFeatures(
    layers: ReadonlyArray<{ name: string; features: ResultFeatures }>,
    outPath: string,
    options: { format: VectorFormat; overwrite: boolean },
  ): Promise<string[]>;
  /** Binary mask GeoTIFF (1 where the probability reaches the threshold, else 0) from a probability raster. */
  writeMaskGeoTiff(probabilityPath: string, outPath: string, options: { threshold: number; overwrite: boolean }): Promise<string[]>;
  gdalVersion(): string | null;
  /** Every file GDAL would read to show `path` (VRT sources, side-cars …): server mode confines them to its roots. */
  filesReadBy?(path: string): Promise<{ driver: string; files: string[]; rawBandVrts?: string[] }>;
  /** Server mode with roots: GDAL options that narrow what GDAL itself may read (raw-band VRTs off). */
  confineReads?(): void;
}

export interface InferenceProgress {
  stage: 'loading-model' | 'reading' | 'image' | 'question' | 'tiles' | 'stitching' | 'vectorizing';
  message: string;
  tileIndex: number;
  tileCount: number;
  fraction: number;
  etaSeconds: number | null;
}

export interface InferenceAskRequest {
  rasterPath: string;
  question: string;
  /** In the raster's CRS; a polygon is applied once, by the pipeline, to the probability raster. */
  aoi: Aoi;
  strategy: Strategy;
  threshold: number;
  minAreaM2: number;
  /** Where to write the probability GeoTIFF (float32, 0..1, the raster's grid cropped to the AOI). */
  probabilityPath: string;
  signal: AbortSignal;
  onProgress(progress: InferenceProgress): void;
}

/** The view side of a question (what `prefetch` reads ahead of it). */
export type InferencePrefetchRequest = Pick<InferenceAskRequest, 'rasterPath' | 'aoi' | 'strategy' | 'signal'>;

/** An answer as the app keeps it: what the map, the sliders and the heatmap need without re-reading. */
export interface InferenceAnswer {
  /** Polygons with provenance (the CLI's attributes). */
  features: ResultFeatures;
  /** Exact highest probability of the probability raster (inside the AOI). */
  maxProbability: number;
  /** The probability raster's grid on the map (raster CRS). */
  probability: { extent: Extent; width: number; height: number };
  /** The probabilities decimated to ≤ 1024 px per side, for the heatmap. */
  preview: ProbabilityGrid | null;
  modelId: string;
  /** sha256 of the bundle's manifest (provenance of every polygon). */
  bundleSha256: string;
  executionProvider: string;
  createdAt: string;
}

/** Where a polygon comes from; written into its attributes (the runtime's own type). */
export type { Provenance } from '../../inference/scene/result.js';
import type { Provenance } from '../../inference/scene/result.js';
import type { RunStats } from '../../inference/sessions/model.js';

export interface EpStatus {
  active: string | null;
  fallbackReason: string | null;
  /** Advice about the loaded model on this provider (e.g. an int8 CPU model on a GPU); empty when none. */
  notes: string[];
}

/** What the backend services need from the inference runtime (`src/inference`). */
export interface InferenceBackend {
  /** Whether a usable model bundle is configured, and questions to start from. */
  modelStatus(modelDir: string | null): Promise<ModelStatus>;
  executionProvider(requested: string): Promise<EpStatus>;
  /** The answer pipeline (`InferenceRuntime.ask`) on the app's loaded model; rejects with CANCELLED when `signal` aborts. */
  ask(request: InferenceAskRequest, settings: { modelDir: string | null; executionProvider: string }): Promise<InferenceAnswer>;
  /**
   * Reads the first model pass of a question with this scene, AOI and strategy into the loaded model's view
   * cache ahead of the question (`InferenceRuntime.prefetch`, the same planning, reader and cache key as `ask`);
   * rejects with CANCELLED when `signal` aborts or a question about another view stops it.
   */
  prefetch?(request: InferencePrefetchRequest, settings: { modelDir: string | null; executionProvider: string }): Promise<{ cached: boolean; strategy: Exclude<Strategy, 'auto'> }>;
  /** The pipeline's last step again, at another threshold / minimum area: polygons with provenance. */
  polygons(probabilityPath: string, settings: { threshold: number; minAreaM2: number }, provenance: Omit<Provenance, 'threshold'>): Promise<ResultFeatures>;
  version(): string | null;
  /** Stops workers and frees the model (shutdown). */
  dispose?(): Promise<void>;
  /**
   * Loads the model of these settings in the background and warms it up, so that the first question finds it
   * ready and does not pay for the slow first passes (called when the app starts and when the model settings change).
   */
  prepare?(settings: { modelDir: string | null; executionProvider: string }): Promise<void>;
  /** Whether the model of these settings is in memory (see `ModelLoadSchema`). */
  loadState?(settings: { modelDir: string | null; executionProvider: string }): Promise<ModelLoad>;
  /** Graph runs and times of the loaded model (benchmarks, logs); null when none is loaded. */
  graphStats?(settings: { modelDir: string | null; executionProvider: string }): Promise<RunStats | null>;
  /**
   * The model for a batch: the same loaded model (worker) the questions use, so it is in memory once; its
   * queue interleaves batch windows with the question panel's, so a question asked during a batch waits for
   * one window, not for the batch.
   */
  batchModel?(settings: { modelDir: string | null; executionProvider: string }): Promise<BatchModel>;
}

/** A loaded model as the batch engine uses it. */
export interface BatchModel {
  /** `id@sha256-prefix`, recorded in batch.json (as `segearth batch` does) so a resume uses the same model. */
  key: string;
  executionProvider: string;
  /** One (scene, question) item → polygons (and the probability GeoTIFF when asked). */
  processor(strategy: 'tiled' | 'coarse-to-fine' | 'view'): SceneProcessor;
}
