/**
 * @module test/support/geodesic
 * Independent ground measurements for tests: Karney's geodesic polygon area and perimeter on the WGS 84
 * ellipsoid, computed by pyproj (PROJ's geod) in a Python child process. Edges are densified in the source
 * CRS first, so a polygon whose edges are straight in the raster grid is measured as such.
 * `geodesicAvailable()` is false when /usr/bin/python3 or pyproj is missing; tests then skip with a reason.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const PYTHON = '/usr/bin/python3';

const SCRIPT = `
import json, sys
from pyproj import Geod, Transformer
req = json.load(sys.stdin)
geod = Geod(ellps="WGS84")
to_ll = Transformer.from_crs(req["crs"], "EPSG:4326", always_xy=True)
pieces = req["pieces"]
out = []
for poly in req["polygons"]:
    area = 0.0
    perim = 0.0
    for k, ring in enumerate(poly):
        xs, ys = [], []
        for (x0, y0), (x1, y1) in zip(ring[:-1], ring[1:]):
            for i in range(pieces):
                t = i / pieces
                xs.append(x0 + (x1 - x0) * t)
                ys.append(y0 + (y1 - y0) * t)
        lons, lats = to_ll.transform(xs, ys)
        a, p = geod.polygon_area_perimeter(lons, lats)
        area += abs(a) if k == 0 else -abs(a)
        perim += p
    out.append({"area": area, "perimeter": perim})
print(json.dumps(out))
`;

export function geodesicAvailable(): boolean {
  if (!existsSync(PYTHON)) return false;
  return spawnSync(PYTHON, ['-c', 'import pyproj'], { encoding: 'utf8' }).status === 0;
}

/** Area (m², holes subtracted) and perimeter (m, all rings) of polygons given as GeoJSON rings in `crs`. */
export function geodesicMeasure(
  crs: string,
  polygons: number[][][][],
  pieces = 50,
): Array<{ area: number; perimeter: number }> {
  const result = spawnSync(PYTHON, ['-c', SCRIPT], {
    input: JSON.stringify({ crs, polygons, pieces }),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`pyproj failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as Array<{ area: number; perimeter: number }>;
}
