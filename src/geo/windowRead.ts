/**
 * @module geo/windowRead
 * The one place that reads pixels: a (fractional) source window of a raster, resampled by GDAL to an output
 * size, as raw band values plus a validity mask. Used by radiometry (sampling) and readRegion (RGB output).
 *
 * How: for integer windows inside the raster (the common case: model tiles, map tiles inside the extent), one
 * `RasterIO` per band (gdal-async `pixels.readAsync` with buffer size + resampling) and per needed mask band.
 * Otherwise an in-process `gdal_translate -of MEM -srcwin … -outsize … -r …` on the cached dataset handle. GDAL then
 * (a) picks the best overview level when the output is smaller than the window, (b) resamples with nodata/mask
 * awareness, (c) accepts fractional windows (exact sub-pixel georeferencing) and windows partly outside the
 * raster (padded). Mask bands are read in the same call (`-b mask,N`): GDAL's mask covers nodata values, alpha
 * bands and internal/external masks; outside the raster it is 0. NaN values of float bands are invalid too.
 *
 * Guard: a read that would have to touch more than {@link MAX_SOURCE_PIXELS} full-resolution pixels (a huge
 * raster without suitable overviews) fails with RASTER_TOO_LARGE and a hint to build overviews, instead of
 * grinding through gigapixels.
 */
import gdal from 'gdal-async';
import type { RasterInfo } from '../shared/rasterInfo.js';
import { SegEarthError } from '../shared/errors.js';
import type { RasterHandle } from './datasetCache.js';
import { classifyReadError } from './rasterErrors.js';

export type PixelWindow = { x: number; y: number; width: number; height: number };
export type Resampling = 'nearest' | 'bilinear' | 'cubic' | 'average' | 'lanczos' | 'mode';
export const RESAMPLINGS: readonly Resampling[] = ['nearest', 'bilinear', 'cubic', 'average', 'lanczos', 'mode'];

/** 16384² full-resolution pixels: beyond this a read needs overviews. */
export const MAX_SOURCE_PIXELS = 16384 * 16384;

export type BandData = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

export interface RawWindow {
  width: number;
  height: number;
  /** Values of each requested source band (or of the expanded palette's R, G, B as bands 1, 2, 3). */
  bands: Map<number, BandData>;
  /** 1 = valid in every requested band, 0 = nodata/masked/NaN/outside the raster. */
  valid: Uint8Array;
}

export interface WindowReadOptions {
  resampling: Resampling;
  /** Distinct 1-based source bands. Ignored when `palette` (band 1 expanded to R, G, B). */
  bands: number[];
  palette?: boolean;
  signal?: AbortSignal;
}

export function cancelledError(): SegEarthError {
  return new SegEarthError('CANCELLED', 'The read was cancelled.', { hint: 'Start it again when needed.' });
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw cancelledError();
}

/** Overview decimation factor GDAL will use for a downsampling factor (largest overview not finer than asked). */
export function overviewFactorFor(info: RasterInfo, downsampling: number): number {
  let best = 1;
  for (const [ow] of info.bands[0]?.overviews ?? []) {
    const f = info.width / ow;
    if (f <= downsampling * 1.01 && f > best) best = f;
  }
  return best;
}

/** Full-resolution pixels a read must touch, given the overviews GDAL can use. */
export function sourcePixelsTouched(info: RasterInfo, win: PixelWindow, outW: number, outH: number): number {
  const cw = Math.max(0, Math.min(info.width, win.x + win.width) - Math.max(0, win.x));
  const ch = Math.max(0, Math.min(info.height, win.y + win.height) - Math.max(0, win.y));
  const down = Math.min(win.width / outW, win.height / outH);
  const f = down > 1 ? overviewFactorFor(info, down) : 1;
  return (cw * ch) / (f * f);
}

function needsMask(info: RasterInfo, band: number): boolean {
  const flags = info.bands[band - 1]?.maskFlags ?? ['ALL_VALID'];
  return !flags.includes('ALL_VALID');
}

function num(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(17);
}

/** Geometric validity: output pixel centre inside the raster. */
function insideMask(info: RasterInfo, win: PixelWindow, outW: number, outH: number): Uint8Array {
  const valid = new Uint8Array(outW * outH);
  const sx = win.width / outW;
  const sy = win.height / outH;
  const cols = new Uint8Array(outW);
  for (let i = 0; i < outW; i++) {
    const px = win.x + (i + 0.5) * sx;
    cols[i] = px >= 0 && px < info.width ? 1 : 0;
  }
  for (let j = 0; j < outH; j++) {
    const py = win.y + (j + 0.5) * sy;
    if (py < 0 || py >= info.height) continue;
    valid.set(cols, j * outW);
  }
  return valid;
}

function tooLargeError(info: RasterInfo, win: PixelWindow, outW: number, outH: number, touched: number): SegEarthError {
  return new SegEarthError(
    'RASTER_TOO_LARGE',
    `Reading this ${Math.round(win.width)}×${Math.round(win.height)} px area of ${info.path} at ${outW}×${outH} would read ${Math.round(touched / 1e6)} million full-resolution pixels: the raster has no overviews (pyramids) at this scale.`,
    { hint: 'Build overviews first (Raster → Build overviews, or `gdaladdo -ro <file>`), or zoom in / read a smaller area.', path: info.path },
  );
}

function markNaN(info: RasterInfo, srcBands: number[], bands: Map<number, BandData>, valid: Uint8Array): void {
  for (const b of srcBands) {
    const t = info.bands[b - 1]?.dataType ?? '';
    if (!t.startsWith('Float') && !t.startsWith('CFloat')) continue;
    const d = bands.get(b)!;
    for (let i = 0; i < valid.length; i++) if (Number.isNaN(d[i])) valid[i] = 0;
  }
}

/**
 * Warp the raster onto a north-up outW × outH grid covering `extent` (native CRS) — for rotated/sheared
 * geotransforms, where a pixel window is not a map rectangle. `win` is the pixel bounding box of `extent`
 * (for the overview guard). Validity comes from GDAL's destination alpha (nodata, masks, outside footprint).
 */
export async function readWarpedWindow(
  handle: RasterHandle,
  extent: readonly [number, number, number, number],
  win: PixelWindow,
  outW: number,
  outH: number,
  opts: WindowReadOptions,
): Promise<RawWindow> {
  const { info } = handle;
  throwIfAborted(opts.signal);
  const touched = sourcePixelsTouched(info, win, outW, outH);
  if (touched > MAX_SOURCE_PIXELS) throw tooLargeError(info, win, outW, outH, touched);
  const args = ['-of', 'MEM', '-te', ...extent.map(num), '-ts', String(outW), String(outH), '-r', opts.resampling, '-dstalpha'];
  let out: gdal.Dataset;
  try {
    out = await handle.use((ds) => gdal.warpAsync('segearth-warp', null, [ds], args));
  } catch (err) {
    throw classifyReadError(info.path, err);
  }
  try {
    throwIfAborted(opts.signal);
    const count = out.bands.count();
    const alpha = out.bands.get(count).pixels.read(0, 0, outW, outH) as BandData;
    const valid = new Uint8Array(outW * outH);
    for (let i = 0; i < valid.length; i++) valid[i] = alpha[i] >= 128 ? 1 : 0;
    const bands = new Map<number, BandData>();
    for (const b of opts.bands) bands.set(b, out.bands.get(b).pixels.read(0, 0, outW, outH) as BandData);
    markNaN(info, opts.bands, bands, valid);
    return { width: outW, height: outH, bands, valid };
  } finally {
    out.close();
  }
}

const GRA: Record<Resampling, string> = {
  nearest: gdal.GRA_NearestNeighbor,
  bilinear: gdal.GRA_Bilinear,
  cubic: gdal.GRA_Cubic,
  average: gdal.GRA_Average,
  lanczos: gdal.GRA_Lanczos,
  mode: gdal.GRA_Mode,
};

function isDirectWindow(info: RasterInfo, win: PixelWindow, srcBands: number[]): boolean {
  const ints = [win.x, win.y, win.width, win.height].every(Number.isInteger);
  const inside = win.x >= 0 && win.y >= 0 && win.x + win.width <= info.width && win.y + win.height <= info.height;
  const simpleTypes = srcBands.every((b) => !(info.bands[b - 1]?.dataType ?? 'C').startsWith('C'));
  return ints && inside && simpleTypes;
}

/**
 * Resampling of mask bands: the data's own for nearest/mode (so a value and its validity come from the same
 * source pixels), else AVERAGE: an output pixel is valid when at least half of its footprint is valid. (GDAL's
 * data resampling is mask-aware, so valid values are never blended with nodata.)
 */
export function maskResamplingFor(resampling: Resampling): Resampling {
  return resampling === 'nearest' || resampling === 'mode' ? resampling : 'average';
}

/** Band data and mask planes by one RasterIO per band (window fully inside the raster, integer offsets). */
async function readDirect(
  handle: RasterHandle,
  win: PixelWindow,
  outW: number,
  outH: number,
  srcBands: number[],
  maskBands: number[],
  resampling: Resampling,
): Promise<{ bands: Map<number, BandData>; masks: BandData[] }> {
  const { info } = handle;
  const opts = { buffer_width: outW, buffer_height: outH, resampling: GRA[resampling] };
  const maskOpts = { ...opts, resampling: GRA[maskResamplingFor(resampling)] };
  return handle.use(async (ds) => {
    const bands = new Map<number, BandData>();
    for (const b of srcBands) {
      const band = await ds.bands.getAsync(b);
      const Ctor = gdal.fromDataType(info.bands[b - 1].dataType) as unknown as new (n: number) => BandData;
      const data = new Ctor(outW * outH);
      await band.pixels.readAsync(win.x, win.y, win.width, win.height, data as gdal.TypedArray, opts);
      bands.set(b, data);
    }
    const masks: BandData[] = [];
    for (const b of maskBands) {
      const mask = (await ds.bands.getAsync(b)).getMaskBand();
      if (!mask) continue;
      const data = new Uint8Array(outW * outH);
      await mask.pixels.readAsync(win.x, win.y, win.width, win.height, data, maskOpts);
      masks.push(data);
    }
    return { bands, masks };
  });
}

/** Read `win` of the raster behind `handle`, resampled to outW × outH. */
export async function readWindow(handle: RasterHandle, win: PixelWindow, outW: number, outH: number, opts: WindowReadOptions): Promise<RawWindow> {
  const { info } = handle;
  throwIfAborted(opts.signal);
  const palette = opts.palette === true;
  const srcBands = palette ? [1] : opts.bands;
  const outBands = palette ? [1, 2, 3] : srcBands;
  const n = outW * outH;
  const intersects = win.x < info.width && win.y < info.height && win.x + win.width > 0 && win.y + win.height > 0;
  if (!intersects) {
    const bands = new Map<number, BandData>();
    for (const b of outBands) bands.set(b, new Uint8Array(n));
    return { width: outW, height: outH, bands, valid: new Uint8Array(n) };
  }
  const touched = sourcePixelsTouched(info, win, outW, outH);
  if (touched > MAX_SOURCE_PIXELS) throw tooLargeError(info, win, outW, outH, touched);

  // Masks: one for per-dataset masks, one per band otherwise, none when every band is all-valid.
  const maskBands: number[] = [];
  for (const b of srcBands) {
    if (!needsMask(info, b)) continue;
    const perDataset = info.bands[b - 1]?.maskFlags?.includes('PER_DATASET') ?? false;
    if (perDataset && maskBands.length > 0) continue;
    maskBands.push(b);
  }
  if (!palette && isDirectWindow(info, win, srcBands)) {
    let direct: { bands: Map<number, BandData>; masks: BandData[] };
    try {
      direct = await readDirect(handle, win, outW, outH, srcBands, maskBands, opts.resampling);
    } catch (err) {
      throw classifyReadError(info.path, err);
    }
    throwIfAborted(opts.signal);
    const valid = new Uint8Array(n).fill(1);
    for (const m of direct.masks) for (let i = 0; i < n; i++) if (m[i] < 128) valid[i] = 0;
    markNaN(info, srcBands, direct.bands, valid);
    return { width: outW, height: outH, bands: direct.bands, valid };
  }

  const base = ['-of', 'MEM', '-srcwin', num(win.x), num(win.y), num(win.width), num(win.height), '-outsize', String(outW), String(outH)];
  const resampling = palette ? 'nearest' : opts.resampling;
  const maskResampling = maskResamplingFor(resampling);
  const args = [...base, '-r', resampling];
  if (palette) args.push('-b', '1', '-expand', 'rgba');
  else for (const b of srcBands) args.push('-b', String(b));
  const maskArgs: string[] = [];
  for (const b of palette ? maskBands.slice(0, 1) : maskBands) maskArgs.push('-b', `mask,${b}`);
  // Masks ride along when they share the data's resampling; otherwise (and for `-expand`, which takes a single
  // band) they are read in a second pass.
  const separateMasks = maskArgs.length > 0 && (palette || maskResampling !== resampling);
  if (maskArgs.length > 0 && !separateMasks) args.push(...maskArgs);
  let out: gdal.Dataset;
  let maskDs: gdal.Dataset | null = null;
  try {
    out = await handle.use((ds) => gdal.translateAsync('', ds, args));
    if (separateMasks) maskDs = await handle.use((ds) => gdal.translateAsync('', ds, [...base, '-r', maskResampling, ...maskArgs]));
  } catch (err) {
    throw classifyReadError(info.path, err);
  }
  try {
    throwIfAborted(opts.signal);
    const bands = new Map<number, BandData>();
    outBands.forEach((b, i) => bands.set(b, out.bands.get(i + 1).pixels.read(0, 0, outW, outH) as BandData));
    const valid = insideMask(info, win, outW, outH);
    if (palette) {
      const alpha = out.bands.get(4).pixels.read(0, 0, outW, outH) as Uint8Array;
      for (let i = 0; i < n; i++) if (alpha[i] < 128) valid[i] = 0;
    }
    const maskCount = maskArgs.length / 2;
    const masks = Array.from({ length: maskCount }, (_, k) => (maskDs ? maskDs.bands.get(k + 1) : out.bands.get(srcBands.length + k + 1)));
    for (const band of masks) {
      const m = band.pixels.read(0, 0, outW, outH) as BandData;
      for (let i = 0; i < n; i++) if (m[i] < 128) valid[i] = 0;
    }
    if (!palette) markNaN(info, srcBands, bands, valid);
    return { width: outW, height: outH, bands, valid };
  } finally {
    out.close();
    maskDs?.close();
  }
}
