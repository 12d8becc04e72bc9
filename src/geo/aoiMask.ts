/**
 * @module geo/aoiMask
 * Clears the pixels of a raster grid that lie outside a polygon area of interest (scanline fill on pixel
 * centres), so a question asked about a polygon answers inside it only — the model runs on the polygon's
 * bounding box, the polygon itself is applied here. Used by the app (a drawn polygon) and by `segearth ask
 * --aoi <polygons file>` (through `inference/scene`).
 */
import { boundingBox, invertGeoTransform } from './crs.js';
import type { GeoTransform } from '../shared/rasterInfo.js';

/** A ring in map coordinates (closed or not). */
export type Ring = ReadonlyArray<readonly [number, number]>;

/**
 * Sets `values` (row-major, width × height, on the grid `gt`) to `outside` for every pixel whose centre is not
 * inside `rings` (map coordinates of the same CRS). Even-odd rule over all rings together, so the rings of
 * several non-overlapping polygons (exterior rings and their holes) can be given at once.
 */
export function maskOutsideRings(
  values: Float32Array,
  width: number,
  height: number,
  gt: GeoTransform,
  rings: readonly Ring[],
  outside = 0,
): void {
  const pxRings = rings.map((ring) => ring.map(([x, y]) => invertGeoTransform(gt, x, y)));
  const crossings: number[] = [];
  for (let row = 0; row < height; row++) {
    const yc = row + 0.5;
    crossings.length = 0;
    for (const px of pxRings) {
      for (let i = 0, j = px.length - 1; i < px.length; j = i++) {
        const [xi, yi] = px[i]!;
        const [xj, yj] = px[j]!;
        if (yi > yc !== yj > yc) crossings.push(xi + ((yc - yi) / (yj - yi)) * (xj - xi));
      }
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

/** Bounding box [minX, minY, maxX, maxY] of rings. */
export function ringsExtent(rings: readonly Ring[]): [number, number, number, number] {
  return boundingBox(rings.flat());
}
