/**
 * @module renderer/panels/ResultTools
 * The selected result: counts and area, the plain "nothing found" answer, threshold and minimum-area sliders
 * that redraw the polygons live from the cached probability raster (no model re-run), the heatmap toggle.
 */
import { useRef, useState } from 'react';
import type { ResultView } from '../state';
import { formatArea, formatDuration, formatPercent } from '../format';
import { nothingFoundMessage } from '../messages';

/** Slider position 0..100 ↔ minimum area 0..100 000 m² (logarithmic, so small areas stay adjustable). */
export function sliderToArea(position: number): number {
  return position <= 0 ? 0 : Math.round(10 ** (position / 20));
}
export function areaToSlider(m2: number): number {
  return m2 <= 1 ? 0 : Math.min(100, Math.round(20 * Math.log10(m2)));
}

export function ResultTools(props: {
  view: ResultView;
  /** false for a scene without CRS (pixel coordinates): no area can be given. */
  areasKnown: boolean;
  onHeatmap(resultId: string, on: boolean): void;
  onRevectorize(resultId: string, threshold: number, minAreaM2: number): Promise<void>;
  onZoom(resultId: string): void;
  onExport(): void;
}) {
  const { summary } = props.view;
  const [threshold, setThreshold] = useState(summary.threshold);
  const [areaPos, setAreaPos] = useState(areaToSlider(summary.minAreaM2));
  const [busy, setBusy] = useState(false);
  // Latest value wins: while one re-vectorisation runs, only the newest slider position is queued.
  const pending = useRef<{ threshold: number; minArea: number } | null>(null);
  const running = useRef(false);

  const request = (t: number, pos: number): void => {
    pending.current = { threshold: t, minArea: sliderToArea(pos) };
    if (running.current) return;
    running.current = true;
    setBusy(true);
    void (async () => {
      while (pending.current) {
        const next = pending.current;
        pending.current = null;
        await props.onRevectorize(summary.id, next.threshold, next.minArea).catch(() => undefined);
      }
      running.current = false;
      setBusy(false);
    })();
  };

  return (
    <div className="result-tools" data-testid="result-tools">
      <div className="result-head">
        <strong>{summary.question}</strong>
        <div className="result-meta">
          {summary.modelId} on {summary.executionProvider} · {formatDuration(summary.durationMs / 1000)}
        </div>
      </div>
      {summary.featureCount === 0 ? (
        <p className="nothing" data-testid="nothing-found">
          {nothingFoundMessage(summary.question, summary.maxProbability, summary.threshold)}
        </p>
      ) : (
        <p className="found" data-testid="found">
          {summary.featureCount} area{summary.featureCount === 1 ? '' : 's'},{' '}
          {props.areasKnown ? `${formatArea(summary.totalAreaM2)} in total.` : 'area unknown: the scene has no CRS, the polygons are in pixel coordinates.'}
        </p>
      )}
      <label className="slider">
        <span>
          Threshold <output data-testid="threshold-value">{formatPercent(threshold)}</output>
        </span>
        <input
          type="range"
          min={0.05}
          max={0.95}
          step={0.01}
          value={threshold}
          data-testid="threshold"
          onChange={(e) => {
            const t = Number(e.target.value);
            setThreshold(t);
            request(t, areaPos);
          }}
        />
      </label>
      <label className="slider">
        <span>
          Minimum area <output>{formatArea(sliderToArea(areaPos))}</output>
        </span>
        <input
          type="range"
          min={0}
          max={100}
          step={1}
          value={areaPos}
          data-testid="min-area"
          onChange={(e) => {
            const pos = Number(e.target.value);
            setAreaPos(pos);
            request(threshold, pos);
          }}
        />
      </label>
      <div className="result-actions">
        <label>
          <input
            type="checkbox"
            checked={props.view.heatmap}
            disabled={!summary.probability}
            onChange={(e) => props.onHeatmap(summary.id, e.target.checked)}
            data-testid="heatmap"
          />
          Probability heatmap
        </label>
        <button type="button" className="small" onClick={() => props.onZoom(summary.id)} disabled={summary.featureCount === 0}>
          Zoom to
        </button>
        <button type="button" className="small" onClick={props.onExport} data-testid="export-open">
          Export…
        </button>
        {busy ? <span className="hint">redrawing…</span> : null}
      </div>
    </div>
  );
}
