/**
 * @module inference/worker/geoFeatureStream
 * The features of an answer as binary `features` messages of the geo process (see `geoProtocol.ts`), both ways:
 * `featureMessages` cuts a FeatureSet's features into messages, `FeatureAssembler` builds them back.
 *
 * A message carries the features that begin in it without their coordinates (`features`: id, properties,
 * geometry type), their structure as counts (`polygons` per feature, `rings` per polygon, `positions` per
 * ring — all of a feature's structure in the message it begins in), and the next positions of the answer as
 * x, y pairs (`coordinates`, a Float64Array: a copy, not a parse, on arrival with the IPC channel's `advanced`
 * serialization). Coordinates run on from message to message, so one polygon of millions of positions — which
 * would otherwise be one message, parsed in one long turn of the app's event loop — arrives in messages of at
 * most `MESSAGE_LIMITS.positions` positions, each turned into `[x, y]` arrays in a short turn. Hand-written:
 * no library streams GeoJSON geometries as typed arrays split across messages (flatgeobuf and geobuf encode
 * whole features, and decoding one giant feature is again one long turn). Positions are 2D, as
 * `geo/maskToPolygons` makes them.
 */
import type { Position, VectorFeature } from '../../shared/featureSet.js';

/**
 * At most this many new features, or positions, per `features` message: each message is validated and turned
 * into `[x, y]` arrays in one turn of the app's event loop, a few ms at these sizes.
 */
export const MESSAGE_LIMITS = { features: 500, positions: 50_000 } as const;

/** A feature as a `features` message carries it: its geometry's type only. */
export interface FeatureHead {
  id: number;
  properties: VectorFeature['properties'];
  type: VectorFeature['geometry']['type'];
}

/** The data of a `features` message (see the module header). */
export interface FeatureChunk {
  features: FeatureHead[];
  polygons: Uint32Array<ArrayBuffer>;
  rings: Uint32Array<ArrayBuffer>;
  positions: Uint32Array<ArrayBuffer>;
  coordinates: Float64Array<ArrayBuffer>;
}

const sum = (counts: Uint32Array): number => counts.reduce((n, c) => n + c, 0);

/**
 * What is wrong with a chunk on its own (null when nothing): counts that do not match each other or the
 * geometry types, rings of fewer than 4 positions, too many positions, coordinates that are not finite.
 * One pass over the typed arrays.
 */
export function chunkProblem(chunk: FeatureChunk): string | null {
  const { features, polygons, rings, positions, coordinates } = chunk;
  if (polygons.length !== features.length) return `${polygons.length} polygon counts for ${features.length} features`;
  for (let i = 0; i < features.length; i++) {
    if (polygons[i]! < 1 || (features[i]!.type === 'Polygon' && polygons[i] !== 1)) return `feature ${features[i]!.id}: ${polygons[i]} polygons in a ${features[i]!.type}`;
  }
  if (rings.length !== sum(polygons)) return `${rings.length} ring counts for ${sum(polygons)} polygons`;
  if (rings.some((r) => r < 1)) return 'a polygon without rings';
  if (positions.length !== sum(rings)) return `${positions.length} position counts for ${sum(rings)} rings`;
  if (positions.some((p) => p < 4)) return 'a ring of fewer than 4 positions';
  if (coordinates.length % 2 !== 0) return `an odd number of coordinates (${coordinates.length})`;
  if (coordinates.length / 2 > MESSAGE_LIMITS.positions) return `${coordinates.length / 2} positions (at most ${MESSAGE_LIMITS.positions})`;
  for (let i = 0; i < coordinates.length; i++) if (!Number.isFinite(coordinates[i])) return `coordinate ${i} is ${coordinates[i]}`;
  return null;
}

/** The features as chunks of at most `MESSAGE_LIMITS` new features / positions. */
export function* featureMessages(features: readonly VectorFeature[]): Generator<FeatureChunk> {
  let heads: FeatureHead[] = [];
  let polygons: number[] = [];
  let rings: number[] = [];
  let positions: number[] = [];
  let coordinates = new Float64Array(2 * MESSAGE_LIMITS.positions);
  let n = 0;
  const flush = (): FeatureChunk => {
    const chunk = { features: heads, polygons: Uint32Array.from(polygons), rings: Uint32Array.from(rings), positions: Uint32Array.from(positions), coordinates: coordinates.slice(0, 2 * n) };
    heads = [];
    polygons = [];
    rings = [];
    positions = [];
    coordinates = new Float64Array(2 * MESSAGE_LIMITS.positions);
    n = 0;
    return chunk;
  };
  for (const f of features) {
    if (heads.length >= MESSAGE_LIMITS.features) yield flush();
    const parts = f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates;
    // The whole structure first: it travels in the message the feature begins in.
    heads.push({ id: f.id, properties: f.properties, type: f.geometry.type });
    polygons.push(parts.length);
    for (const part of parts) {
      rings.push(part.length);
      for (const ring of part) positions.push(ring.length);
    }
    for (const part of parts) {
      for (const ring of part) {
        for (const p of ring) {
          if (n === MESSAGE_LIMITS.positions) yield flush();
          coordinates[2 * n] = p[0];
          coordinates[2 * n + 1] = p[1];
          n++;
        }
      }
    }
  }
  if (heads.length > 0 || n > 0) yield flush();
}

/**
 * Builds the features of an answer back from its chunks, in order. `add` and `finish` throw an Error saying
 * what did not fit (coordinates for no ring, an answer that ends inside a ring); `chunkProblem` is checked
 * before (by the message's schema).
 */
export class FeatureAssembler {
  readonly features: VectorFeature[] = [];
  /** Rings still to fill, in order, and their sizes; `next` is the one being filled. */
  private rings: Position[][] = [];
  private sizes: number[] = [];
  private next = 0;

  add(chunk: FeatureChunk): void {
    let polygon = 0;
    let ring = 0;
    chunk.features.forEach((head, i) => {
      const parts: Position[][][] = [];
      for (let p = 0; p < chunk.polygons[i]!; p++, polygon++) {
        const part: Position[][] = [];
        for (let r = 0; r < chunk.rings[polygon]!; r++, ring++) {
          const positions: Position[] = [];
          part.push(positions);
          this.rings.push(positions);
          this.sizes.push(chunk.positions[ring]!);
        }
        parts.push(part);
      }
      const geometry = head.type === 'Polygon' ? { type: head.type, coordinates: parts[0]! } : { type: head.type, coordinates: parts };
      this.features.push({ id: head.id, properties: head.properties, geometry });
    });
    const { coordinates } = chunk;
    for (let i = 0; i < coordinates.length; i += 2) {
      const target = this.rings[this.next];
      if (!target) throw new Error(`${(coordinates.length - i) / 2} positions more than the rings of the features hold`);
      target.push([coordinates[i]!, coordinates[i + 1]!]);
      if (target.length === this.sizes[this.next]) this.next++;
    }
    if (this.next === this.rings.length) {
      this.rings = [];
      this.sizes = [];
      this.next = 0;
    }
  }

  /** Throws when a ring still waits for positions. */
  finish(): VectorFeature[] {
    if (this.next < this.rings.length) throw new Error(`the answer ended with ${this.rings.length - this.next} rings still missing positions`);
    return this.features;
  }
}
