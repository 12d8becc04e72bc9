/**
 * @module geo/repairPolygon
 * A valid polygonal geometry from a polygon GDAL Polygonize traced, whose rings may touch themselves at a
 * corner (8-connected pixels, holes pinched off the shell), so GEOS calls it invalid.
 *
 * GEOS MakeValid's default "linework" method nodes every ring of the polygon together and rebuilds the faces:
 * on one speckled polygon of 785 000 vertices and 12 500 holes it takes a minute. Polygonize's rings are
 * already correctly categorized (the first is the shell, the others are holes) and never cross, only touch,
 * which is the case GEOS's "structure" method is made for (GEOS ≥ 3.10, not reachable through gdal-async's
 * `makeValid()`): make each ring valid on its own, then take the shell minus the holes. Same point set as the
 * linework method for such rings (checked on speckle scenes: identical areas, empty symmetric difference),
 * about 8× faster on the large ones. Anything unexpected falls back to `makeValid()`.
 */
import gdal from 'gdal-async';
import type { Geometry, LinearRing, MultiPolygon, Polygon } from 'gdal-async';

/** Polygonal part of a geometry as Polygon or MultiPolygon (MakeValid may return a collection). */
export function polygonalPart(geometry: Geometry): Geometry | null {
  if (geometry instanceof gdal.Polygon || geometry instanceof gdal.MultiPolygon) return geometry;
  if (geometry instanceof gdal.GeometryCollection) {
    const multi = new gdal.MultiPolygon();
    for (const child of geometry.children) {
      const part = polygonalPart(child);
      if (part instanceof gdal.Polygon) multi.children.add(part);
      else if (part instanceof gdal.MultiPolygon) for (const p of part.children) multi.children.add(p);
    }
    return multi.children.count() === 0 ? null : multi.children.count() === 1 ? multi.children.get(0) : multi;
  }
  return null;
}

/** The area one ring encloses, valid (a ring touching itself becomes polygons touching at a point). */
function ringArea(ring: LinearRing): Geometry | null {
  const polygon = new gdal.Polygon();
  polygon.rings.add(ring);
  return polygon.isValid() ? polygon : polygonalPart(polygon.makeValid());
}

function addParts(multi: MultiPolygon, geometry: Geometry | null): void {
  if (geometry instanceof gdal.Polygon) multi.children.add(geometry);
  else if (geometry instanceof gdal.MultiPolygon) for (const part of geometry.children) multi.children.add(part);
}

/** GEOS MakeValid "structure" method for a polygon whose first ring is the shell and the others its holes. */
function structureRepair(polygon: Polygon): Geometry | null {
  let shell: Geometry | null = null;
  const holes = new gdal.MultiPolygon();
  let index = 0;
  for (const ring of polygon.rings as Iterable<LinearRing>) {
    if (index++ === 0) shell = ringArea(ring);
    else addParts(holes, ringArea(ring));
  }
  if (!shell || holes.children.count() === 0) return shell;
  // Polygonize's holes never overlap; if they did, their union is what the structure method subtracts.
  const subtract = holes.isValid() ? holes : holes.unionCascaded();
  return polygonalPart(shell.difference(subtract));
}

/** `geometry` itself when valid, else a valid Polygon/MultiPolygon covering the same pixels; null if none. */
export function repairPolygon(geometry: Geometry): Geometry | null {
  if (geometry.isValid()) return polygonalPart(geometry);
  if (geometry instanceof gdal.Polygon) {
    try {
      // Valid by construction: GEOS overlay of valid inputs (each ring made valid, holes checked) is valid.
      const repaired = structureRepair(geometry);
      if (repaired) return repaired;
    } catch {
      // fall through to the general method
    }
  }
  return polygonalPart(geometry.makeValid());
}

/**
 * True when a polygon GDAL Polygonize traced on a north-up pixel grid is certainly valid, decided from its
 * vertices alone, without GEOS: every ring closed with ≥ 4 points, every edge horizontal or vertical on the
 * grid, and no pixel corner visited twice (within a ring or by two rings). Polygonize's rings follow pixel
 * edges and meet only where two pixels touch diagonally, a corner where both turn, so it is a vertex of both:
 * with no repeated vertex no ring touches itself or another ring, and the polygon is valid (the shell first,
 * holes inside it). False means "not known": check with GEOS (`repairPolygon`).
 */
export function isCleanPixelPolygon(geometry: Geometry, geoTransform: readonly number[], width: number, height: number): boolean {
  const [x0, a, b, y0, d, e] = geoTransform;
  if (b !== 0 || d !== 0 || !(geometry instanceof gdal.Polygon)) return false;
  const bytes = geometry.toWKB('LSB');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(1, true) !== 3) return false;
  const ringCount = view.getUint32(5, true);
  const keys = new Float64Array(Math.floor((bytes.byteLength - 9) / 16));
  let used = 0;
  let offset = 9;
  for (let r = 0; r < ringCount; r++) {
    const n = view.getUint32(offset, true);
    offset += 4;
    if (n < 4) return false;
    let prevCol = NaN;
    let prevRow = NaN;
    for (let i = 0; i < n; i++) {
      const col = (view.getFloat64(offset, true) - x0) / a;
      const row = (view.getFloat64(offset + 8, true) - y0) / e;
      offset += 16;
      if (!Number.isInteger(col) || !Number.isInteger(row) || col < 0 || row < 0 || col > width || row > height) return false;
      if (i > 0 && col !== prevCol && row !== prevRow) return false;
      // The closing point repeats the first; every other point must be a corner not seen before.
      if (i < n - 1) keys[used++] = row * (width + 1) + col;
      else if (row * (width + 1) + col !== keys[used - (n - 1)]) return false;
      prevCol = col;
      prevRow = row;
    }
  }
  const sorted = keys.subarray(0, used).sort();
  for (let i = 1; i < sorted.length; i++) if (sorted[i] === sorted[i - 1]) return false;
  return true;
}
