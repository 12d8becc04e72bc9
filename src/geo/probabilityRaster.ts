/**
 * @module geo/probabilityRaster
 * Writes a georeferenced float32 probability GeoTIFF tile by tile, with memory bounded by one tile whatever
 * the scene size. Producers hand in blended *logits* per tile (`ProbabilitySink.add`): they are accumulated as
 * `Σ w·logit` and `Σ w` in a temporary two-band float32 GeoTIFF next to the target (GDAL block reads/writes),
 * and the final pass writes `sigmoid(Σ w·logit / Σ w)` block by block into a tiled, DEFLATE-compressed GeoTIFF
 * on the same grid. Pixels no tile covered with a positive weight (e.g. nodata in the source) get 0.
 *
 * A polygon area of interest (`inside`) is applied in the final pass (GDAL rasterizes it per block): pixels
 * outside it get 0, so everything derived from the raster answers inside the polygon only. The final pass also
 * yields the exact highest probability written and, when asked, a decimated copy (`preview`, nearest pixel,
 * for the heatmap) — what the app keeps of a result without reading the raster back.
 *
 * The whole write is atomic (`geo/atomicWrite`): if the producer throws — a cancellation included — the
 * temporary folder is removed and nothing appears at the target.
 */
import { rm } from 'node:fs/promises';
import gdal from 'gdal-async';
import type { Dataset } from 'gdal-async';
import { SegEarthError } from '../shared/errors.js';
import type { GeoTransform } from '../shared/rasterInfo.js';
import { writeAtomically } from './atomicWrite.js';
import { configureGdalEnvironment } from './env.js';
import { windowGeoTransform } from './geoTransform.js';
import { insidePolygons, type PolygonRings } from './polygonMask.js';

export interface RasterGrid {
  width: number;
  height: number;
  geoTransform: GeoTransform;
  /** null for rasters without a CRS (pixel coordinates). */
  crsWkt: string | null;
}

export interface PixelBlock {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ProbabilitySink {
  /** Adds `weights[i] · logits[i]` over a block of the grid (row-major, block.width × block.height). */
  add(block: PixelBlock, logits: Float32Array, weights: Float32Array): Promise<void>;
}

export interface WriteProbabilityOptions {
  overwrite?: boolean;
  signal?: AbortSignal;
  /** Side of the blocks of the final pass and of the GeoTIFF tiles (multiple of 16). Default 512. */
  blockSize?: number;
  /** Metadata items written into the GeoTIFF (question, model, threshold...). */
  metadata?: Record<string, string>;
  /** Polygon area of interest (grid CRS; polygons with holes): pixels whose centre is outside it get probability 0. */
  inside?: readonly PolygonRings[];
  /** Also return a copy decimated to at most this many pixels per side (nearest pixel). */
  previewMaxSize?: number;
  /**
   * Compression of the written GeoTIFF: `deflate` (default; DEFLATE with the floating-point predictor, the
   * most compact — files an analyst keeps), `zstd` (ZSTD level 1: several times faster to write and to read
   * back, a little larger — rasters the app keeps for itself), or `none`.
   */
  compression?: ProbabilityCompression;
}

export type ProbabilityCompression = 'deflate' | 'zstd' | 'none';

/** A probability grid in memory (row-major float32), e.g. the decimated preview of a written raster. */
export interface ProbabilityPreview {
  width: number;
  height: number;
  /** Geotransform of the decimated grid. */
  geoTransform: GeoTransform;
  data: Float32Array;
}

export interface WrittenProbability {
  path: string;
  /** Highest probability written (0 when nothing was covered). */
  maxProbability: number;
  /** Present when `previewMaxSize` was given. */
  preview: ProbabilityPreview | null;
}

/** Collects the nearest-pixel decimation of the grid from the blocks of the final pass. */
class PreviewCollector {
  readonly preview: ProbabilityPreview;
  private readonly srcCol: Int32Array;
  private readonly srcRow: Int32Array;

  constructor(grid: RasterGrid, maxSize: number) {
    const scale = Math.max(1, Math.max(grid.width, grid.height) / maxSize);
    const width = Math.max(1, Math.round(grid.width / scale));
    const height = Math.max(1, Math.round(grid.height / scale));
    this.srcCol = Int32Array.from({ length: width }, (_, i) => Math.min(grid.width - 1, Math.floor(((i + 0.5) * grid.width) / width)));
    this.srcRow = Int32Array.from({ length: height }, (_, j) => Math.min(grid.height - 1, Math.floor(((j + 0.5) * grid.height) / height)));
    const geoTransform = windowGeoTransform(grid.geoTransform, { x: 0, y: 0, width: grid.width, height: grid.height }, width, height);
    this.preview = { width, height, geoTransform, data: new Float32Array(width * height) };
  }

  add(block: PixelBlock, p: Float32Array): void {
    const { width, height, data } = this.preview;
    for (let j = 0; j < height; j++) {
      const r = this.srcRow[j]!;
      if (r < block.y || r >= block.y + block.height) continue;
      for (let i = 0; i < width; i++) {
        const c = this.srcCol[i]!;
        if (c >= block.x && c < block.x + block.width) data[j * width + i] = p[(r - block.y) * block.width + (c - block.x)]!;
      }
    }
  }
}

function cancelled(): SegEarthError {
  return new SegEarthError('CANCELLED', 'Cancelled; no probability raster was written.', {
    hint: 'Run the request again when needed.',
  });
}

function checkBlock(grid: RasterGrid, b: PixelBlock, n: number, m: number): void {
  const ok =
    Number.isInteger(b.x) && Number.isInteger(b.y) && b.x >= 0 && b.y >= 0 && b.width > 0 && b.height > 0 &&
    b.x + b.width <= grid.width && b.y + b.height <= grid.height;
  if (!ok) throw new RangeError(`block ${JSON.stringify(b)} is outside the ${grid.width}x${grid.height} grid`);
  const px = b.width * b.height;
  if (n !== px || m !== px) throw new RangeError(`block of ${px} px got ${n} logits and ${m} weights`);
}

function georeference(ds: Dataset, grid: RasterGrid): void {
  ds.geoTransform = [...grid.geoTransform];
  if (grid.crsWkt) ds.srs = gdal.SpatialReference.fromWKT(grid.crsWkt);
}

/** GeoTIFF creation options of the final raster for a compression choice (see `WriteProbabilityOptions.compression`). */
function compressionOptions(compression: ProbabilityCompression): string[] {
  switch (compression) {
    case 'zstd':
      return ['COMPRESS=ZSTD', 'ZSTD_LEVEL=1'];
    case 'none':
      return [];
    default:
      return ['COMPRESS=DEFLATE', 'PREDICTOR=3'];
  }
}

/** Σ w·logit and Σ w of a block of the grid (row-major). */
type BlockSums = (block: PixelBlock) => Promise<{ s: Float32Array; w: Float32Array }>;

/**
 * The final pass: `sigmoid(Σ w·logit / Σ w)` block by block into the tiled GeoTIFF at `path`, the AOI applied,
 * the highest probability and the preview collected on the way.
 */
async function writeFinal(
  path: string,
  grid: RasterGrid,
  options: WriteProbabilityOptions,
  sums: BlockSums,
  preview: PreviewCollector | null,
): Promise<number> {
  const blockSize = options.blockSize ?? 512;
  const { signal } = options;
  let maxProbability = 0;
  const out = await gdal.openAsync(path, 'w', 'GTiff', grid.width, grid.height, 1, gdal.GDT_Float32, [
    'TILED=YES',
    `BLOCKXSIZE=${blockSize}`,
    `BLOCKYSIZE=${blockSize}`,
    ...compressionOptions(options.compression ?? 'deflate'),
    'BIGTIFF=IF_SAFER',
  ]);
  try {
    georeference(out, grid);
    const band = out.bands.get(1);
    if (options.metadata) out.setMetadata(options.metadata);
    for (let y = 0; y < grid.height; y += blockSize) {
      for (let x = 0; x < grid.width; x += blockSize) {
        if (signal?.aborted) throw cancelled();
        const width = Math.min(blockSize, grid.width - x);
        const height = Math.min(blockSize, grid.height - y);
        const { s, w } = await sums({ x, y, width, height });
        const inside = options.inside
          ? await insidePolygons(options.inside, windowGeoTransform(grid.geoTransform, { x, y, width, height }, width, height), width, height)
          : null;
        const p = new Float32Array(width * height);
        for (let i = 0; i < p.length; i++) {
          const wi = w[i]!;
          p[i] = wi > 0 && (!inside || inside[i]) ? 1 / (1 + Math.exp(-s[i]! / wi)) : 0;
          if (p[i]! > maxProbability) maxProbability = p[i]!;
        }
        preview?.add({ x, y, width, height }, p);
        await band.pixels.writeAsync(x, y, width, height, p);
      }
    }
    await out.flushAsync();
  } finally {
    out.close();
  }
  return maxProbability;
}

/**
 * Creates the probability GeoTIFF at `target`: `produce` receives a sink and adds every tile; then the
 * probabilities are written (see the module header for `inside` and the preview).
 */
export async function writeProbabilityRaster(
  target: string,
  grid: RasterGrid,
  options: WriteProbabilityOptions,
  produce: (sink: ProbabilitySink) => Promise<void>,
): Promise<WrittenProbability> {
  configureGdalEnvironment();
  const { signal } = options;
  let maxProbability = 0;
  const preview = options.previewMaxSize ? new PreviewCollector(grid, options.previewMaxSize) : null;
  const written = await writeAtomically(target, { overwrite: options.overwrite ?? false }, async (tempPath) => {
    const accPath = `${tempPath}.accumulator.tif`;
    const acc = await gdal.openAsync(accPath, 'w', 'GTiff', grid.width, grid.height, 2, gdal.GDT_Float32, [
      'TILED=YES',
      'BLOCKXSIZE=256',
      'BLOCKYSIZE=256',
      'SPARSE_OK=TRUE',
      'BIGTIFF=IF_SAFER',
    ]);
    try {
      const sum = acc.bands.get(1);
      const wsum = acc.bands.get(2);
      const sink: ProbabilitySink = {
        async add(block, logits, weights) {
          if (signal?.aborted) throw cancelled();
          checkBlock(grid, block, logits.length, weights.length);
          const { x, y, width, height } = block;
          const s = (await sum.pixels.readAsync(x, y, width, height, new Float32Array(width * height))) as Float32Array;
          const w = (await wsum.pixels.readAsync(x, y, width, height, new Float32Array(width * height))) as Float32Array;
          for (let i = 0; i < s.length; i++) {
            const wi = weights[i]!;
            if (wi > 0) {
              s[i] = s[i]! + wi * logits[i]!;
              w[i] = w[i]! + wi;
            }
          }
          await sum.pixels.writeAsync(x, y, width, height, s);
          await wsum.pixels.writeAsync(x, y, width, height, w);
        },
      };
      await produce(sink);
      if (signal?.aborted) throw cancelled();
      await acc.flushAsync();
      maxProbability = await writeFinal(tempPath, grid, options, async ({ x, y, width, height }) => ({
        s: (await sum.pixels.readAsync(x, y, width, height, new Float32Array(width * height))) as Float32Array,
        w: (await wsum.pixels.readAsync(x, y, width, height, new Float32Array(width * height))) as Float32Array,
      }), preview);
    } finally {
      acc.close();
      await rm(accPath, { force: true });
    }
  });
  return { path: written[0]!, maxProbability, preview: preview?.preview ?? null };
}

/**
 * The same raster from logits already on the whole grid (a single pass, e.g. the `view` strategy): pixels
 * where `covered` is positive get `sigmoid(logit)`, the others 0 — what `writeProbabilityRaster` writes when
 * one tile adds these logits with weight 1 where covered, without its accumulator file.
 */
export async function writeProbabilityGrid(
  target: string,
  grid: RasterGrid,
  options: WriteProbabilityOptions,
  logits: Float32Array,
  covered: Float32Array | Uint8Array,
): Promise<WrittenProbability> {
  configureGdalEnvironment();
  checkBlock(grid, { x: 0, y: 0, width: grid.width, height: grid.height }, logits.length, covered.length);
  const preview = options.previewMaxSize ? new PreviewCollector(grid, options.previewMaxSize) : null;
  let maxProbability = 0;
  const written = await writeAtomically(target, { overwrite: options.overwrite ?? false }, async (tempPath) => {
    maxProbability = await writeFinal(tempPath, grid, options, async ({ x, y, width, height }) => {
      const s = new Float32Array(width * height);
      const w = new Float32Array(width * height);
      for (let j = 0; j < height; j++) {
        const from = (y + j) * grid.width + x;
        s.set(logits.subarray(from, from + width), j * width);
        for (let i = 0; i < width; i++) w[j * width + i] = covered[from + i]! > 0 ? 1 : 0;
      }
      return { s, w };
    }, preview);
  });
  return { path: written[0]!, maxProbability, preview: preview?.preview ?? null };
}
