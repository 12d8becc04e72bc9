/**
 * @module geo/polygonWkb
 * Little-endian WKB of a Polygon or MultiPolygon split into its parts' rings as byte views, and put back
 * together — what `geo/repairPolygon` (moving untouched holes between parts without GEOS) and
 * `geo/areaGeometryWkb` (rings as typed arrays for the zonal sweep) both walk. Written by hand: GDAL reads and
 * writes whole geometries, and going through OGR ring objects costs one JS wrapper per ring and a copy per
 * point, which on Polygonize's giant polygons (millions of vertices) is the cost these callers avoid.
 */

export const WKB_POLYGON = 3;
export const WKB_MULTIPOLYGON = 6;

/** The bytes of one ring (point count + points) of a little-endian WKB polygon, starting at `offset`. */
export function ringBytes(wkb: Uint8Array, offset: number): Uint8Array {
  const count = new DataView(wkb.buffer, wkb.byteOffset + offset, 4).getUint32(0, true);
  return wkb.subarray(offset, offset + 4 + 16 * count);
}

/** The rings of each part of a little-endian WKB Polygon or MultiPolygon, as byte views; null for anything else. */
export function polygonParts(wkb: Uint8Array): Uint8Array[][] | null {
  const view = new DataView(wkb.buffer, wkb.byteOffset, wkb.byteLength);
  const readPolygon = (offset: number): { rings: Uint8Array[]; end: number } | null => {
    if (view.getUint8(offset) !== 1 || view.getUint32(offset + 1, true) !== WKB_POLYGON) return null;
    const count = view.getUint32(offset + 5, true);
    let at = offset + 9;
    const rings: Uint8Array[] = [];
    for (let r = 0; r < count; r++) {
      const ring = ringBytes(wkb, at);
      rings.push(ring);
      at += ring.byteLength;
    }
    return { rings, end: at };
  };
  if (view.getUint8(0) !== 1) return null;
  const type = view.getUint32(1, true);
  if (type === WKB_POLYGON) {
    const polygon = readPolygon(0);
    return polygon ? [polygon.rings] : null;
  }
  if (type !== WKB_MULTIPOLYGON) return null;
  const parts: Uint8Array[][] = [];
  let at = 9;
  for (let p = 0; p < view.getUint32(5, true); p++) {
    const polygon = readPolygon(at);
    if (!polygon) return null;
    parts.push(polygon.rings);
    at = polygon.end;
  }
  return parts;
}

/** Little-endian WKB of a Polygon (one part) or MultiPolygon (several), from each part's ring bytes. */
export function polygonWkb(parts: Uint8Array[][], multi = parts.length !== 1): Buffer {
  const polygonSize = (rings: Uint8Array[]) => 9 + rings.reduce((n, ring) => n + ring.byteLength, 0);
  const size = (multi ? 9 : 0) + parts.reduce((n, rings) => n + polygonSize(rings), 0);
  const out = Buffer.alloc(size);
  let offset = 0;
  const header = (type: number, count: number) => {
    out.writeUInt8(1, offset);
    out.writeUInt32LE(type, offset + 1);
    out.writeUInt32LE(count, offset + 5);
    offset += 9;
  };
  if (multi) header(WKB_MULTIPOLYGON, parts.length);
  for (const rings of parts) {
    header(WKB_POLYGON, rings.length);
    for (const ring of rings) {
      out.set(ring, offset);
      offset += ring.byteLength;
    }
  }
  return out;
}
