/**
 * @module geo/tileGrid
 * `getTileGrid(info)` → the {@link TileGridSpec} of a raster in its own CRS (see shared/tileGrid for the
 * conventions), and the map extent of one tile.
 *
 * The finest level is the raster's native resolution (the smaller of its x and y pixel sizes for north-up
 * rasters; the square root of the pixel area for rotated ones); each coarser level doubles it, down to the level
 * where the whole raster fits in one 256 px tile.
 */
import type { GeoTransform, RasterInfo } from '../shared/rasterInfo.js';
import type { TileGridSpec } from '../shared/tileGrid.js';
import { gridExtent } from './geoTransform.js';

export type { TileGridSpec } from '../shared/tileGrid.js';

export const TILE_SIZE = 256;

/** Geotransform used for display: GDAL's, or (column, −row) for non-georeferenced rasters. */
export function displayGeoTransform(info: RasterInfo): GeoTransform {
  return info.georeferenced ? info.geoTransform : [0, 1, 0, 0, 0, -1];
}

function isNorthUp(gt: GeoTransform): boolean {
  return gt[2] === 0 && gt[4] === 0 && gt[1] > 0 && gt[5] < 0;
}

export function getTileGrid(info: RasterInfo): TileGridSpec {
  const gt = displayGeoTransform(info);
  const northUp = isNorthUp(gt);
  const extent = gridExtent(gt, info.width, info.height);
  const native = northUp ? Math.min(gt[1], -gt[5]) : Math.sqrt(Math.abs(gt[1] * gt[5] - gt[2] * gt[4]));
  const side = Math.max(extent[2] - extent[0], extent[3] - extent[1]) / native;
  const levels = Math.max(1, Math.ceil(Math.log2(side / TILE_SIZE)) + 1);
  const resolutions = Array.from({ length: levels }, (_, z) => native * 2 ** (levels - 1 - z));
  return {
    extent,
    origin: [extent[0], extent[3]],
    resolutions,
    tileSize: TILE_SIZE,
    minZoom: 0,
    maxZoom: levels - 1,
    mode: !info.georeferenced ? 'pixel' : northUp ? 'geotransform' : 'warped',
    displayGeoTransform: gt,
  };
}

/** Map extent [minX, minY, maxX, maxY] of tile (z, x, y) — y counted down from the origin. */
export function tileExtent(grid: TileGridSpec, z: number, x: number, y: number): [number, number, number, number] {
  const span = grid.tileSize * grid.resolutions[z];
  const minX = grid.origin[0] + x * span;
  const maxY = grid.origin[1] - y * span;
  return [minX, maxY - span, minX + span, maxY];
}

/** Number of tiles [columns, rows] at level z. */
export function tileRange(grid: TileGridSpec, z: number): [number, number] {
  const span = grid.tileSize * grid.resolutions[z];
  return [Math.ceil((grid.extent[2] - grid.extent[0]) / span - 1e-9), Math.ceil((grid.extent[3] - grid.extent[1]) / span - 1e-9)];
}
