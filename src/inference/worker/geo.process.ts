/**
 * @module inference/worker/geo.process
 * Child-process entry of the geo process (see `geoProtocol.ts`): runs `scene/result.answerPolygons` — the same
 * polygon step as in-process — for the app, so that vectorizing a large probability raster never blocks the
 * thread that answers requests. Started by `geoClient.GeoWorker` with `child_process.fork`; exits when its
 * parent goes away.
 */
import { z } from 'zod';
import { SegEarthError, toErrorPayload } from '../../shared/errors.js';
import { answerPolygons } from '../scene/result.js';
import { featureMessages } from './geoFeatureStream.js';
import { FromGeoSchema, ToGeoSchema, type FromGeo, type ToGeo } from './geoProtocol.js';

const parent = process.send?.bind(process);
if (!parent) throw new Error('geo.process must be started with child_process.fork (it needs an IPC channel).');

function send(message: FromGeo): Promise<void> {
  return new Promise((resolve, reject) => {
    parent!(FromGeoSchema.parse(message), undefined, undefined, (err: Error | null) => (err ? reject(err) : resolve()));
  });
}

/** Requests in progress, by id: `cancel` aborts them. */
const controllers = new Map<number, AbortController>();
/** Requests waiting for the app's `next`, by id. */
const nextWanted = new Map<number, () => void>();

async function polygons(request: Extract<ToGeo, { type: 'polygons' }>): Promise<void> {
  const controller = new AbortController();
  controllers.set(request.id, controller);
  try {
    const { id, probabilityPath, threshold, minAreaM2, provenance } = request;
    const answer = await answerPolygons(probabilityPath, { threshold, minAreaM2, signal: controller.signal }, provenance);
    for (const chunk of featureMessages(answer.features)) {
      if (controller.signal.aborted) return;
      await send({ type: 'features', id, ...chunk });
      // Flow control: the next chunk when the app asks for it (a `cancel` releases it too).
      await new Promise<void>((resolve) => nextWanted.set(id, resolve));
    }
    if (controller.signal.aborted) return;
    await send({ type: 'done', id, crsWkt: answer.crsWkt, crsCode: answer.crsCode });
  } catch (err) {
    await send({ type: 'error', id: request.id, error: toErrorPayload(err) });
  } finally {
    controllers.delete(request.id);
    nextWanted.delete(request.id);
  }
}

process.on('message', (raw: unknown) => {
  const parsed = ToGeoSchema.safeParse(raw);
  if (!parsed.success) {
    // The request it belongs to, when it has a readable id, fails; nothing else does.
    const id = z.object({ id: z.number().int().nonnegative() }).safeParse(raw);
    const error = new SegEarthError('INTERNAL', `Bad message to the geo process: ${parsed.error.message}`);
    void send({ type: 'error', id: id.success ? id.data.id : null, error: toErrorPayload(error) });
    return;
  }
  const message = parsed.data;
  switch (message.type) {
    case 'cancel':
    case 'next':
      if (message.type === 'cancel') controllers.get(message.id)?.abort();
      // A request waiting for `next` goes on (after a cancel: to its end, at once).
      nextWanted.get(message.id)?.();
      nextWanted.delete(message.id);
      return;
    case 'polygons':
      void polygons(message);
  }
});
// The app went away (closed, crashed, killed): nothing is left to answer.
process.on('disconnect', () => process.exit(0));
void send({ type: 'ready' });
