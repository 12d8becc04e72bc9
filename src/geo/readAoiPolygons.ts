/**
 * @module geo/readAoiPolygons
 * Reads an area of interest from a vector file (any OGR format: GeoPackage, GeoJSON, Shapefile…): the polygons
 * of its first layer, dissolved into one area (GEOS union, so overlapping features count once), reprojected to
 * the raster's CRS, returned as polygons with holes for `geo/polygonMask` (a `SceneAoi`'s polygons).
 */
import { stat } from 'node:fs/promises';
import gdal from 'gdal-async';
import type { Geometry } from 'gdal-async';
import { SegEarthError } from '../shared/errors.js';
import type { PolygonRings } from './polygonMask.js';
import { configureGdalEnvironment } from './env.js';
import { createGisOrderTransform, srsFromUserInput } from './gisOrderTransform.js';

function bad(message: string, hint: string): SegEarthError {
  return new SegEarthError('BAD_ARGUMENT', message, { hint });
}

/** The polygons (exterior ring, then holes) of a Polygon / MultiPolygon GeoJSON geometry. */
function polygonsOf(geojson: { type: string; coordinates: unknown }): PolygonRings[] {
  if (geojson.type === 'Polygon') return [geojson.coordinates as PolygonRings];
  if (geojson.type === 'MultiPolygon') return geojson.coordinates as PolygonRings[];
  return [];
}

/**
 * The AOI polygons in `path` (first layer, dissolved), in `targetCrsWkt` (null: no reprojection, e.g. a raster
 * in pixel coordinates). Throws BAD_ARGUMENT for a file without polygons, NOT_FOUND for a missing file.
 */
export async function readAoiPolygons(path: string, targetCrsWkt: string | null): Promise<PolygonRings[]> {
  configureGdalEnvironment();
  if (!(await stat(path).catch(() => null))) {
    throw new SegEarthError('NOT_FOUND', `The area-of-interest file ${path} does not exist.`, {
      hint: 'Give minX,minY,maxX,maxY in the raster\'s CRS, or a polygon file (GeoPackage, GeoJSON, Shapefile…).',
    });
  }
  let ds;
  try {
    ds = await gdal.openAsync(path);
  } catch (cause) {
    throw new SegEarthError('BAD_ARGUMENT', `The area of interest ${path} is not a vector file GDAL can read.`, {
      hint: 'Give a polygon file (GeoPackage, GeoJSON, Shapefile…) or minX,minY,maxX,maxY.',
      cause,
    });
  }
  try {
    if (ds.layers.count() === 0) throw bad(`The area-of-interest file ${path} has no vector layer.`, 'Give a file with a polygon layer.');
    const layer = ds.layers.get(0);
    const union = new gdal.MultiPolygon();
    for (const feature of layer.features) {
      const g = feature.getGeometry();
      if (!g) continue;
      const flat = g.wkbType & 0xff;
      if (flat === gdal.wkbPolygon) union.children.add(g.clone() as never);
      else if (flat === gdal.wkbMultiPolygon) for (const part of (g as gdal.MultiPolygon).children) union.children.add(part.clone() as never);
    }
    if (union.children.count() === 0) {
      throw bad(`The area-of-interest file ${path} holds no polygon.`, 'Draw or select polygons for the area of interest (points and lines have no area).');
    }
    let area: Geometry = union.unionCascaded();
    const layerWkt = layer.srs?.toWKT() ?? null;
    if (targetCrsWkt && layerWkt) {
      area = area.clone();
      createGisOrderTransform(srsFromUserInput(layerWkt), srsFromUserInput(targetCrsWkt)).transformGeometry(area);
    }
    const polygons = polygonsOf(JSON.parse(area.toJSON()) as { type: string; coordinates: unknown });
    if (polygons.length === 0) throw bad(`The polygons in ${path} have no area.`, 'Give polygons with an area.');
    return polygons;
  } finally {
    ds.close();
  }
}
