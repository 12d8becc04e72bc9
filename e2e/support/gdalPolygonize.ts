/**
 * @module e2e/support/gdalPolygonize
 * The independent reference for an answer's polygons: GDAL's own command-line tools on the probability
 * raster the app cached — `gdal_calc.py` thresholds it (`A >= t`, 0 = no data), `gdal_polygonize.py -8`
 * (8-connected, as the app) turns the mask into polygons — read back as GeoJSON. Nothing of SegEarth's
 * vectoriser is used.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Extent = [number, number, number, number];

export interface ReferencePolygons {
  /** Bounding box of each polygon, sorted by minX then minY. */
  extents: Extent[];
  /** Planar area of all polygons (CRS units², holes subtracted). */
  area: number;
}

function ringArea(ring: number[][]): number {
  let s = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) s += (ring[j]![0]! + ring[i]![0]!) * (ring[j]![1]! - ring[i]![1]!);
  return Math.abs(s) / 2;
}

export function gdalPolygonize(probabilityPath: string, threshold: number): ReferencePolygons {
  const dir = mkdtempSync(join(tmpdir(), 'segearth-polygonize-'));
  try {
    const mask = join(dir, 'mask.tif');
    const out = join(dir, 'polygons.geojson');
    execFileSync('gdal_calc.py', ['--quiet', '-A', probabilityPath, '--calc', `A>=${threshold}`, '--type', 'Byte', '--NoDataValue', '0', '--outfile', mask]);
    execFileSync('gdal_polygonize.py', ['-q', '-8', mask, '-f', 'GeoJSON', out]);
    const json = JSON.parse(readFileSync(out, 'utf8')) as { features: Array<{ geometry: { coordinates: number[][][] } }> };
    let area = 0;
    const extents = json.features.map((f) => {
      const [outer, ...holes] = f.geometry.coordinates;
      area += ringArea(outer!) - holes.reduce((n, h) => n + ringArea(h), 0);
      const xs = outer!.map((p) => p[0]!);
      const ys = outer!.map((p) => p[1]!);
      return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)] as Extent;
    });
    extents.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    return { extents, area };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
