/**
 * @module geo/writers/maskGeoTiff
 * Writes a mask or probability array as a GeoTIFF on the same grid as its source raster: DEFLATE-compressed
 * Cloud Optimized GeoTIFF (GDAL COG driver: tiled, with overviews — nearest for masks, average for
 * probabilities), falling back to a tiled GeoTIFF where the COG driver is missing. Atomic, like every
 * SegEarth output (`geo/atomicWrite`).
 *
 * - `type: 'mask'` → Byte; values are written as given (rounded and clamped to 0–255), e.g. 0/255.
 * - `type: 'probability'` → Float32 in [0, 1], floating-point predictor.
 */
import gdal from 'gdal-async';
import { SegEarthError } from '../../shared/errors.js';
import type { GeoTransform } from '../../shared/rasterInfo.js';
import { writeAtomically } from '../atomicWrite.js';
import { configureGdalEnvironment } from '../env.js';

export interface RasterGeoTiffOptions {
  type: 'mask' | 'probability';
  overwrite?: boolean;
}

export async function writeRasterGeoTiff(
  data: Float32Array | Uint8Array,
  width: number,
  height: number,
  geoTransform: GeoTransform,
  crsWkt: string | null,
  outPath: string,
  options: RasterGeoTiffOptions,
): Promise<string> {
  configureGdalEnvironment();
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0 || data.length !== width * height) {
    throw new SegEarthError('BAD_ARGUMENT', `The raster holds ${data.length} values, not ${width}×${height}.`, {
      hint: 'Pass one value per pixel, row by row, with the grid of the source raster.',
    });
  }
  const isMask = options.type === 'mask';
  const memory = await gdal.drivers.get('MEM').createAsync('', width, height, 1, isMask ? gdal.GDT_Byte : gdal.GDT_Float32);
  memory.geoTransform = geoTransform;
  if (crsWkt !== null) memory.srs = gdal.SpatialReference.fromWKT(crsWkt);
  const band = memory.bands.get(1);
  band.colorInterpretation = gdal.GCI_GrayIndex;
  await band.pixels.writeAsync(0, 0, width, height, isMask ? Uint8Array.from(data, clampByte) : Float32Array.from(data));

  const hasCog = gdal.drivers.getNames().includes('COG');
  const driver = gdal.drivers.get(hasCog ? 'COG' : 'GTiff');
  const creation = hasCog
    ? ['COMPRESS=DEFLATE', `PREDICTOR=${isMask ? 'NO' : 'FLOATING_POINT'}`, `RESAMPLING=${isMask ? 'NEAREST' : 'AVERAGE'}`, 'BIGTIFF=IF_SAFER']
    : ['COMPRESS=DEFLATE', 'TILED=YES', `PREDICTOR=${isMask ? '1' : '3'}`, 'BIGTIFF=IF_SAFER'];
  const [path] = await writeAtomically(outPath, { overwrite: options.overwrite ?? false }, async (tempPath) => {
    const out = await driver.createCopyAsync(tempPath, memory, creation);
    out.close();
  });
  memory.close();
  return path;
}

function clampByte(value: number): number {
  return Number.isNaN(value) ? 0 : Math.max(0, Math.min(255, Math.round(value)));
}
