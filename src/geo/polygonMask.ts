/**
 * @module geo/polygonMask
 * Which pixels of a grid lie inside a polygon area of interest, burnt by GDAL's rasterizer (`gdal_rasterize`
 * rule: a pixel is inside when its centre is). The probability writer applies it block by block, so a question
 * about a drawn polygon answers inside the polygon only — the model runs on the polygon's bounding box, the
 * polygon itself is applied once, here, to the probability raster that everything else (polygons, heatmap,
 * mean probabilities, mask export) is derived from.
 */
import gdal from 'gdal-async';
import type { GeoTransform } from '../shared/rasterInfo.js';
import { configureGdalEnvironment } from './env.js';

/** Outline of a polygon (closed or not), in the grid's CRS. */
export type Ring = ReadonlyArray<readonly [number, number]>;

function closed(ring: Ring): Array<readonly [number, number]> {
  const first = ring[0];
  const last = ring.at(-1);
  return first && last && (first[0] !== last[0] || first[1] !== last[1]) ? [...ring, first] : [...ring];
}

/**
 * 1 for every pixel of the `width × height` grid `geoTransform` whose centre is inside `ring`, else 0
 * (row-major).
 */
export async function insidePolygon(ring: Ring, geoTransform: GeoTransform, width: number, height: number): Promise<Uint8Array> {
  configureGdalEnvironment();
  const vector = gdal.open('polygon', 'w', 'Memory');
  const raster = await gdal.drivers.get('MEM').createAsync('', width, height, 1, gdal.GDT_Byte);
  try {
    const layer = vector.layers.create('aoi', null, gdal.wkbPolygon);
    const polygon = new gdal.Polygon();
    const outline = new gdal.LinearRing();
    for (const [x, y] of closed(ring)) outline.points.add(x, y);
    polygon.rings.add(outline);
    const feature = new gdal.Feature(layer);
    feature.setGeometry(polygon);
    layer.features.add(feature);
    raster.geoTransform = [...geoTransform];
    await gdal.rasterizeAsync(raster, vector, ['-burn', '1']);
    const out = new Uint8Array(width * height);
    await raster.bands.get(1).pixels.readAsync(0, 0, width, height, out);
    return out;
  } finally {
    raster.close();
    vector.close();
  }
}
