/**
 * @module renderer/panels/QuestionPanel
 * Ask a question about the active scene: the first-run explanation when no model is installed, example
 * questions for the installed model variant, the area of interest, progress with stage and ETA (and
 * cancel), and the question history of the scene (show, re-run, delete).
 */
import { useState } from 'react';
import type { Aoi, ModelStatus } from '../../shared/api/dto';
import type { ResultView, RunningJob } from '../state';
import { exampleQuestions } from '../examples';
import { formatArea, formatDuration } from '../format';
import { ResultTools } from './ResultTools';
import type { FirstRunGuide } from '../../shared/api/modelDto';
import { FirstRunGuideView } from './FirstRunGuide';

export type AoiMode = 'scene' | 'view' | 'rectangle' | 'polygon';
export type { Strategy } from '../../shared/strategies';
import type { Strategy } from '../../shared/strategies';

const STRATEGIES: ReadonlyArray<readonly [Strategy, string]> = [
  ['auto', 'Automatic'],
  ['view', 'One pass over the area (fast, coarser on large areas)'],
  ['tiled', 'Full resolution, tile by tile (slow, sharpest)'],
  ['coarse-to-fine', 'Coarse pass, then full resolution where something was found'],
];

export interface QuestionPanelProps {
  model: ModelStatus | null;
  hasLayer: boolean;
  /** false when the scene has no CRS: polygons are in pixels and areas are unknown (not "0 m²"). */
  areasKnown: boolean;
  job: RunningJob | null;
  aoiMode: AoiMode;
  drawnAoi: Aoi | null;
  results: ResultView[];
  selectedResultId: string | null;
  notice: string | null;
  onAoiMode(mode: AoiMode): void;
  onAsk(question: string, strategy: Strategy): void;
  /** Focus, typing or an example in the question box: the view can be read meanwhile (`useViewPrefetch`). */
  onQuestionActivity?(strategy: Strategy): void;
  /** Another detail (strategy) chosen: its first pass can be read before the question (`useViewPrefetch`). */
  onDetail?(strategy: Strategy): void;
  onCancel(): void;
  onRerun(result: ResultView): void;
  onDelete(resultId: string): void;
  onSelect(resultId: string): void;
  onVisible(resultId: string, visible: boolean): void;
  onHeatmap(resultId: string, on: boolean): void;
  onRevectorize(resultId: string, threshold: number, minAreaM2: number): Promise<void>;
  onZoom(resultId: string): void;
  onExport(): void;
  onModelSettings(): void;
  /** Opens Model & device at the Get cards (the first-run guide's one click). */
  onGetModel(): void;
  /** How to get a model (the model manager's first-run guide); shown when no model is ready. */
  guide?: FirstRunGuide | null;
}

function NoModel(props: { model: ModelStatus; guide: FirstRunGuide | null; onModelSettings(): void; onGetModel(): void }) {
  return (
    <div className="first-run" data-testid="no-model">
      <h3>{props.model.state === 'invalid' ? 'The model bundle cannot be used' : 'No model installed yet'}</h3>
      {props.guide ? null : (
        <p>
          SegEarth answers questions with a SegEarth-R1 model bundle (a folder with <code>manifest.json</code> and ONNX graphs). You can open and
          inspect rasters without it.
        </p>
      )}
      {props.model.problem ? <p className="error-text">{props.model.problem}</p> : null}
      {props.guide ? (
        <FirstRunGuideView guide={props.guide} onGet={props.onGetModel} />
      ) : (
        <p>
          Install one with <code>segearth models import &lt;folder or archive&gt;</code> or <code>segearth models download &lt;url&gt;</code> (see
          “Installing the SegEarth-R1 model” in the README), or choose its folder:
        </p>
      )}
      <button type="button" onClick={props.onModelSettings}>
        Model &amp; device…
      </button>
    </div>
  );
}

export function QuestionPanel(props: QuestionPanelProps) {
  const [question, setQuestion] = useState('');
  const [strategy, setStrategy] = useState<Strategy>('auto');
  const model = props.model;
  const ready = model?.state === 'ready';
  const examples = model ? exampleQuestions(model.variant, model.examples) : [];
  const progress = props.job?.progress;
  const needsDrawing = (props.aoiMode === 'rectangle' || props.aoiMode === 'polygon') && !props.drawnAoi;
  const selected = props.results.find((r) => r.summary.id === props.selectedResultId) ?? null;

  return (
    <section className="panel question-panel" aria-label="Question">
      <header className="panel-title">
        <span>Ask about this scene</span>
      </header>
      {model && !ready ? <NoModel model={model} guide={props.guide ?? null} onModelSettings={props.onModelSettings} onGetModel={props.onGetModel} /> : null}
      {ready && !props.hasLayer ? <p className="hint">Open a raster first, then ask a question about it.</p> : null}
      {ready && props.hasLayer ? (
        <>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              if (question.trim()) props.onAsk(question.trim(), strategy);
            }}
          >
            <textarea
              value={question}
              onChange={(e) => {
                setQuestion(e.target.value);
                props.onQuestionActivity?.(strategy);
              }}
              onFocus={() => props.onQuestionActivity?.(strategy)}
              placeholder="e.g. Where could flood water spread?"
              rows={3}
              maxLength={2000}
              aria-label="Question"
              data-testid="question-input"
              onKeyDown={(e) => {
                if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && question.trim()) props.onAsk(question.trim(), strategy);
              }}
            />
            {examples.length > 0 ? (
              <div className="examples">
                {examples.map((q) => (
                  <button
                    key={q}
                    type="button"
                    className="chip"
                    onClick={() => {
                      setQuestion(q);
                      props.onQuestionActivity?.(strategy);
                    }}
                  >
                    {q}
                  </button>
                ))}
              </div>
            ) : null}
            <fieldset className="aoi">
              <legend>Area of interest</legend>
              {(
                [
                  ['scene', 'Whole scene'],
                  ['view', 'Current view'],
                  ['rectangle', 'Rectangle'],
                  ['polygon', 'Polygon'],
                ] as const
              ).map(([mode, label]) => (
                <label key={mode}>
                  <input type="radio" name="aoi" value={mode} checked={props.aoiMode === mode} onChange={() => props.onAoiMode(mode)} data-testid={`aoi-${mode}`} />
                  {label}
                </label>
              ))}
              {needsDrawing ? <p className="hint">Draw the {props.aoiMode} on the map{props.aoiMode === 'polygon' ? ' (double-click to finish)' : ''}.</p> : null}
            </fieldset>
            <label className="block">
              Detail{' '}
              <select value={strategy} onChange={(e) => {
                  const next = e.target.value as Strategy;
                  setStrategy(next);
                  // Another detail reads another first pass: read it instead.
                  props.onDetail?.(next);
                  if (question.trim()) props.onQuestionActivity?.(next);
                }} data-testid="strategy">
                {STRATEGIES.map(([id, label]) => (
                  <option key={id} value={id}>
                    {label}
                  </option>
                ))}
              </select>
            </label>
            <button type="submit" className="primary" disabled={!!props.job || !question.trim() || needsDrawing} data-testid="ask">
              Ask
            </button>
          </form>
          {props.job ? (
            <div className="progress" data-testid="progress">
              <div className="progress-text">
                <strong>{progress?.message ?? 'Starting…'}</strong>
                {progress && progress.tileCount > 1 && !/tile/i.test(progress.message) ? (
                  <span>
                    {' '}
                    · tile {Math.min(progress.tileIndex + 1, progress.tileCount)} of {progress.tileCount}
                  </span>
                ) : null}
                {progress?.etaSeconds != null ? <span> · about {formatDuration(progress.etaSeconds)} left</span> : null}
              </div>
              <progress max={1} value={progress?.fraction ?? 0} />
              <button type="button" onClick={props.onCancel} disabled={props.job.cancelling} data-testid="cancel">
                {props.job.cancelling ? 'Cancelling…' : 'Cancel'}
              </button>
            </div>
          ) : null}
        </>
      ) : null}
      {props.notice ? <p className="notice" data-testid="notice">{props.notice}</p> : null}
      {selected ? (
        <ResultTools
          key={selected.summary.id}
          view={selected}
          areasKnown={props.areasKnown}
          onHeatmap={props.onHeatmap}
          onRevectorize={props.onRevectorize}
          onZoom={props.onZoom}
          onExport={props.onExport}
        />
      ) : null}
      {props.results.length > 0 ? (
        <>
          <h4>History of this scene</h4>
          <ul className="history" data-testid="history">
            {props.results.map((r) => (
              <li key={r.summary.id} className={r.summary.id === props.selectedResultId ? 'selected' : ''}>
                <span className="swatch" style={{ background: r.color }} />
                <input type="checkbox" checked={r.visible} onChange={(e) => props.onVisible(r.summary.id, e.target.checked)} aria-label="Show result" />
                <button type="button" className="history-question" onClick={() => props.onSelect(r.summary.id)} title={r.summary.question}>
                  {r.summary.question}
                </button>
                <span className="history-count">
                  {r.summary.featureCount === 0 ? 'nothing found' : `${r.summary.featureCount} · ${props.areasKnown ? formatArea(r.summary.totalAreaM2) : 'area unknown'}`}
                </span>
                <button type="button" className="icon" title="Ask again" disabled={!!props.job || !ready} onClick={() => props.onRerun(r)}>
                  ↻
                </button>
                <button type="button" className="icon" title="Delete this result" onClick={() => props.onDelete(r.summary.id)}>
                  ✕
                </button>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
