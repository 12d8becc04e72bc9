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
 *
 * On a north-up grid `repairPixelPolygon` goes further (what `geo/maskToPolygons` uses): validity decided from
 * the pixel corners, GEOS only for the rings that touch, the untouched holes put back without an overlay.
 */
import gdal from 'gdal-async';
import type { Geometry, LinearRing, MultiPolygon, Polygon } from 'gdal-async';
import { polygonParts, polygonWkb, ringBytes, WKB_POLYGON } from './polygonWkb.js';

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
  return geometry.isValid() ? polygonalPart(geometry) : repairInvalid(geometry);
}

/** A valid Polygon/MultiPolygon covering the same points as an invalid `geometry`; null if none. */
function repairInvalid(geometry: Geometry): Geometry | null {
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

/** A Polygonize polygon's rings in pixel corners, read from its WKB (see `readPixelRings`). */
interface PixelRings {
  /** The polygon's WKB, little-endian. */
  wkb: Uint8Array;
  /** Per ring: byte offset of its point count in `wkb`. */
  ringOffsets: number[];
  /** Per ring r: its corners (the closing point excluded) are `keys[ringStart[r] .. ringStart[r + 1])`. */
  ringStart: Int32Array;
  /** Each corner as `row * (width + 1) + col`. */
  keys: Float64Array;
}

/**
 * The rings of a polygon GDAL Polygonize traced on a north-up grid, as pixel corners; null when it is not one
 * (another geometry type, a rotated grid, a vertex off the corners, an edge that is not horizontal or
 * vertical, a ring not closed or with fewer than 4 points).
 */
function readPixelRings(geometry: Geometry, geoTransform: readonly number[], width: number, height: number): PixelRings | null {
  const [x0, a, b, y0, d, e] = geoTransform;
  if (b !== 0 || d !== 0 || !(geometry instanceof gdal.Polygon)) return null;
  const wkb = geometry.toWKB('LSB');
  const view = new DataView(wkb.buffer, wkb.byteOffset, wkb.byteLength);
  if (view.getUint32(1, true) !== WKB_POLYGON) return null;
  const ringCount = view.getUint32(5, true);
  const keys = scratch(Math.floor((wkb.byteLength - 9) / 16), 'keys');
  const ringStart = new Int32Array(ringCount + 1);
  const ringOffsets: number[] = [];
  let used = 0;
  let offset = 9;
  for (let r = 0; r < ringCount; r++) {
    ringOffsets.push(offset);
    const n = view.getUint32(offset, true);
    offset += 4;
    if (n < 4) return null;
    let prevCol = NaN;
    let prevRow = NaN;
    for (let i = 0; i < n; i++) {
      const col = (view.getFloat64(offset, true) - x0) / a;
      const row = (view.getFloat64(offset + 8, true) - y0) / e;
      offset += 16;
      if (!Number.isInteger(col) || !Number.isInteger(row) || col < 0 || row < 0 || col > width || row > height) return null;
      if (i > 0 && col !== prevCol && row !== prevRow) return null;
      // The closing point repeats the first; every other point is a corner of the ring.
      if (i < n - 1) keys[used++] = row * (width + 1) + col;
      else if (row * (width + 1) + col !== keys[used - (n - 1)]) return null;
      prevCol = col;
      prevRow = row;
    }
    ringStart[r + 1] = used;
  }
  return { wkb, ringOffsets, ringStart, keys: keys.subarray(0, used) };
}

/** Reused between polygons up to this many entries (most have a few hundred corners); larger ones get their own. */
const SCRATCH_LIMIT = 1 << 16;
const scratchArrays = { keys: new Float64Array(SCRATCH_LIMIT), slots: new Int32Array(2 * SCRATCH_LIMIT) };

/** A working array of at least `length` entries, valid until the next call for the same purpose. */
function scratch<K extends keyof typeof scratchArrays>(length: number, purpose: K): (typeof scratchArrays)[K] {
  const reused = scratchArrays[purpose];
  if (length <= reused.length) return reused;
  return (purpose === 'keys' ? new Float64Array(length) : new Int32Array(length)) as (typeof scratchArrays)[K];
}

/**
 * Corners visited more than once (by one ring or by two), as keys. An open-addressing hash table of key
 * indices (Fibonacci hashing, linear probing) at most half full: one pass, no sorted copy — this runs on
 * every polygon (400 000 corners at 4000², ~7 ms against ~17 ms for sorting a copy).
 */
function repeatedCorners(keys: Float64Array): Set<number> {
  const repeated = new Set<number>();
  let bits = 4;
  while (1 << bits < 2 * keys.length) bits++;
  const slots = scratch(1 << bits, 'slots'); // index + 1 of the first key that took each slot; 0 = free
  slots.fill(0, 0, 1 << bits);
  const last = (1 << bits) - 1;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    // Keys are integers below 2^33: both 32-bit halves feed the hash.
    let slot = Math.imul((key >>> 0) ^ (key / 4294967296), 0x9e3779b1) >>> (32 - bits);
    for (;;) {
      const held = slots[slot]!;
      if (held === 0) {
        slots[slot] = i + 1;
        break;
      }
      if (keys[held - 1] === key) {
        repeated.add(key);
        break;
      }
      slot = (slot + 1) & last;
    }
  }
  return repeated;
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
  const rings = readPixelRings(geometry, geoTransform, width, height);
  return rings !== null && repeatedCorners(rings.keys).size === 0;
}

/**
 * `repairPolygon` for a polygon GDAL Polygonize traced on a north-up grid (same point set, valid), with GEOS
 * only where rings touch. Rings meet only at shared corners (see `isCleanPixelPolygon`), so a hole none of whose
 * corners is visited twice touches nothing: it lies inside exactly one part of the repaired polygon, in its
 * interior. Whether the polygon is valid is decided from the corners (`touchesOnlyAsATree`); if not, GEOS's
 * buffer(0) repairs the shell with the holes that do touch something, and the others are put back as holes of
 * the part that contains them (found by an even–odd sweep over the parts' vertical edges, in JavaScript) — no
 * noding or overlay of thousands of holes against a shell of hundreds of thousands of vertices, the bulk of the
 * time and memory of a speckled answer. Valid polygons come back as they are.
 */
export function repairPixelPolygon(geometry: Geometry, geoTransform: readonly number[], width: number, height: number): Geometry | null {
  const rings = readPixelRings(geometry, geoTransform, width, height);
  if (!rings) return repairPolygon(geometry);
  const repeated = repeatedCorners(rings.keys);
  if (repeated.size === 0) return geometry;
  const { keys, ringStart } = rings;
  const touching: number[] = [0];
  const free: number[] = [];
  for (let r = 1; r + 1 < ringStart.length; r++) {
    let touches = false;
    for (let i = ringStart[r]!; i < ringStart[r + 1]! && !touches; i++) touches = repeated.has(keys[i]!);
    (touches ? touching : free).push(r);
  }
  // Decided from the corners, without GEOS's validity check (its graph of the giant polygon was the peak).
  if (touchesOnlyAsATree(rings, repeated)) return geometry;
  const reduced = free.length === 0 ? geometry : gdal.Geometry.fromWKB(polygonWkb([touching.map((r) => ringBytes(rings.wkb, rings.ringOffsets[r]!))]));
  // Rings that touch but never cross: GEOS's buffer(0) (non-zero winding; always valid output) covers the same
  // points as MakeValid's even–odd, without its noding of every ring (20000² giant polygon, shell + 40 touching
  // holes: 1.0 s and +100 MB against 11.8 s and +1 GB for MakeValid, +280 MB for the structure method's overlay).
  const buffered = reduced.buffer(0, 1);
  const repaired = buffered.isEmpty() ? null : polygonalPart(buffered);
  if (!repaired) return repairPolygon(geometry);
  if (free.length === 0) return repaired;
  const out = withHoles(repaired, rings, free, geoTransform, width);
  if (!out) return repairPolygon(geometry);
  if (geometry.srs) out.srs = geometry.srs;
  return out;
}

/**
 * True when a Polygonize polygon whose rings meet at the corners `repeated` is nevertheless valid: no ring
 * touches itself (OGC rings are simple) and the rings' touches form no cycle — two rings touching twice, or a
 * chain of holes from the shell back to it, cut the interior in two. Each repeated corner is visited by exactly
 * two ring passes (four pixels meet there), so it joins two rings, or one ring to itself.
 */
function touchesOnlyAsATree(rings: PixelRings, repeated: Set<number>): boolean {
  const { keys, ringStart } = rings;
  const ringCount = ringStart.length - 1;
  const firstRing = new Map<number, number>();
  const parent = Int32Array.from({ length: ringCount }, (_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  for (let r = 0; r < ringCount; r++) {
    for (let i = ringStart[r]!; i < ringStart[r + 1]!; i++) {
      const key = keys[i]!;
      if (!repeated.has(key)) continue;
      const other = firstRing.get(key);
      if (other === undefined) {
        firstRing.set(key, r);
        continue;
      }
      if (other === r) return false; // a ring touching itself
      const a = root(other);
      const b = root(r);
      if (a === b) return false; // a cycle of touches
      parent[a] = b;
    }
  }
  return true;
}

/**
 * `repaired` (Polygon or MultiPolygon) with the free holes `free` of `rings` added to the part that contains
 * each; null if a hole's part cannot be told (never for Polygonize polygons; the caller then uses GEOS).
 */
function withHoles(repaired: Geometry, rings: PixelRings, free: number[], geoTransform: readonly number[], width: number): Geometry | null {
  const parts = polygonParts(repaired.toWKB('LSB'));
  if (!parts) return null;
  const [x0, a, , y0, , e] = geoTransform;
  // A test point per free hole: the centre of the pixel just above its top-left corner — outside the hole, in
  // the polygon (that pixel's lower edge is the hole's top edge), never on a ring.
  const stride = width + 1;
  const testCol = new Float64Array(free.length);
  const testRow = new Float64Array(free.length);
  free.forEach((r, h) => {
    let best = Infinity;
    for (let i = rings.ringStart[r]!; i < rings.ringStart[r + 1]!; i++) best = Math.min(best, rings.keys[i]!);
    testCol[h] = (best % stride) + 0.5;
    testRow[h] = Math.floor(best / stride) - 0.5;
  });
  const byRow = Array.from(free.keys()).sort((i, j) => testRow[i]! - testRow[j]!);
  const sortedRows = Float64Array.from(byRow, (i) => testRow[i]!);
  const firstAtOrAfter = (row: number): number => {
    let lo = 0;
    let hi = sortedRows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sortedRows[mid]! < row) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  // Even–odd: a ray from each test point to the right crosses each part's boundary an odd number of times
  // exactly for the part that contains it. Only vertical edges cross a row centre.
  const crossings = new Map<number, number>();
  parts.forEach((partRings, p) => {
    for (const ring of partRings) {
      const view = new DataView(ring.buffer, ring.byteOffset, ring.byteLength);
      const n = view.getUint32(0, true);
      let prevCol = Math.round((view.getFloat64(4, true) - x0) / a);
      let prevRow = Math.round((view.getFloat64(12, true) - y0) / e);
      for (let i = 1; i < n; i++) {
        const col = Math.round((view.getFloat64(4 + 16 * i, true) - x0) / a);
        const row = Math.round((view.getFloat64(12 + 16 * i, true) - y0) / e);
        if (col === prevCol && row !== prevRow) {
          const top = Math.min(row, prevRow);
          const bottom = Math.max(row, prevRow);
          for (let k = firstAtOrAfter(top); k < sortedRows.length && sortedRows[k]! < bottom; k++) {
            const h = byRow[k]!;
            if (testCol[h]! < col) {
              const key = h * parts.length + p;
              crossings.set(key, (crossings.get(key) ?? 0) ^ 1);
            }
          }
        }
        prevCol = col;
        prevRow = row;
      }
    }
  });
  const owner = new Int32Array(free.length).fill(-1);
  for (const [key, odd] of crossings) {
    if (!odd) continue;
    const h = Math.floor(key / parts.length);
    if (owner[h] !== -1) return null;
    owner[h] = key % parts.length;
  }
  if (owner.some((p) => p < 0)) return null;
  free.forEach((r, h) => parts[owner[h]!]!.push(ringBytes(rings.wkb, rings.ringOffsets[r]!)));
  return gdal.Geometry.fromWKB(polygonWkb(parts, repaired instanceof gdal.MultiPolygon));
}
