/**
 * @module inference/worker/geoProtocol
 * Messages between the app (server or Electron main) and the geo process (`geo.process.ts`), as zod schemas,
 * validated on arrival on both sides. The geo process runs the polygon step of an answer
 * (`scene/result.answerPolygons`: vectorizing, then the mean probability of each polygon) — long, synchronous
 * GDAL and JavaScript work that must not run on the thread that answers requests. It is a child process, not a
 * worker thread: gdal-async cannot be loaded in a second thread of a process.
 *
 * `polygons {id, …}` → `features {id, features}` chunks (each validated as it arrives, so a large answer is
 * parsed and checked in small slices of the event loop, never in one long one) → `done {id, crsWkt, crsCode}`,
 * or `error {id, error}` (the error's code kept). `cancel {id}` aborts the request's AbortSignal.
 */
import { z } from 'zod';
import { ErrorPayloadSchema } from '../../shared/errors.js';
import { VectorFeatureSchema } from '../../shared/featureSet.js';

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
  z.object({ type: z.literal('cancel'), id: Id }),
]);
export type ToGeo = z.infer<typeof ToGeoSchema>;

/**
 * At most this many features, or positions, per `features` message (one feature more when a single one is
 * larger): each message is parsed and validated in one turn of the app's event loop, ~10 ms at these sizes.
 */
export const MESSAGE_LIMITS = { features: 500, positions: 20_000 } as const;

export const FromGeoSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('features'), id: Id, features: z.array(VectorFeatureSchema) }),
  z.object({ type: z.literal('done'), id: Id, crsWkt: z.string().nullable(), crsCode: z.string().nullable() }),
  /** id null: a message the geo process could not read. */
  z.object({ type: z.literal('error'), id: Id.nullable(), error: ErrorPayloadSchema }),
]);
export type FromGeo = z.infer<typeof FromGeoSchema>;
