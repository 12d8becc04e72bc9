/**
 * @module renderer/panels/BatchPanel
 * File → Batch process folder…: the same question(s) over every scene of a folder. The analyst chooses the
 * input folder (with include / exclude globs), one or more questions, the scene strategy, the output folder
 * and formats, threshold and minimum area; then follows overall and per-scene progress with an ETA, can
 * pause, resume or cancel, and gets a per-scene table (done / failed with the error) with totals and where
 * the outputs are. The panel floats over the map and does not block the workspace: it can be closed while
 * the batch runs and reopened (it reattaches to the running batch). The run itself (status, report, actions)
 * is `useBatch`; this module is the form and the views.
 */
import { useCallback, useState } from 'react';
import type { ApiClient } from '../../shared/api/contract';
import type { BatchFinished, BatchFormat, BatchStartRequest, BatchStrategy } from '../../shared/api/batchDto';
import { formatArea, formatDuration, formatPercent } from '../format';
import { FolderPicker } from './FolderPicker';
import './batch.css';
import { errorPayloadOf } from '../errorPayload';
import { useBatch } from './useBatch';

const FORMATS: Array<{ id: BatchFormat; label: string; note: string }> = [
  { id: 'gpkg', label: 'GeoPackage', note: 'scene CRS' },
  { id: 'geojson', label: 'GeoJSON', note: 'lon/lat (EPSG:4326)' },
  { id: 'shp', label: 'Shapefile', note: 'scene CRS' },
  { id: 'mask', label: 'Probability GeoTIFF', note: 'float32 on the scene grid' },
];

const STAGES: Record<string, string> = {
  starting: 'starting',
  'loading-model': 'loading the model',
  reading: 'reading the scene',
  image: 'encoding the image',
  question: 'reading the question',
  tiles: 'running tiles',
  stitching: 'stitching tiles',
  vectorizing: 'drawing polygons',
  vectorize: 'drawing polygons',
};


const lines = (text: string): string[] => text.split('\n').map((l) => l.trim()).filter(Boolean);

export function BatchPanel(props: {
  client: ApiClient;
  /** Desktop: native folder dialogs; browser: the server's folder picker. */
  canPickNative: boolean;
  defaultFolder: string;
  defaultThreshold: number;
  defaultMinAreaM2: number;
  onClose(): void;
  /** Test hook events ('batch-started', 'batch-progress', 'batch-finished', 'batch-error'). */
  onTestEvent(name: string): void;
}) {
  const { client, onTestEvent } = props;
  const [inputFolder, setInputFolder] = useState(props.defaultFolder);
  const [include, setInclude] = useState('');
  const [exclude, setExclude] = useState('');
  const [questions, setQuestions] = useState<string[]>(['']);
  const [strategy, setStrategy] = useState<BatchStrategy>('tiled');
  const [outputFolder, setOutputFolder] = useState(props.defaultFolder ? `${props.defaultFolder.replace(/[\\/]+$/, '')}/segearth-batch` : '');
  const [formats, setFormats] = useState<BatchFormat[]>(['gpkg']);
  const [merged, setMerged] = useState(true);
  const [threshold, setThreshold] = useState(props.defaultThreshold);
  const [minArea, setMinArea] = useState(props.defaultMinAreaM2);
  const [resume, setResume] = useState(false);
  const [picking, setPicking] = useState<'input' | 'output' | null>(null);

  const { status, finished, running, showForm, setShowForm, problem, setProblem, busy, start: startBatch, control } = useBatch(client, onTestEvent);
  const validQuestions = questions.map((q) => q.trim()).filter(Boolean);
  const canStart = !running && !busy && inputFolder.trim() !== '' && outputFolder.trim() !== '' && validQuestions.length > 0 && (formats.length > 0 || merged);

  /** Starts a batch with the form's settings (`override` replaces some, e.g. those of a batch being resumed). */
  const start = useCallback(
    (override?: Partial<BatchStartRequest>) =>
      startBatch({
        inputFolder: inputFolder.trim(),
        outputFolder: outputFolder.trim(),
        questions: validQuestions,
        strategy,
        formats,
        merged,
        threshold,
        minAreaM2: minArea,
        include: lines(include),
        exclude: lines(exclude),
        resume,
        ...override,
      }),
    [startBatch, inputFolder, outputFolder, validQuestions, strategy, formats, merged, threshold, minArea, include, exclude, resume],
  );

  /** Continues the batch in `folder` with the settings it was started with (its batch.json). */
  const resumeFolder = useCallback(
    async (folder: string) => {
      setProblem(null);
      try {
        const info = await client.batch.inspect({ outputFolder: folder });
        const plan = info.plan;
        if (!plan) {
          setProblem({ code: 'BAD_ARGUMENT', message: `${info.outputFolder} holds no batch to resume.`, hint: 'Choose the output folder of the batch to continue.' });
          return;
        }
        if (plan.shard) {
          setProblem({
            code: 'BAD_ARGUMENT',
            message: `${info.outputFolder} is shard ${plan.shard} of a cluster batch.`,
            hint: `Resume it where it ran: segearth batch … --shard ${plan.shard} --resume.`,
          });
          return;
        }
        setInputFolder(plan.inputFolder);
        setOutputFolder(info.outputFolder);
        setQuestions(plan.questions);
        setStrategy(plan.strategy);
        setFormats(plan.formats);
        setMerged(plan.merged);
        setThreshold(plan.threshold);
        setMinArea(plan.minAreaM2);
        setInclude(plan.include.join('\n'));
        setExclude(plan.exclude.join('\n'));
        setResume(true);
        const { questions: q, strategy: st, formats: fm, merged: mg, threshold: th, minAreaM2, include: inc, exclude: exc } = plan;
        await start({ inputFolder: plan.inputFolder, outputFolder: info.outputFolder, questions: q, strategy: st, formats: fm, merged: mg, threshold: th, minAreaM2, include: inc, exclude: exc, resume: true });
      } catch (err) {
        setProblem(errorPayloadOf(err));
        onTestEvent('batch-error');
      }
    },
    [client, start, onTestEvent, setProblem],
  );

  const pick = (which: 'input' | 'output'): void => {
    if (props.canPickNative) {
      void client.files.pickPath({ purpose: 'folder', defaultName: which === 'input' ? inputFolder : outputFolder }).then((r) => {
        if (r.path) (which === 'input' ? setInputFolder : setOutputFolder)(r.path);
      });
    } else setPicking(which);
  };

  const overall = status && status.total > 0 ? status.completed / status.total : 0;
  const current = status?.current ?? null;

  return (
    <section className="batch-panel" aria-label="Batch process folder" data-testid="batch-panel">
      <header className="panel-title">
        <span>Batch process folder</span>
        <button type="button" className="icon" onClick={props.onClose} aria-label="Close the batch panel" title={running ? 'The batch keeps running' : 'Close'}>
          ✕
        </button>
      </header>

      {status && (running || !showForm) ? (
        <div className="batch-run" data-testid="batch-run">
          <p className="batch-folders">
            <span className="hint">From</span> <code>{status.inputFolder}</code> <span className="hint">to</span> <code>{status.outputFolder}</code>
          </p>
          <ol className="batch-questions">
            {status.questions.map((q, i) => (
              <li key={i}>{q}</li>
            ))}
          </ol>
          <div className="batch-progress">
            <div className="row">
              <strong className="grow" data-testid="batch-counts">
                {status.completed} / {status.total} items
                {status.failed > 0 ? <span className="error-text"> · {status.failed} failed</span> : null}
              </strong>
              <span className="hint" data-testid="batch-eta">
                {status.paused
                  ? 'paused'
                  : status.pauseRequested
                    ? 'pausing after this item…'
                    : status.state === 'cancelling'
                      ? 'cancelling…'
                      : running && status.etaSeconds !== null
                        ? `about ${formatDuration(status.etaSeconds)} left`
                        : running
                          ? 'estimating…'
                          : ''}
              </span>
            </div>
            <progress max={1} value={overall} aria-label="Overall progress" data-testid="batch-overall" />
            <p className="hint">
              {status.scenes} scene{status.scenes === 1 ? '' : 's'} × {status.questions.length} question{status.questions.length === 1 ? '' : 's'}
              {status.alreadyDone > 0 ? ` · ${status.alreadyDone} done before this run` : ''} · model {status.model}
            </p>
          </div>
          {current ? (
            <div className="batch-current" data-testid="batch-current">
              <div className="row">
                <span className="grow">
                  <strong>{current.scene}</strong>
                  {status.questions.length > 1 ? <span className="hint"> · q{current.questionIndex + 1}</span> : null}
                </span>
                <span className="hint">
                  {STAGES[current.stage] ?? current.stage} · {formatPercent(current.fraction)}
                </span>
              </div>
              <progress max={1} value={current.fraction} aria-label="Progress of this scene" />
            </div>
          ) : null}
          {running ? (
            <div className="row end">
              {status.paused || status.pauseRequested ? (
                <button type="button" onClick={() => control('resume')} data-testid="batch-resume">
                  Resume
                </button>
              ) : (
                <button type="button" onClick={() => control('pause')} data-testid="batch-pause" disabled={status.state !== 'running'}>
                  Pause
                </button>
              )}
              <button type="button" onClick={() => control('cancel')} data-testid="batch-cancel" disabled={status.state === 'cancelling'}>
                Cancel
              </button>
            </div>
          ) : null}
          {finished && finished.batchId === status.batchId ? <BatchReport finished={finished} /> : null}
          {!running ? (
            <div className="row end">
              <button type="button" onClick={() => setShowForm(true)} data-testid="batch-new">
                New batch…
              </button>
              {finished?.outcome === 'cancelled' ? (
                <button type="button" className="primary" onClick={() => void resumeFolder(finished.outputFolder)} data-testid="batch-continue">
                  Continue this batch
                </button>
              ) : null}
            </div>
          ) : null}
        </div>
      ) : (
        <form
          className="batch-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (canStart) void start();
          }}
        >
          <label className="block">
            Scenes folder <span className="hint">(searched recursively)</span>
            <div className="row">
              <input className="grow" value={inputFolder} onChange={(e) => setInputFolder(e.target.value)} data-testid="batch-input" aria-label="Scenes folder" />
              <button type="button" onClick={() => pick('input')} data-testid="batch-input-browse">
                Browse…
              </button>
            </div>
          </label>
          <div className="batch-globs">
            <label>
              Include <span className="hint">(globs, one per line)</span>
              <textarea rows={2} value={include} onChange={(e) => setInclude(e.target.value)} placeholder="2026-*/**/*.tif" data-testid="batch-include" />
            </label>
            <label>
              Exclude
              <textarea rows={2} value={exclude} onChange={(e) => setExclude(e.target.value)} placeholder="**/thumbs/**" data-testid="batch-exclude" />
            </label>
          </div>
          <fieldset>
            <legend>Questions (each one on every scene)</legend>
            {questions.map((q, i) => (
              <div className="row" key={i}>
                <input
                  className="grow"
                  value={q}
                  onChange={(e) => setQuestions((qs) => qs.map((x, j) => (j === i ? e.target.value : x)))}
                  placeholder="e.g. where could flood water spread?"
                  aria-label={`Question ${i + 1}`}
                  data-testid="batch-question"
                />
                <button
                  type="button"
                  className="icon"
                  disabled={questions.length === 1}
                  onClick={() => setQuestions((qs) => qs.filter((_, j) => j !== i))}
                  aria-label={`Remove question ${i + 1}`}
                >
                  ✕
                </button>
              </div>
            ))}
            <button type="button" className="small" onClick={() => setQuestions((qs) => [...qs, ''])} data-testid="batch-add-question">
              + Add question
            </button>
          </fieldset>
          <fieldset>
            <legend>Scene strategy</legend>
            <label className="block">
              <input type="radio" name="batch-strategy" checked={strategy === 'tiled'} onChange={() => setStrategy('tiled')} /> Tiled whole scene{' '}
              <span className="hint">full resolution everywhere</span>
            </label>
            <label className="block">
              <input type="radio" name="batch-strategy" checked={strategy === 'coarse-to-fine'} onChange={() => setStrategy('coarse-to-fine')} data-testid="batch-coarse" />{' '}
              Coarse to fine <span className="hint">full resolution only where a coarse pass finds something (faster on sparse targets)</span>
            </label>
            <label className="block">
              <input type="radio" name="batch-strategy" checked={strategy === 'view'} onChange={() => setStrategy('view')} /> One pass per scene{' '}
              <span className="hint">the scene resampled to the model's input: fastest, coarse</span>
            </label>
          </fieldset>
          <label className="block">
            Output folder <span className="hint">(empty or new; or an earlier batch to resume)</span>
            <div className="row">
              <input className="grow" value={outputFolder} onChange={(e) => setOutputFolder(e.target.value)} data-testid="batch-output" aria-label="Output folder" />
              <button type="button" onClick={() => pick('output')}>
                Browse…
              </button>
            </div>
          </label>
          <fieldset>
            <legend>Outputs</legend>
            <div className="batch-formats">
              {FORMATS.map((f) => (
                <label key={f.id}>
                  <input
                    type="checkbox"
                    checked={formats.includes(f.id)}
                    onChange={(e) => setFormats((fs) => (e.target.checked ? [...fs, f.id] : fs.filter((x) => x !== f.id)))}
                    data-testid={`batch-format-${f.id}`}
                  />{' '}
                  {f.label} <span className="hint">{f.note}</span>
                </label>
              ))}
            </div>
            <label className="block">
              <input type="checkbox" checked={merged} onChange={(e) => setMerged(e.target.checked)} data-testid="batch-merged" /> merged.gpkg{' '}
              <span className="hint">one layer per question, every polygon with its source scene</span>
            </label>
          </fieldset>
          <div className="batch-numbers">
            <label>
              Threshold <span className="hint">probability</span>
              <input type="number" min={0.05} max={0.95} step={0.05} value={threshold} onChange={(e) => setThreshold(Number(e.target.value))} data-testid="batch-threshold" />
            </label>
            <label>
              Minimum area <span className="hint">m²</span>
              <input type="number" min={0} step={10} value={minArea} onChange={(e) => setMinArea(Math.max(0, Number(e.target.value)))} data-testid="batch-min-area" />
            </label>
          </div>
          <label className="block">
            <input type="checkbox" checked={resume} onChange={(e) => setResume(e.target.checked)} data-testid="batch-resume-flag" /> Resume the batch in this output
            folder <span className="hint">(same questions and options; redoes only unfinished and failed items)</span>
          </label>
          {problem ? (
            <div className="error-text batch-problem" role="alert" data-testid="batch-error">
              <strong>{problem.message}</strong>
              {problem.hint ? <p className="hint">{problem.hint}</p> : null}
              {problem.code === 'BATCH_EXISTS' ? (
                <button type="button" className="small" onClick={() => void resumeFolder(outputFolder.trim())}>
                  Resume that batch with its settings
                </button>
              ) : null}
            </div>
          ) : null}
          <div className="row end">
            {status && !running ? (
              <button type="button" onClick={() => setShowForm(false)}>
                Back to the last batch
              </button>
            ) : null}
            {busy ? <span className="hint grow">Checking the folders and loading the model…</span> : null}
            <button type="submit" className="primary" disabled={!canStart} data-testid="batch-start">
              {resume ? 'Resume batch' : 'Start batch'}
            </button>
          </div>
        </form>
      )}
      {picking ? (
        <FolderPicker
          client={client}
          title={picking === 'input' ? 'Folder with the scenes' : 'Output folder'}
          start={picking === 'input' ? inputFolder : outputFolder.replace(/[\\/][^\\/]*$/, '')}
          onChoose={(path) => {
            if (picking === 'input') setInputFolder(path);
            else setOutputFolder(path);
            setPicking(null);
          }}
          onClose={() => setPicking(null)}
        />
      ) : null}
    </section>
  );
}

/** The end of a batch: totals, where the outputs are, and one row per (scene, question). */
function BatchReport({ finished }: { finished: BatchFinished }) {
  const { summary } = finished;
  if (finished.outcome === 'failed') {
    return (
      <div className="error-text batch-problem" role="alert" data-testid="batch-failed">
        <strong>The batch could not run: {finished.error?.message}</strong>
        {finished.error?.hint ? <p className="hint">{finished.error.hint}</p> : null}
      </div>
    );
  }
  if (!summary) return null;
  const t = summary.totals;
  const multi = summary.questions.length > 1;
  return (
    <div className="batch-report" data-testid="batch-report">
      <p className={finished.outcome === 'cancelled' ? 'batch-outcome cancelled' : 'batch-outcome'} data-testid="batch-totals">
        {finished.outcome === 'cancelled' ? 'Cancelled: ' : 'Finished: '}
        <strong>{t.done}</strong> done, <strong className={t.failed > 0 ? 'error-text' : ''}>{t.failed}</strong> failed
        {t.pending > 0 ? `, ${t.pending} not run yet` : ''} · {t.polygons.toLocaleString('en')} polygon{t.polygons === 1 ? '' : 's'} ·{' '}
        {formatArea(t.totalAreaM2)}
      </p>
      {finished.outcome === 'cancelled' ? <p className="hint">Continue it later: same output folder, “Resume” ticked. Finished items are kept.</p> : null}
      <ul className="batch-outputs">
        <li>
          Output folder <code data-testid="batch-output-folder">{finished.outputFolder}</code>
        </li>
        {finished.mergedPath ? (
          <li>
            Merged <code data-testid="batch-merged-path">{finished.mergedPath}</code>
          </li>
        ) : null}
        {finished.summaryPaths.length > 0 ? (
          <li>
            Summary <code>{finished.summaryPaths.map((p) => p.split(/[\\/]/).pop()).join(', ')}</code> <span className="hint">(open the CSV in a spreadsheet)</span>
          </li>
        ) : null}
      </ul>
      <table className="batch-table" data-testid="batch-table">
        <thead>
          <tr>
            <th>Scene</th>
            {multi ? <th>Question</th> : null}
            <th>Status</th>
            <th className="num">Polygons</th>
            <th className="num">Area</th>
            <th className="num">Time</th>
          </tr>
        </thead>
        <tbody>
          {summary.rows.map((r) => (
            <tr key={`${r.question}\u0000${r.scene}`} className={`status-${r.status}`} data-testid="batch-row" data-status={r.status}>
              <td className="scene" title={r.scene}>
                {r.scene}
                {r.error ? <div className="row-error">{r.error}</div> : null}
              </td>
              {multi ? <td title={r.question}>q{summary.questions.indexOf(r.question) + 1}</td> : null}
              <td>{r.status === 'done' ? '✓ done' : r.status === 'failed' ? '✗ failed' : 'not run'}</td>
              <td className="num">{r.polygons ?? '–'}</td>
              <td className="num">{r.totalAreaM2 === null ? '–' : formatArea(r.totalAreaM2)}</td>
              <td className="num">{r.seconds === null ? '–' : `${r.seconds.toFixed(1)} s`}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
