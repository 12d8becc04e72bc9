/**
 * @module geo/maskSource
 * Turns what a model (or an analyst) hands us — a mask/probability raster file, or an in-memory array with
 * its georeferencing — into a binary 0/1 Byte raster, ready for GDAL Polygonize: in memory when small, else a
 * temporary compressed file (`geo/maskDataset`), so memory does not grow with the raster.
 *
 * Threshold rule (foreground = 1), chosen from the data type so an analyst gets what they expect:
 * - **floating-point data** (Float32/Float64 files, `Float32Array`) is a probability: foreground when
 *   `p >= threshold`, default threshold 0.5. NaN is background.
 * - **integer data** (Byte/UInt16/... files, `Uint8Array`) is a mask (0/1, 0/255, or class ids): foreground
 *   when `value > 0` by default; when a threshold is given it is in the data's own scale: `value >= threshold`
 *   (e.g. 128 for a 0–255 probability; 0.5 still means "non-zero").
 * Pixels equal to the band's nodata value are background in both cases.
 */
import { stat } from 'node:fs/promises';
import gdal from 'gdal-async';
import type { Dataset, SpatialReference } from 'gdal-async';
import { SegEarthError } from '../shared/errors.js';
import { classifyOpenError, corruptRasterError } from './rasterErrors.js';
import { createMaskDataset, type MaskDataset } from './maskDataset.js';
import type { GeoTransform } from '../shared/rasterInfo.js';

export type MaskInput =
  | { kind: 'file'; path: string; band?: number }
  | {
      kind: 'array';
      data: Float32Array | Uint8Array;
      width: number;
      height: number;
      geoTransform: GeoTransform;
      crsWkt: string | null;
    };

export interface ThresholdRule {
  /** 'probability' → `value >= threshold`; 'integer' → `value >= threshold` (default: `value > 0`). */
  kind: 'probability' | 'integer';
  /** The threshold actually applied, in the data's own scale. */
  threshold: number;
  /** Human-readable rule, e.g. "p >= 0.5". */
  description: string;
}

export interface BinaryMask {
  /**
   * Dataset whose band `band` GDAL Polygonize reads, with itself as mask band: a Byte dataset holding 0/1
   * (`geo/maskDataset`: in memory, or a temporary file for large masks), or — on the direct path
   * (`openDirectMask`) — the mask file itself.
   */
  dataset: Dataset;
  /** Closes `dataset` (and removes its temporary file, if any). */
  close(): Promise<void>;
  band: number;
  /** true when `dataset` is the source file, polygonized without a thresholded copy. */
  direct: boolean;
  width: number;
  height: number;
  geoTransform: GeoTransform;
  /** null when the source is not georeferenced (coordinates are then pixel/line). */
  srs: SpatialReference | null;
  rule: ThresholdRule;
  /** Pixels set in the thresholded copy; null on the direct path (not counted). */
  foregroundPixels: number | null;
}

/** Largest mask GDAL Polygonize takes (its pixel counts are 32-bit). */
export const MAX_MASK_PIXELS = 2 ** 31 - 1;
const IDENTITY: GeoTransform = [0, 1, 0, 0, 0, 1];

/** Largest value of the integer GDAL data types a mask may have (a threshold above it selects nothing). */
const INTEGER_MAX: Record<string, number> = { Byte: 255, UInt16: 65535, Int16: 32767, UInt32: 4294967295, Int32: 2147483647 };

/**
 * The foreground rule for data of `kind` (see the module comment). A threshold outside what the data can
 * hold — negative, above 1 for a probability, above the data type's maximum for a mask — would select all
 * or nothing, so it is refused (BAD_ARGUMENT) instead of silently giving an empty or full result.
 */
export function thresholdRule(kind: ThresholdRule['kind'], threshold: number | undefined, dataType?: string | null): ThresholdRule {
  if (threshold !== undefined && !Number.isFinite(threshold)) {
    throw new SegEarthError('BAD_ARGUMENT', `The threshold ${threshold} is not a number.`, {
      hint: 'Give a threshold such as 0.5 for probabilities, or 128 for a 0-255 mask.',
    });
  }
  if (threshold !== undefined && threshold < 0) {
    throw new SegEarthError('BAD_ARGUMENT', `The threshold ${threshold} is negative: every pixel would be foreground.`, {
      hint: 'Give a threshold between 0 and 1 for probabilities (default 0.5), or a mask value such as 1 or 128.',
    });
  }
  if (kind === 'probability' && threshold !== undefined && threshold > 1) {
    throw new SegEarthError('BAD_ARGUMENT', `The threshold ${threshold} is above 1, but this raster holds probabilities (0 to 1).`, {
      hint: 'Give a threshold between 0 and 1, e.g. 0.5.',
    });
  }
  const max = dataType ? INTEGER_MAX[dataType] : undefined;
  if (kind === 'integer' && threshold !== undefined && max !== undefined && threshold > max) {
    throw new SegEarthError('BAD_ARGUMENT', `The threshold ${threshold} is above ${max}, the largest value a ${dataType} mask can hold.`, {
      hint: `Give a threshold between 0 and ${max} (e.g. 128 for a 0-255 mask), or leave it out to take every non-zero pixel.`,
    });
  }
  if (kind === 'probability') {
    const t = threshold ?? 0.5;
    return { kind, threshold: t, description: `p >= ${t}` };
  }
  if (threshold === undefined) return { kind, threshold: Number.MIN_VALUE, description: 'value > 0' };
  return { kind, threshold, description: `value >= ${threshold}` };
}

/** Writes 1 where `value >= threshold` (and value is not nodata/NaN), else 0; returns the foreground count. */
function applyThreshold(
  src: ArrayLike<number>,
  dst: Uint8Array,
  threshold: number,
  noData: number | null,
): number {
  let count = 0;
  const n = dst.length;
  if (noData === null || Number.isNaN(noData)) {
    for (let i = 0; i < n; i++) {
      const on = src[i] >= threshold ? 1 : 0; // NaN compares false
      dst[i] = on;
      count += on;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = src[i];
      const on = v >= threshold && v !== noData ? 1 : 0;
      dst[i] = on;
      count += on;
    }
  }
  return count;
}

function checkSize(width: number, height: number, what: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new SegEarthError('BAD_ARGUMENT', `${what} has an invalid size ${width}×${height}.`, {
      hint: 'Width and height must be positive integers.',
    });
  }
  if (width * height > MAX_MASK_PIXELS) {
    throw new SegEarthError('RASTER_TOO_LARGE', `${what} is ${width}×${height} pixels, too large to vectorize at once.`, {
      hint: 'Crop the mask (gdal_translate -srcwin) or vectorize it tile by tile.',
    });
  }
}

async function fromArray(input: Extract<MaskInput, { kind: 'array' }>, threshold: number | undefined): Promise<BinaryMask> {
  const { data, width, height, geoTransform, crsWkt } = input;
  checkSize(width, height, 'The mask array');
  if (data.length !== width * height) {
    throw new SegEarthError('BAD_ARGUMENT', `The mask array holds ${data.length} values, not ${width}×${height}.`, {
      hint: 'Pass one value per pixel, row by row.',
    });
  }
  const rule = thresholdRule(data instanceof Float32Array ? 'probability' : 'integer', threshold);
  let srs: SpatialReference | null = null;
  if (crsWkt !== null) {
    try {
      srs = gdal.SpatialReference.fromWKT(crsWkt);
    } catch (cause) {
      throw new SegEarthError('CRS_ERROR', 'The CRS given with the mask is not valid WKT.', {
        hint: 'Pass the raster CRS as WKT (RasterInfo.crs.wkt), or null for pixel coordinates.',
        cause,
      });
    }
  }
  const mask = await createMaskDataset(width, height, geoTransform, srs);
  try {
    const binary = new Uint8Array(width * height);
    const foregroundPixels = applyThreshold(data, binary, rule.threshold, null);
    await mask.writeRows(0, height, binary);
    return { dataset: mask.dataset, close: () => mask.close(), band: 1, direct: false, width, height, geoTransform: [...geoTransform], srs, rule, foregroundPixels };
  } catch (err) {
    await mask.close();
    throw err;
  }
}

async function openMaskFile(path: string): Promise<Dataset> {
  let isDir = false;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch {
    throw new SegEarthError('NOT_FOUND', `The mask raster ${path} does not exist.`, {
      hint: 'Check the path (relative paths start from the current folder).',
      path,
    });
  }
  if (isDir) {
    throw new SegEarthError('IS_DIRECTORY', `${path} is a folder, not a mask raster.`, {
      hint: 'Give the path of a raster file such as mask.tif.',
      path,
    });
  }
  try {
    return await gdal.openAsync(path);
  } catch (cause) {
    throw classifyOpenError(path, cause);
  }
}

const STRIP_PIXELS = 4 * 1024 * 1024;

type StripBuffer = Uint8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

/** A strip buffer of the band's own type (no conversion while reading; Float64 for anything exotic). */
function stripBuffer(dataType: string | null, length: number): StripBuffer {
  switch (dataType) {
    case gdal.GDT_Byte:
      return new Uint8Array(length);
    case gdal.GDT_UInt16:
      return new Uint16Array(length);
    case gdal.GDT_Int16:
      return new Int16Array(length);
    case gdal.GDT_UInt32:
      return new Uint32Array(length);
    case gdal.GDT_Int32:
      return new Int32Array(length);
    case gdal.GDT_Float32:
      return new Float32Array(length);
    default:
      return new Float64Array(length);
  }
}

async function fromFile(
  input: Extract<MaskInput, { kind: 'file' }>,
  threshold: number | undefined,
  signal: AbortSignal | undefined,
): Promise<BinaryMask> {
  const source = await openMaskFile(input.path);
  let mask: MaskDataset | undefined;
  try {
    const bandIndex = input.band ?? 1;
    if (!Number.isInteger(bandIndex) || bandIndex < 1 || bandIndex > source.bands.count()) {
      throw new SegEarthError('BAD_ARGUMENT', `${input.path} has no band ${bandIndex}.`, {
        hint: `Choose a band between 1 and ${source.bands.count()}.`,
        path: input.path,
      });
    }
    const { x: width, y: height } = source.rasterSize;
    checkSize(width, height, input.path);
    const band = source.bands.get(bandIndex);
    const isFloat = band.dataType === gdal.GDT_Float32 || band.dataType === gdal.GDT_Float64;
    const rule = thresholdRule(isFloat ? 'probability' : 'integer', threshold, band.dataType);
    const geoTransform = (source.geoTransform as GeoTransform | null) ?? IDENTITY;
    const srs = source.srs ? gdal.SpatialReference.fromWKT(source.srs.toWKT()) : null;
    mask = await createMaskDataset(width, height, geoTransform, srs);
    const rows = Math.max(1, Math.floor(STRIP_PIXELS / width));
    const values = stripBuffer(band.dataType, rows * width);
    const binary = new Uint8Array(rows * width);
    let foregroundPixels = 0;
    for (let y = 0; y < height; y += rows) {
      if (signal?.aborted) throw new SegEarthError('CANCELLED', 'Vectorizing was cancelled.');
      const h = Math.min(rows, height - y);
      const strip = values.subarray(0, h * width);
      await band.pixels.readAsync(0, y, width, h, strip);
      const bin = binary.subarray(0, h * width);
      foregroundPixels += applyThreshold(strip, bin, rule.threshold, band.noDataValue);
      await mask.writeRows(y, h, bin);
    }
    const written = mask;
    return { dataset: written.dataset, close: () => written.close(), band: 1, direct: false, width, height, geoTransform, srs, rule, foregroundPixels };
  } catch (err) {
    await mask?.close();
    if (err instanceof SegEarthError) throw err;
    throw corruptRasterError(input.path, err);
  } finally {
    source.close();
  }
}

const UNSIGNED_TYPES: ReadonlyArray<string | null> = [gdal.GDT_Byte, gdal.GDT_UInt16, gdal.GDT_UInt32];

/**
 * Direct path for the most common input, a binary mask file (0/1, 0/255): when the band is unsigned integer,
 * the rule is "value > 0" (no threshold, or one in (0, 1]) and nodata is absent or 0, GDAL can polygonize the
 * file itself with the band as its own mask — no thresholded copy, as `gdal_polygonize` does. It is only
 * right when the mask holds a single non-zero value: the caller checks the polygon values and falls back to
 * `loadBinaryMask` otherwise. Returns null when the file is not eligible.
 */
export async function openDirectMask(input: MaskInput, threshold: number | undefined): Promise<BinaryMask | null> {
  if (input.kind !== 'file' || (threshold !== undefined && !(threshold > 0 && threshold <= 1))) return null;
  const source = await openMaskFile(input.path);
  const bandIndex = input.band ?? 1;
  const eligible = (() => {
    if (!Number.isInteger(bandIndex) || bandIndex < 1 || bandIndex > source.bands.count()) return false;
    const band = source.bands.get(bandIndex);
    const noData = band.noDataValue;
    return UNSIGNED_TYPES.includes(band.dataType) && (noData === null || noData === 0);
  })();
  if (!eligible) {
    source.close();
    return null;
  }
  const { x: width, y: height } = source.rasterSize;
  try {
    checkSize(width, height, input.path);
  } catch (err) {
    source.close();
    throw err;
  }
  const geoTransform = (source.geoTransform as GeoTransform | null) ?? IDENTITY;
  // The CRS is read when first asked, from a second handle of the file: the first use of PROJ in a process
  // (proj.db) costs ~15 ms, which `geo/maskToPolygons` spends while Polygonize reads `source` on GDAL's thread
  // (gdal-async locks a dataset during an asynchronous operation, so `source.srs` would wait for it).
  let srs: SpatialReference | null | undefined;
  const readSrs = (): SpatialReference | null => {
    const again = gdal.open(input.path);
    try {
      return again.srs ? gdal.SpatialReference.fromWKT(again.srs.toWKT()) : null;
    } finally {
      again.close();
    }
  };
  return {
    dataset: source,
    close: async () => source.close(),
    band: bandIndex,
    direct: true,
    width,
    height,
    geoTransform,
    get srs() {
      return (srs ??= readSrs());
    },
    rule: thresholdRule('integer', undefined),
    foregroundPixels: null,
  };
}

/** Reads and thresholds the input into an in-memory 0/1 mask (see the module comment for the rule). */
export function loadBinaryMask(
  input: MaskInput,
  threshold?: number,
  signal?: AbortSignal,
): Promise<BinaryMask> {
  return input.kind === 'file' ? fromFile(input, threshold, signal) : fromArray(input, threshold);
}
