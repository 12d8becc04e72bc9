/**
 * @module geo/simplify
 * Topology-preserving simplification of a whole result at once.
 *
 * Each polygon is simplified with GEOS's TopologyPreservingSimplifier (OGR `simplifyPreserveTopology`), and
 * polygons that could interact go through ONE call, gathered in a GeometryCollection: GEOS then checks every
 * simplified edge against the edges of all of them, so simplification never makes two features overlap, never
 * makes a hole cross its shell, and never drops a ring. Simplifying polygons one by one, as
 * `ogr2ogr -simplify` does, can make neighbours overlap as soon as the tolerance exceeds half their distance.
 *
 * "Could interact": a Douglas-Peucker-style simplification moves a boundary by at most the tolerance t (each
 * new edge stays within t of the chain it replaces, and the chain within t of the edge), so two polygons more
 * than 2t apart cannot touch afterwards. Polygons are grouped by overlap of their envelopes grown by t
 * (sweep over x, union-find); isolated polygons — most blobs of a mask — are simplified alone, and only
 * clusters go through a joint call (asynchronously, on GDAL's thread pool) (which costs more than the sum of its
 * parts, ~3× on a 5000-blob mask when done as one collection).
 *
 * For a binary mask polygonized with 8-connectivity, two features never share an edge (pixels touching even
 * diagonally belong to one feature), so "no overlap" is the whole topological guarantee needed: no gaps can
 * open along shared boundaries because there are none.
 */
import gdal from 'gdal-async';
import type { Geometry } from 'gdal-async';
import { SegEarthError } from '../shared/errors.js';
import type { GeoTransform } from '../shared/rasterInfo.js';

/** A tolerance in pixels, in metres on the ground, or in the CRS's own map units. */
export interface SimplifyTolerance {
  value: number;
  unit: 'px' | 'm' | 'map';
}

/** Parses "1.5", "2px", "5m" or "0.0001map" (a bare number means pixels). */
export function parseTolerance(text: string): SimplifyTolerance {
  const match = /^\s*(\d+(?:\.\d*)?|\.\d+)(?:e([+-]?\d+))?\s*(px|m|map)?\s*$/i.exec(text);
  if (!match) {
    throw new SegEarthError('BAD_ARGUMENT', `"${text}" is not a simplification tolerance.`, {
      hint: 'Write a number followed by px (pixels, the default), m (metres) or map (CRS units), e.g. 1.5px or 5m.',
    });
  }
  const value = Number(match[1]) * (match[2] ? 10 ** Number(match[2]) : 1);
  const unit = (match[3]?.toLowerCase() ?? 'px') as SimplifyTolerance['unit'];
  return { value, unit };
}

/** Side of a pixel in map units (geometric mean of the two pixel axes; rotation-safe). */
export function pixelSizeInMapUnits(geoTransform: GeoTransform): number {
  const [, a, b, , d, e] = geoTransform;
  return Math.sqrt(Math.abs(a * e - b * d));
}

/**
 * Converts a tolerance to map units. `groundPixelSizeM` is the ground size of one pixel in metres (null when
 * not georeferenced, where only px and map units make sense).
 */
export function toleranceInMapUnits(
  tolerance: SimplifyTolerance,
  geoTransform: GeoTransform,
  groundPixelSizeM: number | null,
): number {
  if (!Number.isFinite(tolerance.value) || tolerance.value < 0) {
    throw new SegEarthError('BAD_ARGUMENT', `The simplification tolerance ${tolerance.value} is negative or not a number.`, {
      hint: 'Use 0 for no simplification, or a positive tolerance such as 1px.',
    });
  }
  const pixel = pixelSizeInMapUnits(geoTransform);
  if (tolerance.unit === 'map') return tolerance.value;
  if (tolerance.unit === 'px') return tolerance.value * pixel;
  if (groundPixelSizeM === null) {
    throw new SegEarthError('NOT_GEOREFERENCED', 'A tolerance in metres needs a georeferenced mask.', {
      hint: 'Give the tolerance in pixels instead, e.g. 1.5px.',
    });
  }
  return (tolerance.value / groundPixelSizeM) * pixel;
}

/**
 * Groups of geometry indices whose envelopes, grown by `margin`, overlap (transitively): geometries in
 * different groups are more than 2·margin apart (their envelopes are).
 */
export function interactionGroups(geometries: Geometry[], margin: number): number[][] {
  const boxes = geometries.map((g) => {
    const e = g.getEnvelope();
    return { minX: e.minX - margin, maxX: e.maxX + margin, minY: e.minY - margin, maxY: e.maxY + margin };
  });
  const parent = geometries.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  const order = boxes.map((_, i) => i).sort((a, b) => boxes[a].minX - boxes[b].minX);
  let active: number[] = [];
  for (const i of order) {
    const box = boxes[i];
    active = active.filter((j) => boxes[j].maxX >= box.minX);
    for (const j of active) {
      if (boxes[j].minY <= box.maxY && box.minY <= boxes[j].maxY) parent[find(i)] = find(j);
    }
    active.push(i);
  }
  const groups = new Map<number, number[]>();
  geometries.forEach((_, i) => {
    const root = find(i);
    const group = groups.get(root);
    if (group) group.push(i);
    else groups.set(root, [i]);
  });
  return [...groups.values()];
}

/**
 * Simplifies the geometries with topology preserved within each and between all of them (see the module
 * comment). Returns the simplified geometries in input order; the inputs are not modified.
 */
export async function simplifyTogether(geometries: Geometry[], toleranceMapUnits: number): Promise<Geometry[]> {
  if (toleranceMapUnits <= 0 || geometries.length === 0) return geometries;
  const out: Geometry[] = new Array<Geometry>(geometries.length);
  const groups = interactionGroups(geometries, toleranceMapUnits);
  const clusters = groups.filter((group) => group.length > 1);
  const joint = Promise.all(
    clusters.map(async (group) => {
      const simplified = await simplifyJointly(group.map((i) => geometries[i]), toleranceMapUnits);
      group.forEach((index, k) => (out[index] = simplified[k]));
    }),
  );
  // Isolated polygons: synchronous GEOS calls (each is sub-millisecond; the async round trip would cost
  // more than the work), in batches that yield to the event loop.
  let done = 0;
  for (const group of groups) {
    if (group.length !== 1) continue;
    out[group[0]] = geometries[group[0]].simplifyPreserveTopology(toleranceMapUnits);
    if (++done % SYNC_BATCH === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await joint;
  return out;
}

const SYNC_BATCH = 256;

/** One GEOS call for a cluster of geometries (GEOS flattens nested collections: MultiPolygons are regrouped). */
async function simplifyJointly(geometries: Geometry[], toleranceMapUnits: number): Promise<Geometry[]> {
  const collection = new gdal.GeometryCollection();
  const partCounts: number[] = [];
  for (const g of geometries) {
    if (g instanceof gdal.MultiPolygon) {
      partCounts.push(g.children.count());
      for (const part of g.children) collection.children.add(part);
    } else {
      partCounts.push(-1);
      collection.children.add(g);
    }
  }
  const simplified = await collection.simplifyPreserveTopologyAsync(toleranceMapUnits);
  const total = partCounts.reduce((sum, n) => sum + Math.abs(n), 0);
  if (!(simplified instanceof gdal.GeometryCollection) || simplified.children.count() !== total) {
    throw new SegEarthError('INTERNAL', 'Simplification changed the number of polygons.', {
      hint: 'Try a smaller --simplify tolerance, and report this with the mask.',
    });
  }
  const parts = [...simplified.children];
  let next = 0;
  return partCounts.map((count) => {
    if (count < 0) return parts[next++];
    const multi = new gdal.MultiPolygon();
    for (let i = 0; i < count; i++) multi.children.add(parts[next++]);
    return multi;
  });
}
