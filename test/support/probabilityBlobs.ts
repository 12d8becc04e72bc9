/**
 * A synthetic probability raster (Float32, EPSG:32631, 2 m pixels): soft discs at seeded random places, some
 * overlapping — many polygons of varied shapes once thresholded, for vectorizing tests.
 */
import { seededRandom } from './seededRandom.js';
import { createRaster } from './syntheticRaster.js';

/** A probability raster of `blobs` soft discs (some overlapping, some touching only at corners after the threshold). */
export function probabilityBlobs(path: string, size: number, blobs: number, seed: number): string {
  const rand = seededRandom(seed);
  const discs = Array.from({ length: blobs }, () => ({ x: rand() * size, y: rand() * size, r: 2 + rand() * (size / 25) }));
  const grid = new Float32Array(size * size);
  for (const d of discs) {
    const r = Math.ceil(d.r * 1.5);
    for (let y = Math.max(0, Math.floor(d.y - r)); y < Math.min(size, d.y + r); y++) {
      for (let x = Math.max(0, Math.floor(d.x - r)); x < Math.min(size, d.x + r); x++) {
        const p = Math.exp(-(((x - d.x) ** 2 + (y - d.y) ** 2) / (d.r * d.r)) * 0.7);
        grid[y * size + x] = Math.max(grid[y * size + x]!, p);
      }
    }
  }
  return createRaster(path, {
    width: size, height: size, dataType: 'Float32', srs: 32631, geoTransform: [500000, 2, 0, 4000000, 0, -2],
    value: (_b, x, y) => grid[y * size + x]!,
  });
}
