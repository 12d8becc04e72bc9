/**
 * @module geo/geoTransform
 * The arithmetic of GDAL geotransforms, in one place: pixel/line ↔ map coordinates, the geotransform of a
 * (resampled) window, the pixel window and the map extent a grid covers.
 */
import type { Extent, GeoTransform } from '../shared/rasterInfo.js';
import { boundingBox } from './boundingBox.js';
import type { PixelWindow } from './windowRead.js';

/** Apply a GDAL geotransform to pixel/line coordinates (fractional allowed). */
export function applyGeoTransform(gt: GeoTransform, px: number, py: number): [number, number] {
  return [gt[0] + px * gt[1] + py * gt[2], gt[3] + px * gt[4] + py * gt[5]];
}

/** Inverse of {@link applyGeoTransform}: map coordinates → fractional pixel/line. Throws on a degenerate transform. */
export function invertGeoTransform(gt: GeoTransform, x: number, y: number): [number, number] {
  const det = gt[1] * gt[5] - gt[2] * gt[4];
  if (det === 0) throw new Error('degenerate geotransform');
  const dx = x - gt[0];
  const dy = y - gt[3];
  return [(dx * gt[5] - dy * gt[2]) / det, (dy * gt[1] - dx * gt[4]) / det];
}

/** Source window (full-resolution pixels) of a map extent: bounding box of its corners in pixel space. */
export function mapExtentToPixelWindow(gt: GeoTransform, extent: Extent): PixelWindow {
  const [minX, minY, maxX, maxY] = extent;
  const [x, y, x1, y1] = boundingBox([
    invertGeoTransform(gt, minX, minY),
    invertGeoTransform(gt, minX, maxY),
    invertGeoTransform(gt, maxX, minY),
    invertGeoTransform(gt, maxX, maxY),
  ]);
  return { x, y, width: x1 - x, height: y1 - y };
}

/** Geotransform of an outW × outH grid covering `win` of a raster with geotransform `gt`. */
export function windowGeoTransform(gt: GeoTransform, win: PixelWindow, outW: number, outH: number): GeoTransform {
  const sx = win.width / outW;
  const sy = win.height / outH;
  return [
    gt[0] + win.x * gt[1] + win.y * gt[2],
    gt[1] * sx,
    gt[2] * sy,
    gt[3] + win.x * gt[4] + win.y * gt[5],
    gt[4] * sx,
    gt[5] * sy,
  ];
}

/** Bounding box of a width × height grid in the coordinates of its geotransform. */
export function gridExtent(gt: GeoTransform, width: number, height: number): Extent {
  return boundingBox([applyGeoTransform(gt, 0, 0), applyGeoTransform(gt, width, 0), applyGeoTransform(gt, 0, height), applyGeoTransform(gt, width, height)]);
}
