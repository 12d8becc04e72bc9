/**
 * @module inference/worker/geoProtocol
 * Messages between the app (server or Electron main) and the geo process (`geo.process.ts`), as zod schemas,
 * validated on arrival on both sides. The geo process runs the polygon step of an answer
 * (`scene/result.answerPolygons`: vectorizing, then the mean probability of each polygon) — long, synchronous
 * GDAL and JavaScript work that must not run on the thread that answers requests. It is a child process, not a
 * worker thread: gdal-async cannot be loaded in a second thread of a process.
 *
 * `polygons {id, …}` → `features {id, …}` chunks (binary: see `geoFeatureStream`), each sent after the app asked for it with `next {id}`
 * (the app asks once it has validated the previous one and given other work a turn: a large answer is parsed and
 * checked in small slices of the event loop, never in one long one; without this flow control the chunks queue
 * in the pipe and are all parsed in one turn) → `done {id, crsWkt, crsCode}`, or `error {id, error}` (the
 * error's code kept). `cancel {id}` aborts the request's AbortSignal. The channel uses Node's `advanced`
 * serialization (structured clone), so typed arrays cross it as copies, without a JSON parse.
 */
import { z } from 'zod';
import { ErrorPayloadSchema } from '../../shared/errorPayloadSchema.js';
import { VectorFeatureSchema } from '../../shared/featureSet.js';
import { chunkProblem } from './geoFeatureStream.js';

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
 * A `features` message's data (`geoFeatureStream`): heads checked by zod, the typed arrays checked in one pass
 * (`chunkProblem`) instead of zod's schema per position, which takes ~20× as long — on the thread that answers
 * requests, for answers of millions of positions.
 */
const FeatureChunkSchema = {
  features: z.array(VectorFeatureSchema.omit({ geometry: true }).extend({ type: z.enum(['Polygon', 'MultiPolygon']) })),
  polygons: z.instanceof(Uint32Array),
  rings: z.instanceof(Uint32Array),
  positions: z.instanceof(Uint32Array),
  coordinates: z.instanceof(Float64Array),
};

export const FromGeoSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z
    .object({ type: z.literal('features'), id: Id, ...FeatureChunkSchema })
    .superRefine((chunk, ctx) => {
      const problem = chunkProblem(chunk);
      if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
    }),
  z.object({ type: z.literal('done'), id: Id, crsWkt: z.string().nullable(), crsCode: z.string().nullable() }),
  /** id null: a message the geo process could not read. */
  z.object({ type: z.literal('error'), id: Id.nullable(), error: ErrorPayloadSchema }),
]);
export type FromGeo = z.infer<typeof FromGeoSchema>;
