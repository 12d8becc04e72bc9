/**
 * @module shared/tileGrid
 * Tile pyramid of a raster in the raster's OWN CRS, as OpenLayers `ol/tilegrid/TileGrid` options plus what the
 * backend needs to serve it. Level 0 is the coarsest (the whole raster fits one tile); resolutions are map units
 * per pixel, descending by factors of 2, the last one the raster's native resolution; tile `x` counts right and
 * `y` counts DOWN from `origin` (the top-left corner), as in OpenLayers ≥ 6 tile coordinates.
 *
 * `mode`:
 * - `geotransform`: north-up raster; map coordinates are the raster's CRS coordinates.
 * - `pixel`: not georeferenced; map coordinates are (column, −row) so the image shows upright with y up,
 *   i.e. the display geotransform is [0, 1, 0, 0, 0, −1] (GDAL's own is [0, 1, 0, 0, 0, 1]). Vectors in GDAL
 *   pixel coordinates (x = column, y = row) must be drawn with y negated.
 * - `warped`: rotated/sheared or south-up geotransform; tiles are warped by GDAL onto a north-up grid in the
 *   same CRS covering the rotated footprint (outside the footprint is transparent).
 */
import { z } from 'zod';
import { ExtentSchema, GeoTransformSchema } from './rasterInfo.js';

export const TileGridSpecSchema = z.object({
  extent: ExtentSchema,
  origin: z.tuple([z.number(), z.number()]),
  resolutions: z.array(z.number().positive()).min(1),
  tileSize: z.number().int().positive(),
  minZoom: z.number().int().nonnegative(),
  maxZoom: z.number().int().nonnegative(),
  mode: z.enum(['geotransform', 'pixel', 'warped']),
  /** Geotransform from raster pixels to the map coordinates of this grid (differs from the raster's in `pixel` mode). */
  displayGeoTransform: GeoTransformSchema,
});
export type TileGridSpec = z.infer<typeof TileGridSpecSchema>;
