/**
 * @module geo/readRegion
 * `readRegion(path, request)` → an 8-bit RGB image of any window of a raster at any output size, with a
 * validity mask and the geotransform of the output grid, ready for display or as model input.
 *
 * - Window: pixel (fractional allowed), map extent in the raster's native CRS, or the full raster. Windows may
 *   extend beyond the raster; outside pixels are invalid (0 in `valid`, 0 in `rgb`).
 * - GDAL does the resampling (default bilinear) and uses overviews when the output is smaller than the
 *   window; nothing is read at full resolution to make a small image (see geo/windowRead).
 * - Bands: geo/bandMapping (colour interpretation default, or an override such as [4, 3, 2]).
 * - Radiometry: the per-raster stretch of geo/radiometry, identical for every window.
 */
import type { Extent, GeoTransform } from '../shared/rasterInfo.js';
import { SegEarthError } from '../shared/errors.js';
import { acquireRaster } from './datasetCache.js';
import { resolveBandMapping } from './bandMapping.js';
import { stretchFor, stretchLut, type Stretch } from './radiometry.js';
import { mapExtentToPixelWindow, windowGeoTransform } from './geoTransform.js';
import { RESAMPLINGS, readWindow, throwIfAborted, type PixelWindow, type RawWindow, type Resampling } from './windowRead.js';
import type { BandMapping } from './bandMapping.js';

export type { PixelWindow, Resampling } from './windowRead.js';

export interface RegionRequest {
  window: { kind: 'pixel'; window: PixelWindow } | { kind: 'map'; extent: Extent /* native CRS */ } | { kind: 'full' };
  outWidth: number;
  outHeight: number;
  /** Default bilinear. */
  resampling?: Resampling;
  /** 1-based band mapping override (1 or 3 bands). */
  bands?: number[];
  signal?: AbortSignal;
}

export interface Region {
  width: number;
  height: number;
  /** HWC interleaved RGB, width*height*3, stretched. */
  rgb: Uint8Array;
  /** width*height, 1 = valid data, 0 = nodata/outside raster. */
  valid: Uint8Array;
  /** Geotransform of THIS output grid. */
  geoTransform: GeoTransform;
  /** Window read from the source, in full-resolution pixels (may extend beyond the raster). */
  sourceWindow: PixelWindow;
}

/** Largest output side readRegion accepts. */
export const MAX_OUT_SIDE = 16384;

function badArgument(message: string, hint: string): SegEarthError {
  return new SegEarthError('BAD_ARGUMENT', message, { hint });
}

function validateRequest(req: RegionRequest): void {
  for (const [name, v] of [
    ['outWidth', req.outWidth],
    ['outHeight', req.outHeight],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > MAX_OUT_SIDE) {
      throw badArgument(`${name} must be an integer from 1 to ${MAX_OUT_SIDE}, got ${v}.`, 'Ask for a smaller output or read the area in tiles.');
    }
  }
  if (req.resampling !== undefined && !RESAMPLINGS.includes(req.resampling)) {
    throw badArgument(`Unknown resampling "${req.resampling}".`, `Use one of ${RESAMPLINGS.join(', ')}.`);
  }
}

/** Interleaved, stretched RGB of raw band values; invalid pixels are black. */
export function composeRgb(raw: RawWindow, mapping: BandMapping, stretch: Stretch): Uint8Array {
  const n = raw.width * raw.height;
  const rgb = new Uint8Array(n * 3);
  const valid = raw.valid;
  const channels = mapping.palette ? [1, 2, 3] : mapping.rgb;
  for (let c = 0; c < 3; c++) {
    const data = raw.bands.get(channels[c])!;
    const s = stretch.rgb[c];
    if (s.identity && data instanceof Uint8Array) {
      for (let i = 0; i < n; i++) rgb[i * 3 + c] = valid[i] ? data[i] : 0;
    } else if (data instanceof Uint8Array || data instanceof Uint16Array) {
      const lut = stretchLut(s, data instanceof Uint8Array ? 'uint8' : 'uint16');
      for (let i = 0; i < n; i++) rgb[i * 3 + c] = valid[i] ? lut[data[i]] : 0;
    } else if (data instanceof Int16Array) {
      const lut = stretchLut(s, 'int16');
      for (let i = 0; i < n; i++) rgb[i * 3 + c] = valid[i] ? lut[data[i] + 32768] : 0;
    } else {
      // float and 32-bit integer data: exactly stretchValue's arithmetic, inlined
      const lo = s.identity ? 0 : s.min;
      const range = s.identity ? 255 : s.max - s.min;
      for (let i = 0; i < n; i++) {
        if (!valid[i]) continue;
        const t = ((data[i] - lo) / range) * 255;
        rgb[i * 3 + c] = t <= 0 ? 0 : t >= 255 ? 255 : Math.round(t);
      }
    }
  }
  return rgb;
}

/** Read a window of `path` as stretched RGB + validity mask (see module doc). */
export async function readRegion(path: string, req: RegionRequest): Promise<Region> {
  validateRequest(req);
  throwIfAborted(req.signal);
  const handle = await acquireRaster(path);
  const { info } = handle;
  let win: PixelWindow;
  switch (req.window.kind) {
    case 'full':
      win = { x: 0, y: 0, width: info.width, height: info.height };
      break;
    case 'pixel':
      win = { ...req.window.window };
      break;
    case 'map':
      win = mapExtentToPixelWindow(info.geoTransform, req.window.extent);
      break;
  }
  if (![win.x, win.y, win.width, win.height].every(Number.isFinite) || win.width <= 0 || win.height <= 0) {
    throw badArgument(
      `The requested window ${JSON.stringify(req.window)} is empty or not finite.`,
      'Give a window with a positive width and height (pixel windows are {x, y, width, height}; map extents are [minX, minY, maxX, maxY] in the raster CRS).',
    );
  }
  const mapping = resolveBandMapping(info, req.bands);
  const stretch = await stretchFor(handle, mapping);
  throwIfAborted(req.signal);
  const W = req.outWidth;
  const H = req.outHeight;
  const srcBands = [...new Set(mapping.rgb)];
  const raw = await readWindow(handle, win, W, H, {
    resampling: req.resampling ?? 'bilinear',
    bands: srcBands,
    palette: mapping.palette,
    ...(req.signal ? { signal: req.signal } : {}),
  });
  return {
    width: W,
    height: H,
    rgb: composeRgb(raw, mapping, stretch),
    valid: raw.valid,
    geoTransform: windowGeoTransform(info.geoTransform, win, W, H),
    sourceWindow: win,
  };
}
