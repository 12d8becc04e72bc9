/**
 * @module inference/result
 * Result polygons with their provenance: each feature gets the question, model id, bundle hash, source file,
 * threshold, mean probability inside the polygon (from the probability raster), `area_m2` and `created_at`.
 * Field names are ≤ 10 characters where the Shapefile writer would otherwise truncate them.
 */
import gdal from 'gdal-async';
import type { AreaGeometry, FeatureSet, Position } from '../shared/featureSet.js';
import type { GeoTransform } from '../shared/rasterInfo.js';

export interface Provenance {
  question: string;
  modelId: string;
  bundleSha256: string;
  source: string;
  threshold: number;
  createdAt: string;
}

/** Rings of a polygon geometry, in pixel coordinates of a grid. */
function pixelRings(geometry: AreaGeometry, gt: GeoTransform): Position[][] {
  const [x0, a, b, y0, d, e] = gt;
  const det = a * e - b * d;
  const toPx = (p: Position): Position => {
    const dx = p[0] - x0;
    const dy = p[1] - y0;
    return [(e * dx - b * dy) / det, (-d * dx + a * dy) / det];
  };
  const polys = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  return polys.flat().map((ring) => ring.map(toPx));
}

/**
 * Mean of `values` (row-major `width × height`, window offset `ox, oy` in the grid) over the pixels whose
 * centres fall inside the rings (even-odd rule: holes excluded), by scanline crossings.
 */
export function meanInsideRings(rings: Position[][], values: Float32Array, ox: number, oy: number, width: number, height: number): number | null {
  let sum = 0;
  let count = 0;
  for (let row = 0; row < height; row++) {
    const cy = oy + row + 0.5;
    const xs: number[] = [];
    for (const ring of rings) {
      for (let i = 0; i + 1 < ring.length; i++) {
        const [ax, ay] = ring[i]! as [number, number];
        const [bx, by] = ring[i + 1]! as [number, number];
        if ((ay <= cy && by > cy) || (by <= cy && ay > cy)) xs.push(ax + ((cy - ay) / (by - ay)) * (bx - ax));
      }
    }
    xs.sort((p, q) => p - q);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const from = Math.max(0, Math.ceil(xs[k]! - ox - 0.5));
      const to = Math.min(width - 1, Math.floor(xs[k + 1]! - ox - 0.5));
      for (let col = from; col <= to; col++) {
        sum += values[row * width + col]!;
        count++;
      }
    }
  }
  return count > 0 ? sum / count : null;
}

/** Adds provenance and `mean_prob` to every feature (reads the probability raster per feature bounding box). */
export async function annotateFeatures(features: FeatureSet, probabilityPath: string, provenance: Provenance): Promise<FeatureSet> {
  const ds = await gdal.openAsync(probabilityPath);
  try {
    const gt = ds.geoTransform as GeoTransform;
    const { x: W, y: H } = ds.rasterSize;
    const band = ds.bands.get(1);
    const out = [];
    for (const f of features.features) {
      const rings = pixelRings(f.geometry, gt);
      // A loop, not Math.min(...xs): a speckled answer can merge into one polygon with millions of vertices,
      // more arguments than the call stack holds.
      let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
      for (const ring of rings) {
        for (const p of ring) {
          if (p[0] < minX) minX = p[0];
          if (p[0] > maxX) maxX = p[0];
          if (p[1] < minY) minY = p[1];
          if (p[1] > maxY) maxY = p[1];
        }
      }
      const x0 = Math.max(0, Math.floor(minX));
      const y0 = Math.max(0, Math.floor(minY));
      const x1 = Math.min(W, Math.ceil(maxX));
      const y1 = Math.min(H, Math.ceil(maxY));
      let mean: number | null = null;
      if (x1 > x0 && y1 > y0) {
        const values = (await band.pixels.readAsync(x0, y0, x1 - x0, y1 - y0, new Float32Array((x1 - x0) * (y1 - y0)))) as Float32Array;
        mean = meanInsideRings(rings, values, x0, y0, x1 - x0, y1 - y0);
      }
      out.push({
        ...f,
        properties: {
          ...f.properties,
          question: provenance.question,
          model_id: provenance.modelId,
          bundle_sha: provenance.bundleSha256,
          source: provenance.source,
          threshold: provenance.threshold,
          mean_prob: mean === null ? null : Math.round(mean * 1e4) / 1e4,
          created_at: provenance.createdAt,
        },
      });
    }
    return { ...features, features: out };
  } finally {
    ds.close();
  }
}
