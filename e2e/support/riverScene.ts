/**
 * A synthetic UTM 31N RGB scene for the browser e2e tests: a sinuous blue river, a yellow field in the lower
 * right, textured green elsewhere. Georeferenced, Byte, 3 bands; every parameter of the picture is explicit so
 * each test keeps its own geometry.
 */
import gdal from 'gdal-async';

export interface RiverSceneOptions {
  size: number;
  /** Upper-left x of the geotransform (2 m pixels, y origin 4 200 000, EPSG:32631). */
  originX: number;
  /** River centre line: y = centreY + amplitude · sin((x + phase) / period), half width in pixels. */
  centreY: number;
  amplitude: number;
  period: number;
  phase: number;
  halfWidth: number;
  /** The field covers x > fieldX and y > fieldY. */
  fieldX: number;
  fieldY: number;
}

export function makeRiverScene(path: string, o: RiverSceneOptions): void {
  const ds = gdal.open(path, 'w', 'GTiff', o.size, o.size, 3, gdal.GDT_Byte);
  ds.srs = gdal.SpatialReference.fromEPSG(32631);
  ds.geoTransform = [o.originX, 2, 0, 4200000, 0, -2];
  for (let b = 1; b <= 3; b++) {
    const data = new Uint8Array(o.size * o.size);
    for (let y = 0; y < o.size; y++) {
      for (let x = 0; x < o.size; x++) {
        const river = Math.abs(y - (o.centreY + o.amplitude * Math.sin((x + o.phase) / o.period))) < o.halfWidth;
        const field = x > o.fieldX && y > o.fieldY;
        data[y * o.size + x] = river ? [40, 80, 160][b - 1]! : field ? [200, 180, 90][b - 1]! : [70, 120, 60][b - 1]! + ((x * 7 + y * 13) % 23);
      }
    }
    ds.bands.get(b).pixels.write(0, 0, o.size, o.size, data);
  }
  ds.close();
}
