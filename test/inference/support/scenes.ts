/**
 * @module test/inference/support/scenes
 * Synthetic scenes for the runtime's tests: a 3-band Byte GeoTIFF in UTM 18N with 2 m pixels and smooth
 * structure (sinusoids plus a little texture), so a model — even one with random weights — sees something.
 */
import gdal from 'gdal-async';
import type { GeoTransform } from '../../../src/shared/rasterInfo.js';

/** Geotransform of every scene `writeScene` makes. */
export const SCENE_GEOTRANSFORM: GeoTransform = [500000, 2, 0, 4000000, 0, -2];

/** A 3-band Byte GeoTIFF in UTM 18N, 2 m pixels, with smooth structure. */
export function writeScene(path: string, width: number, height: number): void {
  const ds = gdal.open(path, 'w', 'GTiff', width, height, 3, gdal.GDT_Byte);
  ds.geoTransform = [...SCENE_GEOTRANSFORM];
  ds.srs = gdal.SpatialReference.fromEPSG(32618);
  for (let b = 1; b <= 3; b++) {
    const data = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const v = 128 + 100 * Math.sin((x + 40 * b) / (23 + 7 * b)) * Math.cos((y - 17 * b) / 31) + ((x * 7 + y * 13 + b) % 11) - 5;
        data[y * width + x] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
    ds.bands.get(b).pixels.write(0, 0, width, height, data);
  }
  ds.close();
}
