/**
 * @module geo/polygonMask
 * Which pixels of a grid lie inside a polygon area of interest, burnt by GDAL's rasterizer (`gdal_rasterize`
 * rule: a pixel is inside when its centre is). The area is one or more polygons, each with holes (a drawn
 * polygon, or the polygons of `segearth ask --aoi <file>`, `geo/readAoiPolygons`). The probability writer
 * applies it block by block, so a question about a polygon area answers inside it only — the model runs on
 * the area's bounding box, the polygons themselves are applied once, here, to the probability raster that
 * everything else (polygons, heatmap, mean probabilities, mask export) is derived from.
 */
import gdal from 'gdal-async';
import type { GeoTransform } from '../shared/rasterInfo.js';
import { configureGdalEnvironment } from './env.js';

/** Outline of a polygon or of a hole (closed or not), in the grid's CRS. */
export type Ring = ReadonlyArray<readonly [number, number]>;

/** A polygon: its exterior ring, then its holes. */
export type PolygonRings = readonly Ring[];

function closed(ring: Ring): Array<readonly [number, number]> {
  const first = ring[0];
  const last = ring.at(-1);
  return first && last && (first[0] !== last[0] || first[1] !== last[1]) ? [...ring, first] : [...ring];
}

/**
 * 1 for every pixel of the `width × height` grid `geoTransform` whose centre is inside one of `polygons` (and
 * not in one of its holes), else 0 (row-major).
 */
export async function insidePolygons(
  polygons: readonly PolygonRings[],
  geoTransform: GeoTransform,
  width: number,
  height: number,
): Promise<Uint8Array> {
  configureGdalEnvironment();
  const vector = gdal.open('polygon', 'w', 'Memory');
  const raster = await gdal.drivers.get('MEM').createAsync('', width, height, 1, gdal.GDT_Byte);
  try {
    const layer = vector.layers.create('aoi', null, gdal.wkbMultiPolygon);
    const area = new gdal.MultiPolygon();
    for (const rings of polygons) {
      const polygon = new gdal.Polygon();
      for (const ring of rings) {
        const outline = new gdal.LinearRing();
        for (const [x, y] of closed(ring)) outline.points.add(x, y);
        polygon.rings.add(outline);
      }
      area.children.add(polygon);
    }
    const feature = new gdal.Feature(layer);
    feature.setGeometry(area);
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
