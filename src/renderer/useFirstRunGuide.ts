/**
 * @module renderer/useFirstRunGuide
 * Fetches the model manager's first-run guide (how to get a SegEarth-R1 bundle) once no model is ready, so
 * the question panel can explain it instead of failing on the first question.
 */
import { useEffect, useState } from 'react';
import type { ApiClient } from '../shared/api/contract';
import type { FirstRunGuide } from '../shared/api/modelDto';

export function useFirstRunGuide(client: ApiClient, modelState: string | null): FirstRunGuide | null {
  const [guide, setGuide] = useState<FirstRunGuide | null>(null);
  const needed = modelState !== null && modelState !== 'ready';
  useEffect(() => {
    if (!needed) return;
    let live = true;
    client.models
      .guide({})
      .then((g) => {
        if (live) setGuide(g);
      })
      .catch(() => undefined); // the panel falls back to its short text
    return () => {
      live = false;
    };
  }, [client, needed]);
  return needed ? guide : null;
}
