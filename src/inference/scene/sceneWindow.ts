/**
 * @module inference/scene/sceneWindow
 * The area of interest of a question → the pixel window of the scene the model runs on. A polygon AOI runs on
 * its bounding box; the polygon itself is applied once, by the probability writer (`geo/polygonMask`).
 */
import { SegEarthError } from '../../shared/errors.js';
import type { Extent, RasterInfo } from '../../shared/rasterInfo.js';
import { mapExtentToPixelWindow } from '../../geo/geoTransform.js';
import { boundingBox } from '../../geo/boundingBox.js';
import type { PolygonRings } from '../../geo/polygonMask.js';
import type { PixelRect } from './tiling.js';

/**
 * Area of interest in the raster's CRS: an extent `[minX, minY, maxX, maxY]`, or polygons (each its exterior
 * ring, then its holes): the app's drawn polygon, or the polygons of `segearth ask --aoi <file>`.
 */
export type SceneAoi = Extent | { polygons: readonly PolygonRings[] };

/** The polygons of an AOI, or null for an extent. */
export function aoiPolygons(aoi: SceneAoi | undefined): readonly PolygonRings[] | null {
  return aoi && !Array.isArray(aoi) ? (aoi as { polygons: readonly PolygonRings[] }).polygons : null;
}

/** The extent of an AOI (the polygons' bounding box; holes lie inside their exterior ring). */
export function aoiExtent(aoi: SceneAoi): Extent {
  const polygons = aoiPolygons(aoi);
  return polygons ? boundingBox(polygons.flatMap((rings) => rings[0] ?? [])) : (aoi as Extent);
}

/** Pixel rectangle of an extent in the raster (bounding box of its four corners), clipped to the raster. */
export function extentToWindow(info: RasterInfo, extent: Extent): PixelRect {
  const [, a, b, , d, e] = info.geoTransform;
  if (a * e - b * d === 0) throw new SegEarthError('BAD_ARGUMENT', 'The raster geotransform cannot be inverted.');
  const [minX, minY, maxX, maxY] = extent;
  if (!(maxX > minX && maxY > minY)) {
    throw new SegEarthError('BAD_ARGUMENT', `The area of interest ${extent.join(',')} is empty.`, {
      hint: 'Give minX,minY,maxX,maxY with max > min, in the raster\'s CRS.',
    });
  }
  const px = mapExtentToPixelWindow(info.geoTransform, extent);
  const left = Math.max(0, Math.floor(px.x + 1e-9));
  const top = Math.max(0, Math.floor(px.y + 1e-9));
  const right = Math.min(info.width, Math.ceil(px.x + px.width - 1e-9));
  const bottom = Math.min(info.height, Math.ceil(px.y + px.height - 1e-9));
  if (right <= left || bottom <= top) {
    throw new SegEarthError('BAD_ARGUMENT', `The area of interest ${extent.join(',')} does not overlap the raster.`, {
      hint: `The raster covers ${info.bounds.join(',')} in its own CRS.`,
    });
  }
  return { x: left, y: top, width: right - left, height: bottom - top };
}
