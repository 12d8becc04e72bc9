/**
 * @module geo/probabilityRaster
 * Writes a georeferenced float32 probability GeoTIFF tile by tile, with memory bounded by one tile whatever
 * the scene size. Producers hand in blended *logits* per tile (`ProbabilitySink.add`): they are accumulated as
 * `Σ w·logit` and `Σ w` in a temporary two-band float32 GeoTIFF next to the target (GDAL block reads/writes),
 * and the final pass writes `sigmoid(Σ w·logit / Σ w)` block by block into a tiled, DEFLATE-compressed GeoTIFF
 * on the same grid. Pixels no tile covered with a positive weight (e.g. nodata in the source) get 0.
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

/**
 * Creates the probability GeoTIFF at `target`: `produce` receives a sink and adds every tile; then the
 * probabilities are written. Returns the final path.
 */
export async function writeProbabilityRaster(
  target: string,
  grid: RasterGrid,
  options: WriteProbabilityOptions,
  produce: (sink: ProbabilitySink) => Promise<void>,
): Promise<string> {
  configureGdalEnvironment();
  const blockSize = options.blockSize ?? 512;
  const { signal } = options;
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

      const out = await gdal.openAsync(tempPath, 'w', 'GTiff', grid.width, grid.height, 1, gdal.GDT_Float32, [
        'TILED=YES',
        `BLOCKXSIZE=${blockSize}`,
        `BLOCKYSIZE=${blockSize}`,
        'COMPRESS=DEFLATE',
        'PREDICTOR=3',
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
            const s = (await sum.pixels.readAsync(x, y, width, height, new Float32Array(width * height))) as Float32Array;
            const w = (await wsum.pixels.readAsync(x, y, width, height, new Float32Array(width * height))) as Float32Array;
            const p = new Float32Array(width * height);
            for (let i = 0; i < p.length; i++) {
              const wi = w[i]!;
              p[i] = wi > 0 ? 1 / (1 + Math.exp(-s[i]! / wi)) : 0;
            }
            await band.pixels.writeAsync(x, y, width, height, p);
          }
        }
        await out.flushAsync();
      } finally {
        out.close();
      }
    } finally {
      acc.close();
      await rm(accPath, { force: true });
    }
  });
  return written[0]!;
}
