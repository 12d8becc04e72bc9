/**
 * @module renderer/useViewPrefetch
 * Reads the question's view before the question: the image side of a model pass does not depend on the
 * question (`inference.prefetchView`: active layer, the AOI tool's area, the chosen detail), so Ask then only
 * runs the question. Two moments start it, with a scene open and the model loaded:
 * - **the view is known** — a scene opened or made active, an area drawn, another detail chosen, the model
 *   ready: the analyst looks at the scene before asking, and that time reads the view (as SAM demos encode
 *   the image on load). Not for the "current view" AOI tool, whose area moves with every pan and zoom, and
 *   only once the model has warmed up;
 * - **the first activity in the question box** (focus, typing, an example chosen): for the "current view"
 *   tool, and whenever the earlier read was stopped or skipped.
 * Once per view (scene, AOI, detail): typing on does not ask again; none while a question runs; a view that
 * was cancelled or skipped may be asked for again. The status bar tells what is happening (`note`).
 */
import { useCallback, useEffect, useRef, useState, type MutableRefObject } from 'react';
import type { ApiClient } from '../shared/api/contract';
import type { Aoi } from '../shared/api/dto';
import type { Strategy } from '../shared/strategies';
import type { WorkspaceState } from './state';

/** How long after the first activity the request goes out (focus and the first key come together). */
const COALESCE_MS = 150;
/**
 * How long a newly known view waits before it is read: flicking through layers reads only the one stopped
 * at, and the scene's first map tiles get a head start on the model's pass.
 */
const SETTLE_MS = 400;

export interface ViewPrefetch {
  /** Called on every activity in the question box, with the chosen detail (strategy). */
  onQuestionActivity(strategy: Strategy): void;
  /** Called when another detail (strategy) is chosen, with or without a question in the box. */
  onDetail(strategy: Strategy): void;
  /** What the status bar says about it; null when nothing is being read or ready. */
  note: string | null;
}

export function useViewPrefetch(deps: {
  client: ApiClient;
  stateRef: MutableRefObject<WorkspaceState>;
  aoiFor(layerId: string): Aoi | null;
  testEvent: MutableRefObject<(name: string) => void>;
  jobRunning: boolean;
  /** Changes when the view a question would be about may change (active layer, AOI tool, drawn AOI). */
  viewContext: string;
  /** Whether the view is read as soon as it is known: the model has loaded and warmed up, and the AOI tool is
   * not "current view". */
  readWhenKnown: boolean;
}): ViewPrefetch {
  const { client, stateRef, aoiFor, testEvent } = deps;
  const [phase, setPhase] = useState<{ view: string; reading: boolean } | null>(null);
  const lastView = useRef<string | null>(null);
  /** The detail the next question will use, as the question panel last said ('auto' until it says). */
  const [detail, setDetail] = useState<Strategy>('auto');
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => void (timer.current && clearTimeout(timer.current)), []);

  const start = useCallback(
    (strategy: Strategy) => {
      const s = stateRef.current;
      const layerId = s.activeLayerId;
      const model = s.system?.model;
      if (!layerId || s.job || model?.state !== 'ready' || model.load === 'not-loaded') return;
      let aoi: Aoi | null;
      try {
        aoi = aoiFor(layerId);
      } catch {
        return; // the map is not ready yet
      }
      if (!aoi) return; // a drawing tool with nothing drawn yet
      const view = JSON.stringify([layerId, aoi, strategy]);
      if (view === lastView.current) return;
      lastView.current = view;
      setPhase({ view, reading: true });
      testEvent.current('prefetch-started');
      const forget = (): void => {
        if (lastView.current !== view) return;
        lastView.current = null;
        setPhase(null);
      };
      client.inference.prefetchView({ layerId, aoi, strategy }).then(
        (result) => {
          testEvent.current(`prefetch-${result.outcome}`);
          if (result.outcome === 'read' || result.outcome === 'cached') setPhase((p) => (p?.view === view ? { view, reading: false } : p));
          else forget();
        },
        () => {
          testEvent.current('prefetch-failed');
          forget(); // the question itself reports what is wrong
        },
      );
    },
    [client, stateRef, aoiFor, testEvent],
  );

  const onQuestionActivity = useCallback(
    (strategy: Strategy) => {
      setDetail(strategy);
      if (timer.current) return;
      timer.current = setTimeout(() => {
        timer.current = null;
        start(strategy);
      }, COALESCE_MS);
    },
    [start],
  );

  // A question started (it reads or finds the view itself), or another scene or area was chosen: nothing to
  // tell until the view is read again.
  const { jobRunning, viewContext, readWhenKnown } = deps;
  useEffect(() => {
    setPhase(null);
    if (!jobRunning) lastView.current = null;
  }, [jobRunning, viewContext]);

  // The view is known (another scene, area or detail, or the model just became ready): read it once it has
  // settled. Not after a question ends (its view is in the cache already, or it was not cached on purpose).
  useEffect(() => {
    if (!readWhenKnown) return;
    const settle = setTimeout(() => {
      if (!stateRef.current.job) start(detail);
    }, SETTLE_MS);
    return () => clearTimeout(settle);
  }, [readWhenKnown, viewContext, detail, start, stateRef]);

  const note = !phase || jobRunning ? null : phase.reading ? 'Reading the view… (ready for your question)' : 'View read: ready for your question';
  return { onQuestionActivity, onDetail: setDetail, note };
}
