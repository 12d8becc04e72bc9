/**
 * @module renderer/panels/useBatch
 * The batch this session runs, as the batch panel shows it: its status and end (kept up to date by the
 * `batch.progress` / `batch.finished` events; a snapshot from `batch.status` or `batch.list` never overwrites
 * an event of the same batch, which is newer), the problem to show, and the actions — start, pause, resume,
 * cancel. The panel keeps only its form; which view it shows (form, progress, report) follows from here.
 */
import { useCallback, useEffect, useState } from 'react';
import type { ApiClient } from '../../shared/api/contract';
import type { BatchFinished, BatchStartRequest, BatchStatus } from '../../shared/api/batchDto';
import type { ErrorPayload } from '../../shared/errors';
import { errorPayloadOf } from '../errorPayload';

export interface BatchRun {
  status: BatchStatus | null;
  finished: BatchFinished | null;
  /** A batch is running (or pausing, cancelling). */
  running: boolean;
  /** Show the form (no batch yet, or the last one could not run) rather than the run and its report. */
  showForm: boolean;
  setShowForm(show: boolean): void;
  problem: ErrorPayload | null;
  setProblem(problem: ErrorPayload | null): void;
  /** A start is on its way. */
  busy: boolean;
  start(request: BatchStartRequest): Promise<void>;
  control(action: 'pause' | 'resume' | 'cancel'): void;
}

export function useBatch(client: ApiClient, onTestEvent: (name: string) => void): BatchRun {
  const [status, setStatus] = useState<BatchStatus | null>(null);
  const [finished, setFinished] = useState<BatchFinished | null>(null);
  const [showForm, setShowForm] = useState(true);
  const [problem, setProblem] = useState<ErrorPayload | null>(null);
  const [busy, setBusy] = useState(false);

  // Reattach to the running (or last) batch of this session.
  useEffect(() => {
    void client.batch.list({}).then((records) => {
      const last = records[0];
      if (!last) return;
      const id = last.status.batchId;
      setStatus((s) => (s?.batchId === id ? s : last.status));
      setFinished((f) => (f?.batchId === id ? f : last.finished));
      setShowForm(last.finished !== null && last.finished.outcome === 'failed');
    });
  }, [client]);

  useEffect(() => {
    const offProgress = client.on('batch.progress', (s) => {
      // One batch runs at a time: every event is about the batch this panel shows (or a newer one).
      setStatus(s);
      onTestEvent(s.paused ? 'batch-paused' : 'batch-progress');
    });
    const offFinished = client.on('batch.finished', (f) => {
      setFinished(f);
      if (f.outcome === 'failed') {
        setShowForm(true);
        if (f.error) setProblem({ code: f.error.code, message: `The batch could not run: ${f.error.message}`, ...(f.error.hint ? { hint: f.error.hint } : {}) });
      }
      onTestEvent('batch-finished');
    });
    return () => {
      offProgress();
      offFinished();
    };
  }, [client, onTestEvent]);

  const start = useCallback(
    async (request: BatchStartRequest) => {
      setBusy(true);
      setProblem(null);
      try {
        const { batchId } = await client.batch.start(request);
        // Events of this batch may arrive before this response, or while `status` is on its way: the status
        // snapshot was taken before them, so it only fills in what no event brought (a short batch can finish
        // in between — overwriting its `finished` with the snapshot's null hid the report).
        setFinished((f) => (f?.batchId === batchId ? f : null));
        setStatus((s) => (s?.batchId === batchId ? s : null));
        const record = await client.batch.status({ batchId });
        setStatus((s) => (s?.batchId === batchId ? s : record.status));
        setFinished((f) => (f?.batchId === batchId ? f : record.finished));
        setShowForm(false);
        onTestEvent('batch-started');
      } catch (err) {
        setProblem(errorPayloadOf(err));
        onTestEvent('batch-error');
      } finally {
        setBusy(false);
      }
    },
    [client, onTestEvent],
  );

  const control = (action: 'pause' | 'resume' | 'cancel'): void => {
    if (!status) return;
    void client.batch[action]({ batchId: status.batchId })
      .then(setStatus)
      .catch((err: unknown) => setProblem(errorPayloadOf(err)));
  };

  const running = status !== null && finished?.batchId !== status.batchId && !['finished', 'cancelled', 'failed'].includes(status.state);
  return { status, finished, running, showForm, setShowForm, problem, setProblem, busy, start, control };
}
