/**
 * @module renderer/useQuestionJobs
 * Questions as jobs, on the renderer's side: asking (the job's id arrives with the answer to `inference.ask`,
 * its events may arrive before it — they are kept and replayed), following its `inference.job` events into
 * the workspace state, drawing the answer's polygons on the map, and re-drawing them when the threshold or
 * minimum area moves (`inference.revectorize`; the model does not run again).
 */
import { useCallback, useEffect, useRef } from 'react';
import type { ApiClient } from '../shared/api/contract';
import type { AskRequest, JobEvent } from '../shared/api/dto';
import { resultColor } from './map/resultLayers';
import type { WorkspaceHandles } from './workspaceHandles';

export interface QuestionJobsDeps extends WorkspaceHandles {
  client: ApiClient;
}

export interface QuestionJobs {
  /** Asks; the job shows in the question panel until its result or error. */
  submit(request: AskRequest & { layerId: string }): Promise<void>;
  revectorize(resultId: string, threshold: number, minAreaM2: number): Promise<void>;
}

export function useQuestionJobs({ client, dispatch, stateRef, controllerRef, testEvent, showError }: QuestionJobsDeps): QuestionJobs {
  const currentJob = useRef<string | null>(null);
  const earlyEvents = useRef(new Map<string, JobEvent[]>());

  const onJobEvent = useCallback(
    (event: JobEvent) => {
      if (currentJob.current !== event.jobId) {
        const list = earlyEvents.current.get(event.jobId) ?? [];
        list.push(event);
        earlyEvents.current.set(event.jobId, list);
        return;
      }
      const color = resultColor(stateRef.current.results.length);
      dispatch({ type: 'job-event', event, color });
      if (event.type === 'progress') return;
      currentJob.current = null;
      if (event.type === 'error') {
        testEvent.current(event.error.code === 'CANCELLED' ? 'cancelled' : 'error');
        return;
      }
      client.inference
        .getFeatures({ resultId: event.result.id })
        .then((features) => {
          controllerRef.current?.showResult(event.result, features, color);
          testEvent.current('result');
        })
        .catch((err: unknown) => showError(err, 'Could not load the polygons of the result'));
    },
    [client, dispatch, stateRef, controllerRef, testEvent, showError],
  );

  useEffect(() => client.on('inference.job', onJobEvent), [client, onJobEvent]);

  const submit = useCallback(
    async (request: AskRequest & { layerId: string }) => {
      try {
        const { jobId } = await client.inference.ask(request);
        currentJob.current = jobId;
        dispatch({ type: 'job-started', job: { jobId, layerId: request.layerId, question: request.question, progress: null, cancelling: false } });
        testEvent.current('job-started');
        const early = earlyEvents.current.get(jobId) ?? [];
        earlyEvents.current.delete(jobId);
        for (const e of early) onJobEvent(e);
      } catch (err) {
        showError(err, 'The question could not be asked');
      }
    },
    [client, dispatch, testEvent, onJobEvent, showError],
  );

  const revectorize = useCallback(
    async (resultId: string, threshold: number, minAreaM2: number) => {
      try {
        const { result, features } = await client.inference.revectorize({ resultId, threshold, minAreaM2 });
        const view = stateRef.current.results.find((r) => r.summary.id === resultId);
        controllerRef.current?.showResult(result, features, view?.color ?? resultColor(0));
        dispatch({ type: 'result-updated', summary: result });
        testEvent.current('revectorized');
      } catch (err) {
        showError(err, 'Could not redraw the polygons');
      }
    },
    [client, dispatch, stateRef, controllerRef, testEvent, showError],
  );

  return { submit, revectorize };
}
