/**
 * @module geo/zonalMean
 * Mean of a raster band inside each of many polygons, in ONE top-to-bottom sweep over the raster: the band is
 * read in strips of rows, and every polygon's edges cross the row centres of the strip as they go (an
 * active-edge scanline over all polygons at once). No per-polygon reads, memory bounded by one strip (whole rows
 * of blocks; GDAL's cached blocks are dropped after each) plus the polygons' edges (a few numbers per vertex),
 * whatever the number of polygons or the size of the raster.
 *
 * Pixel rule: a pixel counts for a polygon when its centre is inside the polygon (even-odd over all its rings,
 * so holes are excluded; `ceil(x - 0.5) … floor(x - 0.5)` between a pair of crossings). Polygons may overlap
 * (each gets its own pixels) — which an id raster burnt with GDAL rasterize could not represent.
 * The sums are accumulated in the same order, with the same arithmetic, as a per-polygon window read would
 * (rows top to bottom, spans left to right, window origin at the polygon's bounding box), so the means are the
 * same numbers bit for bit.
 */
import gdal from 'gdal-async';
import type { AreaGeometry, Position } from '../shared/featureSet.js';
import type { GeoTransform } from '../shared/rasterInfo.js';

/** Floats read per strip by default (16 MiB as Float32). */
const STRIP_PIXELS = 4 * 1024 * 1024;

export interface ZonalOptions {
  /** 1-based band (default 1). */
  band?: number;
  /** Pixels read per strip (default 4 Mi): memory bound of the raster side. */
  stripPixels?: number;
  /**
   * The polygons' number of positions, when known: the edge table is allocated once at that size instead of
   * growing by doubling (whose copies hold up to three times the table while they are made).
   */
  vertexCount?: number;
}

/** World → pixel coordinates of a grid (the inverse of its geotransform). */
function toPixel(gt: GeoTransform): (p: Position) => [number, number] {
  const [x0, a, b, y0, d, e] = gt;
  const det = a * e - b * d;
  return (p) => {
    const dx = p[0] - x0;
    const dy = p[1] - y0;
    return [(e * dx - b * dy) / det, (-d * dx + a * dy) / det];
  };
}

/**
 * A polygon: the DTO's geometry, or its rings (all parts) as interleaved x, y (`geo/areaGeometryWkb.areaRingsFromWkb`,
 * the same doubles in less memory).
 */
export type ZonalPolygon = AreaGeometry | readonly Float64Array[];

/** Rings of a polygon (all parts), in world coordinates: positions or interleaved x, y. */
function ringsOf(geometry: ZonalPolygon): readonly (Position[] | Float64Array)[] {
  if (!('type' in geometry)) return geometry;
  return geometry.type === 'Polygon' ? geometry.coordinates : geometry.coordinates.flat();
}

/** Number of positions of a ring. */
function ringLength(ring: Position[] | Float64Array): number {
  return ring instanceof Float64Array ? ring.length / 2 : ring.length;
}

/** Every non-horizontal edge of every polygon, in typed arrays, bucketed by the first row it may cross. */
interface EdgeTable {
  ax: Float64Array;
  ay: Float64Array;
  bx: Float64Array;
  by: Float64Array;
  polygon: Int32Array;
  /** Last row (inclusive) whose centre the edge may cross. */
  lastRow: Int32Array;
  /** Edges sorted by first row: `order[rowStart[r] .. rowStart[r + 1])` start at row r. */
  order: Int32Array;
  rowStart: Int32Array;
}

/** Per polygon: the column window a per-polygon read would use (its bounding box clipped to the raster). */
interface Windows {
  left: Int32Array;
  width: Int32Array;
}

/** Growable typed array (the number of edges is known only once every polygon has been seen). */
function grow<T extends Float64Array | Int32Array>(array: T, needed: number): T {
  if (needed <= array.length) return array;
  const bigger = new (array.constructor as new (n: number) => T)(Math.max(needed, array.length * 2));
  bigger.set(array);
  return bigger;
}

function buildEdges(
  geometries: Iterable<ZonalPolygon>,
  gt: GeoTransform,
  height: number,
  rasterWidth: number,
  capacity: number,
): { edges: EdgeTable; windows: Windows; polygons: number } {
  const px = toPixel(gt);
  let ax = new Float64Array(capacity);
  let ay = new Float64Array(capacity);
  let bx = new Float64Array(capacity);
  let by = new Float64Array(capacity);
  let polygonOf = new Int32Array(capacity);
  let firstRow = new Int32Array(capacity);
  let lastRow = new Int32Array(capacity);
  let left = new Int32Array(64);
  let width = new Int32Array(64);
  let n = 0;
  let p = 0;
  // One geometry at a time: the caller may make each from OGR as it is asked for and drop it after.
  for (const geometry of geometries) {
    let vertices = 0;
    for (const ring of ringsOf(geometry)) vertices += Math.max(0, ringLength(ring) - 1);
    if (n + vertices > ax.length) {
      const needed = n + vertices;
      [ax, ay, bx, by] = [grow(ax, needed), grow(ay, needed), grow(bx, needed), grow(by, needed)];
      [polygonOf, firstRow, lastRow] = [grow(polygonOf, needed), grow(firstRow, needed), grow(lastRow, needed)];
    }
    // A loop, not Math.min(...xs): one speckled polygon can have millions of vertices.
    let minX = Infinity;
    let maxX = -Infinity;
    for (const ring of ringsOf(geometry)) {
      const at = ring instanceof Float64Array ? (i: number): Position => [ring[2 * i]!, ring[2 * i + 1]!] : (i: number): Position => ring[i]!;
      const length = ringLength(ring);
      let next: [number, number] | null = null;
      for (let i = 0; i < length; i++) {
        const [x1, y1] = next ?? px(at(i));
        if (x1 < minX) minX = x1;
        if (x1 > maxX) maxX = x1;
        if (i + 1 === length) break;
        next = px(at(i + 1));
        const [x2, y2] = next;
        if (y1 === y2) continue; // horizontal: never crosses a row centre
        const lo = Math.min(y1, y2);
        const hi = Math.max(y1, y2);
        // Rows whose centre r + 0.5 is in [lo, hi), widened by one: the exact test is made while sweeping.
        const first = Math.max(0, Math.ceil(lo - 0.5) - 1);
        const last = Math.min(height - 1, Math.ceil(hi - 0.5));
        if (!(last >= first)) continue;
        ax[n] = x1;
        ay[n] = y1;
        bx[n] = x2;
        by[n] = y2;
        polygonOf[n] = p;
        firstRow[n] = first;
        lastRow[n] = last;
        n++;
      }
    }
    [left, width] = [grow(left, p + 1), grow(width, p + 1)];
    const x0 = Math.max(0, Math.floor(minX));
    const x1 = Math.min(rasterWidth, Math.ceil(maxX));
    left[p] = x0;
    width[p] = Math.max(0, x1 - x0);
    p++;
  }
  // Counting sort of the edges by first row.
  const rowStart = new Int32Array(height + 1);
  for (let i = 0; i < n; i++) rowStart[firstRow[i]! + 1]!++;
  for (let r = 0; r < height; r++) rowStart[r + 1]! += rowStart[r]!;
  const fill = rowStart.slice(0, height);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[fill[firstRow[i]!]!++] = i;
  return {
    edges: { ax, ay, bx, by, polygon: polygonOf, lastRow, order, rowStart },
    windows: { left, width },
    polygons: p,
  };
}

/**
 * Mean of a band of the raster at `rasterPath` inside each polygon (coordinates in the raster's CRS, mapped
 * to pixels with its geotransform); null for a polygon that covers no pixel centre. The polygons are read once,
 * in order, and not kept (only their edges, in typed arrays): a generator may make each one on demand.
 */
export async function zonalMeans(
  rasterPath: string,
  geometries: Iterable<ZonalPolygon>,
  options: ZonalOptions = {},
): Promise<(number | null)[]> {
  const ds = await gdal.openAsync(rasterPath);
  try {
    const { x: W, y: H } = ds.rasterSize;
    const band = ds.bands.get(options.band ?? 1);
    const pixels = band.pixels;
    const { edges, windows, polygons } = buildEdges(geometries, ds.geoTransform as GeoTransform, H, W, Math.max(1024, options.vertexCount ?? 0));
    const { ax, ay, bx, by, polygon, lastRow, order, rowStart } = edges;
    const sums = new Float64Array(polygons);
    const counts = new Float64Array(polygons);
    const active: number[] = [];
    // Crossings of the current row: polygon and x, sorted by polygon then x.
    let crossPolygon = new Int32Array(1024);
    let crossX = new Float64Array(1024);
    let index = new Int32Array(1024);
    // By default whole rows of blocks, so that each block is decoded once although the cache is dropped below.
    const blockRows = band.blockSize.y;
    const fitting = Math.max(1, Math.floor((options.stripPixels ?? STRIP_PIXELS) / Math.max(1, W)));
    const rowsPerStrip = options.stripPixels === undefined ? Math.max(blockRows, fitting - (fitting % blockRows)) : fitting;
    const strip = new Float32Array(rowsPerStrip * W);
    for (let y0 = 0; y0 < H; y0 += rowsPerStrip) {
      const rows = Math.min(rowsPerStrip, H - y0);
      // Nothing can cross these rows: skip reading them.
      if (active.length === 0 && rowStart[y0 + rows]! === rowStart[y0]!) continue;
      await pixels.readAsync(0, y0, W, rows, strip);
      // The strip is copied out: its blocks need not stay in GDAL's block cache (up to 256 MB, refilled here
      // after the polygon stage had reused the memory it held while thresholding).
      await ds.flushAsync();
      for (let row = y0; row < y0 + rows; row++) {
        for (let k = rowStart[row]!; k < rowStart[row + 1]!; k++) active.push(order[k]!);
        if (active.length === 0) continue;
        const cy = row + 0.5;
        let m = 0;
        for (const e of active) {
          const eay = ay[e]!;
          const eby = by[e]!;
          if ((eay <= cy && eby > cy) || (eby <= cy && eay > cy)) {
            if (m === crossX.length) {
              const grow = m * 2;
              const nx = new Float64Array(grow);
              nx.set(crossX);
              crossX = nx;
              const np = new Int32Array(grow);
              np.set(crossPolygon);
              crossPolygon = np;
              index = new Int32Array(grow);
            }
            const eax = ax[e]!;
            crossX[m] = eax + ((cy - eay) / (eby - eay)) * (bx[e]! - eax);
            crossPolygon[m] = polygon[e]!;
            m++;
          }
        }
        for (let i = 0; i < m; i++) index[i] = i;
        const sorted = index.subarray(0, m).sort((i, j) => crossPolygon[i]! - crossPolygon[j]! || crossX[i]! - crossX[j]!);
        const base = (row - y0) * W;
        // Each polygon's crossings, paired left to right (an odd last one is ignored, as a per-polygon scan would).
        for (let s = 0; s < m; ) {
          const p = crossPolygon[sorted[s]!]!;
          let e = s + 1;
          while (e < m && crossPolygon[sorted[e]!]! === p) e++;
          const ox = windows.left[p]!;
          const width = windows.width[p]!;
          let sum = sums[p]!;
          let count = counts[p]!;
          for (let k = s; k + 1 < e; k += 2) {
            const from = Math.max(0, Math.ceil(crossX[sorted[k]!]! - ox - 0.5));
            const to = Math.min(width - 1, Math.floor(crossX[sorted[k + 1]!]! - ox - 0.5));
            for (let col = from; col <= to; col++) {
              sum += strip[base + ox + col]!;
              count++;
            }
          }
          sums[p] = sum;
          counts[p] = count;
          s = e;
        }
        // Drop the edges that end on this row (in place).
        let kept = 0;
        for (const e of active) if (lastRow[e]! > row) active[kept++] = e;
        active.length = kept;
      }
    }
    return Array.from(counts, (c, p) => (c > 0 ? sums[p]! / c : null));
  } finally {
    ds.close();
  }
}
