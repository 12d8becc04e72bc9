/**
 * @module geo/bandMapping
 * Which source bands become the R, G and B of what SegEarth shows and feeds to the model.
 *
 * Default, from GDAL's colour interpretation:
 * - a palette band (colour table) → expanded through its colour table;
 * - bands tagged Red, Green and Blue → those;
 * - otherwise 3 or more bands → the first three (covers RGBA and RGBN/RGB+NIR);
 * - 1 or 2 bands (grey, grey + alpha) → band 1 replicated to grey.
 * Override: a 1-based list of 1 band (grey) or 3 bands, e.g. Sentinel-2 true colour `[4, 3, 2]` on a 13-band
 * L1C/L2A stack.
 */
import type { RasterInfo } from '../shared/rasterInfo.js';
import { SegEarthError } from '../shared/errors.js';

export interface BandMapping {
  /** Source bands (1-based) for R, G, B. */
  rgb: [number, number, number];
  /** Band 1 is a palette band: expand it through its colour table instead of stretching. */
  palette: boolean;
}

export function resolveBandMapping(info: RasterInfo, override?: readonly number[]): BandMapping {
  if (override && override.length > 0) {
    if (override.length !== 1 && override.length !== 3) {
      throw new SegEarthError('BAD_ARGUMENT', `A band mapping needs 1 or 3 bands, got ${override.length} (${override.join(',')}).`, {
        hint: 'Give three bands for red, green, blue (e.g. 4,3,2 for Sentinel-2 true colour) or one band for grey.',
      });
    }
    for (const b of override) {
      if (!Number.isInteger(b) || b < 1 || b > info.bandCount) {
        throw new SegEarthError('BAD_ARGUMENT', `Band ${b} does not exist: ${info.path} has bands 1 to ${info.bandCount}.`, {
          hint: `Choose band numbers between 1 and ${info.bandCount}.`,
          path: info.path,
        });
      }
    }
    const rgb: [number, number, number] = override.length === 1 ? [override[0], override[0], override[0]] : [override[0], override[1], override[2]];
    return { rgb, palette: false };
  }
  const first = info.bands[0];
  if (first && first.hasColorTable && first.colorInterpretation === 'Palette') return { rgb: [1, 1, 1], palette: true };
  const find = (ci: string): number | undefined => info.bands.find((b) => b.colorInterpretation === ci)?.index;
  const r = find('Red');
  const g = find('Green');
  const b = find('Blue');
  if (r && g && b) return { rgb: [r, g, b], palette: false };
  if (info.bandCount >= 3) return { rgb: [1, 2, 3], palette: false };
  return { rgb: [1, 1, 1], palette: false };
}

/** Stable text form for cache keys, e.g. "4,3,2" or "palette". */
export function bandMappingKey(m: BandMapping): string {
  return m.palette ? 'palette' : m.rgb.join(',');
}
