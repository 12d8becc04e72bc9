/**
 * @module geo/heatmap
 * The probability heatmap layer: a probability grid (values 0..1, NaN = no data) → coloured RGBA PNG
 * (transparent below 5 %, then blue → yellow → red), encoded by GDAL (`geo/pngEncode`).
 */
import { encodePng } from './pngEncode.js';

/** Heatmap colour of a probability (transparent below 5 %, then blue → yellow → red). */
export function heatColor(p: number): [number, number, number, number] {
  if (!(p >= 0.05)) return [0, 0, 0, 0];
  const t = Math.min(1, p);
  const r = Math.round(255 * Math.min(1, t * 2));
  const g = Math.round(255 * (t < 0.5 ? t * 2 : 2 - t * 2));
  const b = Math.round(255 * Math.max(0, 1 - t * 2));
  return [r, g, b, Math.round(90 + 150 * t)];
}

/** PNG of a probability grid (row-major, width × height). */
export function heatmapPng(grid: { width: number; height: number; data: Float32Array }): Promise<Uint8Array> {
  const n = grid.width * grid.height;
  const rgb = new Uint8Array(n * 3);
  const alpha = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const [r, g, b, a] = heatColor(grid.data[i]!);
    rgb[i * 3] = r;
    rgb[i * 3 + 1] = g;
    rgb[i * 3 + 2] = b;
    alpha[i] = a;
  }
  return encodePng(grid.width, grid.height, rgb, alpha);
}
