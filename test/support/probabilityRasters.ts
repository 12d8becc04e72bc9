/**
 * Synthetic probability rasters (Float32, EPSG:32631, 2 m pixels) for vectorizing tests: soft discs at seeded
 * random places (polygons of varied shapes, holes), or seeded white noise (above a high threshold: tens of
 * thousands of small polygons, many touching only at corners — an answer as large as a random model's).
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

/** `size`² of seeded white noise in [0, 1). */
export function probabilityNoise(path: string, size: number, seed: number): string {
  const rand = seededRandom(seed);
  return createRaster(path, {
    width: size, height: size, dataType: 'Float32', srs: 32631, geoTransform: [500000, 2, 0, 4000000, 0, -2],
    value: () => rand(),
  });
}
