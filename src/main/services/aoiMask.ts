/**
 * @module main/services/aoiMask
 * Clears the pixels of a raster grid that lie outside a polygon area of interest (scanline fill on pixel
 * centres), so a question asked about a drawn polygon answers inside it only — the model runs on the
 * polygon's bounding box, the polygon itself is applied here.
 */
import { invertGeoTransform } from '../../geo/crs.js';
import type { GeoTransform } from '../../shared/rasterInfo.js';

/**
 * Sets `values` (row-major, width × height, on the grid `gt`) to `outside` for every pixel whose centre is not
 * inside `ring` (map coordinates of the same CRS, closed or not). Even-odd rule.
 */
export function maskOutsideRing(
  values: Float32Array,
  width: number,
  height: number,
  gt: GeoTransform,
  ring: ReadonlyArray<readonly [number, number]>,
  outside = 0,
): void {
  const px = ring.map(([x, y]) => invertGeoTransform(gt, x, y));
  const crossings: number[] = [];
  for (let row = 0; row < height; row++) {
    const yc = row + 0.5;
    crossings.length = 0;
    for (let i = 0, j = px.length - 1; i < px.length; j = i++) {
      const [xi, yi] = px[i]!;
      const [xj, yj] = px[j]!;
      if (yi > yc !== yj > yc) crossings.push(xi + ((yc - yi) / (yj - yi)) * (xj - xi));
    }
    crossings.sort((a, b) => a - b);
    let col = 0;
    const base = row * width;
    for (let k = 0; k + 1 < crossings.length; k += 2) {
      // Pixels whose centre x + 0.5 lies in [start, end) are inside.
      const start = Math.max(0, Math.min(width, Math.ceil(crossings[k]! - 0.5)));
      const end = Math.max(0, Math.min(width, Math.ceil(crossings[k + 1]! - 0.5)));
      values.fill(outside, base + col, base + start);
      col = Math.max(col, end);
    }
    values.fill(outside, base + col, base + width);
  }
}
