/**
 * @module geo/areaGeometryWkb
 * GeoJSON-style Polygon / MultiPolygon DTOs to and from OGR geometries through WKB, instead of
 * `JSON.parse(geometry.toJSON())` and `gdal.Geometry.fromGeoJson(dto)`: the same coordinates, ~30–100× faster
 * (OGR formats and parses every coordinate as text through json-c; on an 8000² mask that was most of
 * `segearth vectorize`'s time after Polygonize).
 *
 * To OGR (`areaGeometryToOgr`): the DTO's doubles are written as they are (-0 as 0), which is what `fromGeoJson`
 * gives too (JSON.stringify prints the shortest decimal that reads back as the same double, and OGR reads it back
 * with strtod); positions with a Z (or more), other types and empty
 * polygons go through `fromGeoJson`.
 *
 * From OGR (`areaGeometryFromWkb`): same coordinates means OGR's rounding too. `toJSON()` (GDAL 3.6, no
 * options) writes each coordinate with `%.15f`, then trims what looks like round-off (2.1000000000000005 becomes
 * 2.1, 1/3 becomes 0.333333333333333, 1e-20 becomes 0). Only coordinates that this leaves untouched are read
 * from the WKB: those with at most 15 binary fraction digits and 15 significant digits — pixel corners of grids
 * with pixel sizes and origins such as 10 m, 0.5 m, 0.25 m, which Polygonize, MakeValid and simplification keep.
 * A geometry with any other coordinate (degrees, 0.3 m pixels), or other than a 2D Polygon / MultiPolygon, goes
 * through `toJSON()` as before.
 */
import gdal from 'gdal-async';
import type { Geometry } from 'gdal-async';
import type { AreaGeometry, Position } from '../shared/featureSet.js';
import { polygonParts, WKB_MULTIPOLYGON, WKB_POLYGON } from './polygonWkb.js';

/** Thrown inside the reader when a coordinate needs OGR's own formatting: the caller falls back to `toJSON()`. */
class NeedsOgrFormatting extends Error {}

/** 10^0 … 10^15. */
const POWERS_OF_TEN = Array.from({ length: 16 }, (_, i) => 10 ** i);

/**
 * `x` itself when OGR's GeoJSON export writes it exactly: x = m / 2^k with k ≤ 15 has exactly k decimals, and
 * with |x| < 10^(15−k) it has at most 15 significant digits, which `%.15f` prints exactly and OGR's round-off
 * trimming leaves alone (checked against `toJSON()` on millions of such values, see the tests). Any other
 * coordinate throws `NeedsOgrFormatting`.
 */
function exactCoordinate(x: number): number {
  let scaled = x;
  for (let k = 0; k <= 15; k++) {
    if (Number.isInteger(scaled)) {
      if (Math.abs(x) < POWERS_OF_TEN[15 - k]) return x;
      break;
    }
    scaled *= 2;
  }
  throw new NeedsOgrFormatting();
}

class WkbReader {
  private offset = 0;
  private little = true;
  private readonly view: DataView;

  constructor(bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Byte order and type of the next geometry. */
  header(): number {
    this.little = this.view.getUint8(this.offset) === 1;
    const type = this.view.getUint32(this.offset + 1, this.little);
    this.offset += 5;
    return type;
  }

  count(): number {
    const n = this.view.getUint32(this.offset, this.little);
    this.offset += 4;
    return n;
  }

  polygonBody(): Position[][] {
    const rings: Position[][] = new Array<Position[]>(this.count());
    for (let r = 0; r < rings.length; r++) {
      const points: Position[] = new Array<Position>(this.count());
      for (let i = 0; i < points.length; i++) {
        const x = this.view.getFloat64(this.offset, this.little);
        const y = this.view.getFloat64(this.offset + 8, this.little);
        this.offset += 16;
        points[i] = [exactCoordinate(x), exactCoordinate(y)];
      }
      rings[r] = points;
    }
    return rings;
  }
}

/** The DTO `JSON.parse(geometry.toJSON())` gives for a Polygon or MultiPolygon, without the JSON round trip. */
export function areaGeometryFromWkb(geometry: Geometry): AreaGeometry {
  try {
    return fromWkb(geometry);
  } catch (err) {
    if (err instanceof NeedsOgrFormatting) return JSON.parse(geometry.toJSON()) as AreaGeometry;
    throw err;
  }
}

/**
 * Every ring of a Polygon or MultiPolygon (all parts, shells and holes) as interleaved x, y — the same doubles as
 * `areaGeometryFromWkb`'s positions, in a sixth of the memory (no array per position): what a sweep over the
 * rings needs (`geo/zonalMean`).
 */
export function areaRingsFromWkb(geometry: Geometry): Float64Array[] {
  const parts = polygonParts(geometry.toWKB('LSB'));
  if (parts === null) return ringsOf(areaGeometryFromWkb(geometry));
  const rings: Float64Array[] = [];
  try {
    for (const ringsOfPart of parts) {
      for (const bytes of ringsOfPart) {
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        const n = view.getUint32(0, true);
        const ring = new Float64Array(2 * n);
        for (let i = 0; i < 2 * n; i++) ring[i] = exactCoordinate(view.getFloat64(4 + 8 * i, true));
        rings.push(ring);
      }
    }
    return rings;
  } catch (err) {
    if (err instanceof NeedsOgrFormatting) return ringsOf(areaGeometryFromWkb(geometry));
    throw err;
  }
}

/** The rings of a DTO as interleaved x, y. */
function ringsOf(dto: AreaGeometry): Float64Array[] {
  const polygons = dto.type === 'Polygon' ? [dto.coordinates] : dto.coordinates;
  return polygons.flat().map((ring) => Float64Array.from(ring.flatMap((position) => [position[0]!, position[1]!])));
}

function fromWkb(geometry: Geometry): AreaGeometry {
  const reader = new WkbReader(geometry.toWKB('LSB'));
  const type = reader.header();
  if (type === WKB_POLYGON) return { type: 'Polygon', coordinates: reader.polygonBody() };
  if (type === WKB_MULTIPOLYGON) {
    const parts: Position[][][] = new Array<Position[][]>(reader.count());
    for (let p = 0; p < parts.length; p++) {
      if (reader.header() !== WKB_POLYGON) return JSON.parse(geometry.toJSON()) as AreaGeometry;
      parts[p] = reader.polygonBody();
    }
    return { type: 'MultiPolygon', coordinates: parts };
  }
  return JSON.parse(geometry.toJSON()) as AreaGeometry;
}

/** Bytes of a WKB polygon body (ring count, then point count and x y per ring) of 2D rings. */
function polygonBytes(rings: Position[][]): number {
  let bytes = 4;
  for (const ring of rings) bytes += 4 + 16 * ring.length;
  return bytes;
}

function isFlat(dto: AreaGeometry, polygons: Position[][][]): boolean {
  if ((dto.type !== 'Polygon' && dto.type !== 'MultiPolygon') || polygons.length === 0) return false;
  for (const rings of polygons) if (rings.length === 0) return false;
  for (const rings of polygons) for (const ring of rings) for (const position of ring) if (position.length !== 2) return false;
  return true;
}

/**
 * The OGR geometry `gdal.Geometry.fromGeoJson(dto)` gives (see the module comment), as a MultiPolygon when
 * `multi` (a Polygon becomes its only part).
 */
export function areaGeometryToOgr(dto: AreaGeometry, multi = false): Geometry {
  const polygons = dto.type === 'Polygon' ? [dto.coordinates] : dto.coordinates;
  if (!isFlat(dto, polygons)) {
    const geometry = gdal.Geometry.fromGeoJson(dto);
    if (!multi || !(geometry instanceof gdal.Polygon)) return geometry;
    const out = new gdal.MultiPolygon();
    out.children.add(geometry);
    return out;
  }
  const asMulti = multi || dto.type === 'MultiPolygon';
  let size = asMulti ? 9 : 5;
  for (const rings of polygons) size += (asMulti ? 5 : 0) + polygonBytes(rings);
  const bytes = Buffer.alloc(size);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  const header = (type: number) => {
    view.setUint8(offset, 1);
    view.setUint32(offset + 1, type, true);
    offset += 5;
  };
  const count = (n: number) => {
    view.setUint32(offset, n, true);
    offset += 4;
  };
  if (asMulti) {
    header(WKB_MULTIPOLYGON);
    count(polygons.length);
  }
  for (const rings of polygons) {
    header(WKB_POLYGON);
    count(rings.length);
    for (const ring of rings) {
      count(ring.length);
      for (const [x, y] of ring) {
        // + 0: -0 becomes 0, as through JSON.stringify.
        view.setFloat64(offset, x + 0, true);
        view.setFloat64(offset + 8, y + 0, true);
        offset += 16;
      }
    }
  }
  return gdal.Geometry.fromWKB(bytes);
}
