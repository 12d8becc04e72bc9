/**
 * @module test/support/syntheticMask
 * Synthetic masks with known shapes, on known grids, written with GDAL when a test needs a file.
 * Shapes are pixel predicates, so a test can count the pixels (hence the exact area) independently of GDAL.
 */
import gdal from 'gdal-async';
import type { GeoTransform } from '../../src/shared/rasterInfo.js';

export type PixelShape = (col: number, row: number) => boolean;

/** Axis-aligned block of w×h pixels whose top-left pixel is (col0, row0). */
export function rectangle(col0: number, row0: number, w: number, h: number): PixelShape {
  return (c, r) => c >= col0 && c < col0 + w && r >= row0 && r < row0 + h;
}

/** Square ring: an outer×outer block with a centred inner×inner hole. */
export function squareRing(col0: number, row0: number, outer: number, inner: number): PixelShape {
  const margin = (outer - inner) / 2;
  const shell = rectangle(col0, row0, outer, outer);
  const hole = rectangle(col0 + margin, row0 + margin, inner, inner);
  return (c, r) => shell(c, r) && !hole(c, r);
}

/** Staircase of single pixels (col0+i, row0+i): connected only through corners (8-connectivity). */
export function diagonalStrip(col0: number, row0: number, length: number): PixelShape {
  return (c, r) => c - col0 === r - row0 && c >= col0 && c < col0 + length;
}

/** Filled disk of the given radius (pixel centres within radius of the centre). */
export function disk(centreCol: number, centreRow: number, radius: number): PixelShape {
  return (c, r) => (c + 0.5 - centreCol) ** 2 + (r + 0.5 - centreRow) ** 2 <= radius * radius;
}

export function rasterize(width: number, height: number, shapes: PixelShape[], value = 255): Uint8Array {
  const data = new Uint8Array(width * height);
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) if (shapes.some((s) => s(c, r))) data[r * width + c] = value;
  }
  return data;
}

export function countPixels(width: number, height: number, shape: PixelShape): number {
  let n = 0;
  for (let r = 0; r < height; r++) for (let c = 0; c < width; c++) if (shape(c, r)) n++;
  return n;
}

/** Map coordinates of pixel corner (col, row) — GDAL's affine geotransform. */
export function pixelCorner(gt: GeoTransform, col: number, row: number): [number, number] {
  return [gt[0] + col * gt[1] + row * gt[2], gt[3] + col * gt[4] + row * gt[5]];
}

export function wktOf(code: string): string {
  return gdal.SpatialReference.fromUserInput(code).toWKT();
}

/** Grids used across tests: 10 m UTM, 1e-4° WGS 84, 10 m Web Mercator at ~60°N, 10 m UTM rotated by 30°. */
export const GRIDS = {
  utm: { crs: 'EPSG:32618', geoTransform: [500000, 10, 0, 4_400_000, 0, -10] as GeoTransform },
  wgs84: { crs: 'EPSG:4326', geoTransform: [-75, 1e-4, 0, 40, 0, -1e-4] as GeoTransform },
  mercator: { crs: 'EPSG:3857', geoTransform: [1_000_000, 10, 0, 8_400_000, 0, -10] as GeoTransform },
  rotated: {
    crs: 'EPSG:32618',
    geoTransform: [
      500000,
      10 * Math.cos(Math.PI / 6),
      10 * Math.sin(Math.PI / 6),
      4_400_000,
      10 * Math.sin(Math.PI / 6),
      -10 * Math.cos(Math.PI / 6),
    ] as GeoTransform,
  },
} as const;

/** An in-memory mask input (`MaskInput` of kind 'array') of `shapes` on one of `GRIDS`. */
export function maskArrayInput(width: number, height: number, shapes: PixelShape[], grid: { crs: string; geoTransform: GeoTransform }) {
  return {
    kind: 'array' as const,
    data: rasterize(width, height, shapes),
    width,
    height,
    geoTransform: grid.geoTransform,
    crsWkt: wktOf(grid.crs),
  };
}

export interface MaskFileSpec {
  data: ArrayLike<number>;
  width: number;
  height: number;
  geoTransform: GeoTransform | null;
  crs: string | null;
  dataType?: 'Byte' | 'UInt16' | 'Float32';
  noData?: number;
}

/** Writes a single-band GeoTIFF with GDAL. */
export function writeMaskFile(path: string, spec: MaskFileSpec): void {
  const type = spec.dataType ?? 'Byte';
  const ds = gdal.drivers.get('GTiff').create(path, spec.width, spec.height, 1, type, ['COMPRESS=DEFLATE']);
  if (spec.geoTransform) ds.geoTransform = spec.geoTransform;
  if (spec.crs) ds.srs = gdal.SpatialReference.fromUserInput(spec.crs);
  const band = ds.bands.get(1);
  if (spec.noData !== undefined) band.noDataValue = spec.noData;
  const values = type === 'Float32' ? Float32Array.from(spec.data) : type === 'UInt16' ? Uint16Array.from(spec.data) : Uint8Array.from(spec.data);
  band.pixels.write(0, 0, spec.width, spec.height, values);
  ds.close();
}
