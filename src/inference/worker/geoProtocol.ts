/**
 * @module inference/worker/geoProtocol
 * Messages between the app (server or Electron main) and the geo process (`geo.process.ts`), as zod schemas,
 * validated on arrival on both sides. The geo process runs the polygon step of an answer
 * (`scene/result.answerPolygons`: vectorizing, then the mean probability of each polygon) — long, synchronous
 * GDAL and JavaScript work that must not run on the thread that answers requests. It is a child process, not a
 * worker thread: gdal-async cannot be loaded in a second thread of a process.
 *
 * `polygons {id, …}` → `features {id, features}` chunks, each sent after the app asked for it with `next {id}`
 * (the app asks once it has validated the previous one and given other work a turn: a large answer is parsed and
 * checked in small slices of the event loop, never in one long one; without this flow control the chunks queue
 * in the pipe and are all parsed in one turn) → `done {id, crsWkt, crsCode}`, or `error {id, error}` (the
 * error's code kept). `cancel {id}` aborts the request's AbortSignal.
 */
import { z } from 'zod';
import { ErrorPayloadSchema } from '../../shared/errorPayloadSchema.js';
import { VectorFeatureSchema, type Position } from '../../shared/featureSet.js';

const Id = z.number().int().nonnegative();

export const ToGeoSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('polygons'),
    id: Id,
    probabilityPath: z.string().min(1),
    /** Checked by `answerPolygons` itself, with the same errors as in-process. */
    threshold: z.number(),
    minAreaM2: z.number(),
    provenance: z.object({
      question: z.string(),
      modelId: z.string(),
      bundleSha256: z.string(),
      source: z.string(),
      createdAt: z.string(),
    }),
  }),
  /** The app has taken the last `features` message of the request: send the next one. */
  z.object({ type: z.literal('next'), id: Id }),
  z.object({ type: z.literal('cancel'), id: Id }),
]);
export type ToGeo = z.infer<typeof ToGeoSchema>;

/**
 * At most this many features, or positions, per `features` message (one feature more when a single one is
 * larger): each message is parsed and validated in one turn of the app's event loop, ~10 ms at these sizes.
 */
export const MESSAGE_LIMITS = { features: 500, positions: 20_000 } as const;

/** Rings of a polygon as `shared/featureSet` defines them: ≥ 1 ring, each of ≥ 4 positions of ≥ 2 finite numbers. */
function isPolygonRings(value: unknown): value is Position[][] {
  if (!Array.isArray(value) || value.length === 0) return false;
  for (const ring of value) {
    if (!Array.isArray(ring) || ring.length < 4) return false;
    for (const p of ring) if (!Array.isArray(p) || p.length < 2 || !p.every(Number.isFinite)) return false;
  }
  return true;
}

/**
 * A feature of a `features` message: `shared/featureSet`'s VectorFeature, its coordinates checked in one pass
 * over the arrays (the same rules) instead of zod's schema per position, which takes ~20× as long and copies
 * every position — on the thread that answers requests, for answers of millions of positions.
 */
const FeatureSchema = VectorFeatureSchema.extend({
  geometry: z.discriminatedUnion('type', [
    z.object({ type: z.literal('Polygon'), coordinates: z.custom<Position[][]>(isPolygonRings, 'polygon rings of 4 or more [x, y] positions') }),
    z.object({
      type: z.literal('MultiPolygon'),
      coordinates: z.custom<Position[][][]>((v) => Array.isArray(v) && v.length > 0 && v.every(isPolygonRings), 'polygons of rings of 4 or more [x, y] positions'),
    }),
  ]),
});

export const FromGeoSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('features'), id: Id, features: z.array(FeatureSchema) }),
  z.object({ type: z.literal('done'), id: Id, crsWkt: z.string().nullable(), crsCode: z.string().nullable() }),
  /** id null: a message the geo process could not read. */
  z.object({ type: z.literal('error'), id: Id.nullable(), error: ErrorPayloadSchema }),
]);
export type FromGeo = z.infer<typeof FromGeoSchema>;
