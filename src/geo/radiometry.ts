/**
 * @module geo/radiometry
 * One contrast stretch per raster (and band mapping), never per tile, so a pixel gets the same colour whichever
 * window, tile or zoom it is read through, and model input does not depend on the processed area.
 *
 * Stretch: per band, a linear 2–98 % cumulative-count cut (QGIS's default "Cumulative count cut") of the band's
 * valid values (nodata, masked and NaN pixels excluded), mapped to 0–255. The sample is the whole raster read
 * through GDAL at ≤ {@link SAMPLE_SIZE} px on its long side (nearest neighbour, so overviews are used when present),
 * or, for huge rasters without overviews, a regular grid of full-resolution blocks. 8-bit bands pass through
 * unchanged (identity). Results are cached in memory keyed by path + size + mtime (+ .ovr) + band mapping.
 */
import type { RasterInfo } from '../shared/rasterInfo.js';
import { acquireRaster, type RasterHandle } from './datasetCache.js';
import { bandMappingKey, resolveBandMapping, type BandMapping } from './bandMapping.js';
import { MAX_SOURCE_PIXELS, readWindow, sourcePixelsTouched, type BandData, type PixelWindow } from './windowRead.js';

export const SAMPLE_SIZE = 1024;
export const CUT_LOW = 0.02;
export const CUT_HIGH = 0.98;
const GRID = 16;
const GRID_BLOCK = 64;

export interface BandStretch {
  /** 1-based source band. */
  band: number;
  /** Value mapped to 0. */
  min: number;
  /** Value mapped to 255. */
  max: number;
  /** 8-bit data (or a palette): values are used as they are. */
  identity: boolean;
}

export interface Stretch {
  mapping: BandMapping;
  /** Stretch of the R, G, B source bands, in that order. */
  rgb: [BandStretch, BandStretch, BandStretch];
  /** Number of valid pixels the cut was computed from (0 for identity stretches). */
  sampleCount: number;
}

const cache = new Map<string, Promise<Stretch>>();

/** Value at fraction q of the sorted sample (nearest rank). */
function quantile(sorted: Float64Array, q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))));
  return sorted[i];
}

function collectValid(values: BandData, valid: Uint8Array, into: number[]): void {
  for (let i = 0; i < values.length; i++) if (valid[i]) into.push(values[i]);
}

/** Sample the raster: one decimated full read, or a grid of blocks when that would need missing overviews. */
async function sampleBands(handle: RasterHandle, bands: number[]): Promise<Map<number, number[]>> {
  const { info } = handle;
  const samples = new Map<number, number[]>(bands.map((b) => [b, []]));
  const scale = Math.min(1, SAMPLE_SIZE / Math.max(info.width, info.height));
  const outW = Math.max(1, Math.round(info.width * scale));
  const outH = Math.max(1, Math.round(info.height * scale));
  const full: PixelWindow = { x: 0, y: 0, width: info.width, height: info.height };
  const windows: Array<{ win: PixelWindow; w: number; h: number }> = [];
  if (sourcePixelsTouched(info, full, outW, outH) <= MAX_SOURCE_PIXELS / 4) {
    windows.push({ win: full, w: outW, h: outH });
  } else {
    const bw = Math.min(GRID_BLOCK, info.width);
    const bh = Math.min(GRID_BLOCK, info.height);
    for (let gy = 0; gy < GRID; gy++) {
      for (let gx = 0; gx < GRID; gx++) {
        const x = Math.floor(((gx + 0.5) * info.width) / GRID - bw / 2);
        const y = Math.floor(((gy + 0.5) * info.height) / GRID - bh / 2);
        windows.push({ win: { x: Math.max(0, x), y: Math.max(0, y), width: bw, height: bh }, w: bw, h: bh });
      }
    }
  }
  for (const { win, w, h } of windows) {
    const raw = await readWindow(handle, win, w, h, { resampling: 'nearest', bands });
    for (const b of bands) collectValid(raw.bands.get(b)!, raw.valid, samples.get(b)!);
  }
  return samples;
}

function isByte(info: RasterInfo, band: number): boolean {
  return info.bands[band - 1]?.dataType === 'Byte';
}

async function computeStretch(handle: RasterHandle, mapping: BandMapping): Promise<Stretch> {
  const { info } = handle;
  const identity = (band: number): BandStretch => ({ band, min: 0, max: 255, identity: true });
  if (mapping.palette) return { mapping, rgb: [identity(1), identity(1), identity(1)], sampleCount: 0 };
  const toStretch = [...new Set(mapping.rgb)].filter((b) => !isByte(info, b));
  const byBand = new Map<number, BandStretch>();
  let sampleCount = 0;
  if (toStretch.length > 0) {
    const samples = await sampleBands(handle, toStretch);
    for (const b of toStretch) {
      const values = Float64Array.from(samples.get(b)!).sort();
      sampleCount = Math.max(sampleCount, values.length);
      if (values.length === 0) {
        byBand.set(b, { band: b, min: 0, max: 1, identity: false });
        continue;
      }
      const lo = quantile(values, CUT_LOW);
      let hi = quantile(values, CUT_HIGH);
      if (!(hi > lo)) hi = lo + 1;
      byBand.set(b, { band: b, min: lo, max: hi, identity: false });
    }
  }
  const pick = (b: number): BandStretch => byBand.get(b) ?? identity(b);
  return { mapping, rgb: [pick(mapping.rgb[0]), pick(mapping.rgb[1]), pick(mapping.rgb[2])], sampleCount };
}

/** The stretch for an open handle and mapping (cached). */
export function stretchFor(handle: RasterHandle, mapping: BandMapping): Promise<Stretch> {
  const key = `${handle.key}|${bandMappingKey(mapping)}`;
  let p = cache.get(key);
  if (!p) {
    p = computeStretch(handle, mapping);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

/** Public entry: the stretch SegEarth applies to `path` with an optional 1-based band override. */
export async function getStretch(path: string, bands?: readonly number[]): Promise<Stretch> {
  const handle = await acquireRaster(path);
  return stretchFor(handle, resolveBandMapping(handle.info, bands));
}

/** Apply a band stretch to one value → 0..255. */
export function stretchValue(s: BandStretch, v: number): number {
  if (s.identity) return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
  const t = ((v - s.min) / (s.max - s.min)) * 255;
  return t <= 0 ? 0 : t >= 255 ? 255 : Math.round(t);
}

const luts = new WeakMap<BandStretch, Map<string, Uint8Array>>();

/**
 * Lookup table value → 0..255 for 8/16-bit integer data (index = value, or value + 32768 for Int16), built once
 * per stretch; null for other types (use {@link stretchValue}).
 */
export function stretchLut(s: BandStretch, kind: 'uint8' | 'uint16' | 'int16'): Uint8Array {
  let perKind = luts.get(s);
  if (!perKind) {
    perKind = new Map();
    luts.set(s, perKind);
  }
  let lut = perKind.get(kind);
  if (!lut) {
    const size = kind === 'uint8' ? 256 : 65536;
    const offset = kind === 'int16' ? -32768 : 0;
    lut = new Uint8Array(size);
    for (let i = 0; i < size; i++) lut[i] = stretchValue(s, i + offset);
    perKind.set(kind, lut);
  }
  return lut;
}

/** Forget cached stretches (tests). */
export function clearStretchCache(): void {
  cache.clear();
}
