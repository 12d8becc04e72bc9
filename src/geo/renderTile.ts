/**
 * @module geo/renderTile
 * `renderTile(path, z, x, y)` → PNG bytes (RGBA, 256×256) of one tile of {@link getTileGrid}'s pyramid, with the
 * raster's per-raster stretch (geo/radiometry) so tiles match each other and model input. Nodata, masked and
 * outside pixels are transparent. North-up rasters are read with readRegion on the tile's map extent (GDAL picks
 * the overview level); rotated ones are warped onto the tile (GDAL warper, overviews AUTO). PNG encoding uses
 * GDAL's PNG driver (`geo/pngEncode`).
 */
import { SegEarthError } from '../shared/errors.js';
import type { TileGridSpec } from '../shared/tileGrid.js';
import { acquireRaster } from './datasetCache.js';
import { resolveBandMapping } from './bandMapping.js';
import { stretchFor } from './radiometry.js';
import { composeRgb, readRegion } from './readRegion.js';
import { mapExtentToPixelWindow } from './geoTransform.js';
import { encodePng } from './pngEncode.js';
import { getTileGrid, tileExtent } from './tileGrid.js';
import { readWarpedWindow, type Resampling } from './windowRead.js';

export interface RenderTileOptions {
  /** 1-based band mapping override (1 or 3 bands). */
  bands?: number[];
  /** Default bilinear. */
  resampling?: Resampling;
  signal?: AbortSignal;
}

/** Encode width × height RGB + validity as an RGBA PNG (alpha 0 where invalid). */
function encodeRgbaPng(width: number, height: number, rgb: Uint8Array, valid: Uint8Array): Promise<Uint8Array> {
  const alpha = new Uint8Array(valid.length);
  for (let i = 0; i < valid.length; i++) alpha[i] = valid[i] ? 255 : 0;
  return encodePng(width, height, rgb, alpha);
}

let emptyTile: Promise<Uint8Array> | undefined;
/** A fully transparent tile (cached). */
function transparentTile(size: number): Promise<Uint8Array> {
  if (size !== 256) return encodeRgbaPng(size, size, new Uint8Array(size * size * 3), new Uint8Array(size * size));
  emptyTile ??= encodeRgbaPng(256, 256, new Uint8Array(256 * 256 * 3), new Uint8Array(256 * 256));
  return emptyTile;
}

function intersects(a: readonly number[], b: readonly number[]): boolean {
  return a[0] < b[2] && a[2] > b[0] && a[1] < b[3] && a[3] > b[1];
}

/** Render tile (z, x, y) of `path` (tile y counted down from the grid origin) as PNG bytes. */
export async function renderTile(path: string, z: number, x: number, y: number, opts: RenderTileOptions = {}): Promise<Uint8Array> {
  const handle = await acquireRaster(path);
  const grid: TileGridSpec = getTileGrid(handle.info);
  if (!Number.isInteger(z) || z < grid.minZoom || z > grid.maxZoom || !Number.isInteger(x) || !Number.isInteger(y)) {
    throw new SegEarthError('BAD_ARGUMENT', `Tile ${z}/${x}/${y} is not in the tile grid of ${path} (zoom ${grid.minZoom}–${grid.maxZoom}).`, {
      hint: 'Request tiles from the grid returned by getTileGrid for this raster.',
      path,
    });
  }
  const size = grid.tileSize;
  const extent = tileExtent(grid, z, x, y);
  if (!intersects(extent, grid.extent)) return transparentTile(size);
  const resampling = opts.resampling ?? 'bilinear';
  const common = { ...(opts.bands ? { bands: opts.bands } : {}), ...(opts.signal ? { signal: opts.signal } : {}) };

  if (grid.mode === 'warped') {
    const resolved = resolveBandMapping(handle.info, opts.bands);
    // Palette expansion is a translate feature; a rotated palette raster is shown as its grey indices.
    const mapping = resolved.palette ? { rgb: [1, 1, 1] as [number, number, number], palette: false } : resolved;
    const stretch = await stretchFor(handle, mapping);
    const win = mapExtentToPixelWindow(handle.info.geoTransform, extent);
    const raw = await readWarpedWindow(handle, extent, win, size, size, {
      resampling,
      bands: [...new Set(mapping.rgb)],
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    return encodeRgbaPng(size, size, composeRgb(raw, mapping, stretch), raw.valid);
  }
  // geotransform / pixel mode: the tile is an axis-aligned window of the raster.
  const win = mapExtentToPixelWindow(grid.displayGeoTransform, extent);
  const region = await readRegion(path, { window: { kind: 'pixel', window: win }, outWidth: size, outHeight: size, resampling, ...common });
  return encodeRgbaPng(size, size, region.rgb, region.valid);
}
