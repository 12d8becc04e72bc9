/**
 * @module geo/boundingBox
 * The bounding box `[minX, minY, maxX, maxY]` of points: a raster's corners, an AOI's polygons, a grid's corners.
 */
import type { Extent } from '../shared/rasterInfo.js';

/** Bounding box [minX, minY, maxX, maxY] of points (all Infinity / -Infinity for none). */
export function boundingBox(points: Iterable<readonly [number, number]>): Extent {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const [x, y] of points) {
    minX = Math.min(minX, x);
    minY = Math.min(minY, y);
    maxX = Math.max(maxX, x);
    maxY = Math.max(maxY, y);
  }
  return [minX, minY, maxX, maxY];
}
