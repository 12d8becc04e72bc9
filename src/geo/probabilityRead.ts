/**
 * @module geo/probabilityRead
 * Reads a probability GeoTIFF back (first band, float32, NaN where it has no data), e.g. to export its mask.
 */
import gdal from 'gdal-async';
import type { GeoTransform } from '../shared/rasterInfo.js';
import { configureGdalEnvironment } from './env.js';

export interface ProbabilityGrid {
  data: Float32Array;
  width: number;
  height: number;
  geoTransform: GeoTransform;
  crsWkt: string | null;
}

export async function readProbability(path: string): Promise<ProbabilityGrid> {
  configureGdalEnvironment();
  const ds = await gdal.openAsync(path);
  try {
    const band = await ds.bands.getAsync(1);
    const { x: width, y: height } = ds.rasterSize;
    const data = new Float32Array(width * height);
    await band.pixels.readAsync(0, 0, width, height, data, { data_type: gdal.GDT_Float32 });
    const noData = band.noDataValue;
    if (noData !== null) for (let i = 0; i < data.length; i++) if (data[i] === noData) data[i] = Number.NaN;
    return { data, width, height, geoTransform: ds.geoTransform as GeoTransform, crsWkt: ds.srs ? ds.srs.toWKT() : null };
  } finally {
    ds.close();
  }
}

/** 1 where the probability reaches `threshold`, else 0 (no data counts as 0). */
export function thresholdProbability(grid: ProbabilityGrid, threshold: number): Uint8Array {
  const mask = new Uint8Array(grid.data.length);
  for (let i = 0; i < grid.data.length; i++) mask[i] = grid.data[i]! >= threshold ? 1 : 0;
  return mask;
}
