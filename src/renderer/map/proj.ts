/**
 * @module renderer/map/proj
 * OpenLayers projections for rasters: the raster's own CRS, defined from the PROJ string the backend read
 * with GDAL (registered with proj4 so OpenLayers can reproject on the fly), or a pixel "projection" for a
 * raster without georeferencing.
 */
import proj4 from 'proj4';
import { register } from 'ol/proj/proj4';
import Projection from 'ol/proj/Projection';
import { get as getProjection } from 'ol/proj';
import type { RasterInfo } from '../../shared/rasterInfo';
import type { TileGridSpec } from '../../shared/api/dto';

function hash(text: string): string {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return (h >>> 0).toString(36);
}

/** A short code for the raster's CRS: its EPSG code, or a stable name derived from its PROJ string. */
export function projectionCode(info: RasterInfo, layerId: string): string {
  if (!info.crs) return `SEGEARTH:PIXEL:${layerId}`;
  return info.crs.code ?? `SEGEARTH:${hash(info.crs.proj4)}`;
}

/** Returns the OpenLayers projection of a raster, defining and registering it when needed. */
export function projectionFor(info: RasterInfo, layerId: string, grid: TileGridSpec): Projection {
  const code = projectionCode(info, layerId);
  const known = getProjection(code);
  if (known) return known;
  if (!info.crs) {
    const pixel = new Projection({ code, units: 'pixels', extent: grid.extent });
    return pixel;
  }
  proj4.defs(code, info.crs.proj4);
  register(proj4);
  const projection = getProjection(code);
  if (!projection) throw new Error(`OpenLayers could not define the projection ${code}`);
  if (!projection.getExtent() && info.crs.isGeographic) projection.setExtent([-180, -90, 180, 90]);
  return projection;
}

/** Label of a CRS for the status bar. */
export function crsLabel(info: RasterInfo): string {
  if (!info.crs) return 'pixel coordinates (no georeferencing)';
  return info.crs.code ? `${info.crs.name} (${info.crs.code})` : info.crs.name;
}
