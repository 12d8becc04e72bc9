/**
 * @module renderer/panels/GetModelCards
 * One card per released SegEarth-R1 checkpoint in Model & device: what it is for, the size to download (the
 * hub's, or "about" the documented one when the hub cannot be asked), the precision picked for this device
 * and why, the licence, and one Get button. A Get shows its stage, bytes, rate and time left with Pause and
 * Cancel; a paused one (also after the app was restarted) says how far it got, with Resume; a failed one says
 * what went wrong in plain words and what to do; an installed one says so.
 */
import type { InstalledModel, ModelProgress } from '../../shared/api/modelDto';
import { PRECISION_LABELS, type ModelRelease } from '../../shared/api/modelReleaseDto';
import { formatBytes } from '../format';
import { describeProblem, progressFraction, progressText } from './modelText';
import type { ReleasesState } from './useModelReleases';

function percentOf(done: number, total: number | null): number | null {
  return total ? Math.floor((100 * done) / total) : null;
}

function ProblemView({ error }: { error: unknown }) {
  const d = describeProblem(error);
  return (
    <div className="error-text" data-testid="get-error">
      {d.title ? <strong>{d.title} </strong> : null}
      {d.message}
      {d.advice ? <div className="md-advice">{d.advice}</div> : null}
    </div>
  );
}

function GetState(props: { release: ModelRelease; live: ModelProgress | undefined; justInstalled: InstalledModel | undefined; state: ReleasesState }) {
  const { release: r, live, state } = props;
  const g = r.get;
  if (g?.status === 'running') {
    const fraction = live ? progressFraction(live) : null;
    return (
      <div className="progress" data-testid="get-progress">
        <progress value={fraction ?? undefined} max={1} />
        <span className="row">
          <span className="hint grow" data-testid="get-progress-text">
            {live ? progressText(live) : 'Starting…'}
          </span>
          <button type="button" onClick={() => state.pause(r.repo)} data-testid="pause-get">
            Pause
          </button>
          <button type="button" onClick={() => state.cancel(r.repo)} data-testid="cancel-get" title="Stop and delete what was downloaded">
            Cancel
          </button>
        </span>
      </div>
    );
  }
  if (g) {
    const pct = percentOf(g.downloadedBytes, g.totalBytes);
    const where =
      g.phase === 'convert'
        ? 'while converting (the download is complete; the conversion starts again)'
        : `at ${pct ?? 0} %${g.totalBytes ? ` (${formatBytes(g.downloadedBytes)} of ${formatBytes(g.totalBytes)})` : ''}`;
    return (
      <div data-testid="get-state" data-status={g.status}>
        {g.status === 'paused' ? <p className="md-warn">Paused {where}.</p> : <ProblemView error={g.error} />}
        <span className="row">
          <button type="button" className="primary" onClick={() => state.get(r.repo)} data-testid="resume-get">
            {g.status === 'paused' ? 'Resume' : 'Try again'}
          </button>
          <button type="button" onClick={() => state.cancel(r.repo)} data-testid="cancel-get" title="Delete what was downloaded">
            Cancel
          </button>
        </span>
      </div>
    );
  }
  if (r.installedId) {
    return (
      <p className="md-ok" data-testid="get-installed">
        Installed ({r.installedId}){props.justInstalled ? ' and set as the default model' : ''}.
      </p>
    );
  }
  return (
    <button type="button" className="primary" onClick={() => state.get(r.repo)} data-testid="get-model">
      Get
    </button>
  );
}

export function GetModelCards({ state }: { state: ReleasesState }) {
  const { releases } = state;
  return (
    <>
      <h4>Get SegEarth-R1</h4>
      {releases === null && !state.problem ? <p className="hint">Asking the model hub…</p> : null}
      {releases?.releases[0] ? (
        <p className="hint" data-testid="get-precision-reason">
          Converted on this computer as <strong>{PRECISION_LABELS[releases.releases[0].precision.precision]}</strong>: {releases.releases[0].precision.reason}.
        </p>
      ) : null}
      {releases?.hubProblem ? <p className="hint">{releases.hubProblem}</p> : null}
      <div className="md-cards">
        {releases?.releases.map((r) => (
          <section key={r.repo} className="md-card" data-testid="release-card" data-repo={r.repo}>
            <header>
              <strong>{r.label}</strong>{' '}
              <a href={r.url} target="_blank" rel="noreferrer" className="hint">
                {r.repo}
              </a>
            </header>
            <p className="hint">{r.use}</p>
            <dl>
              <dt>Download</dt>
              <dd data-testid="release-size">
                {r.download.source === 'hub' ? formatBytes(r.download.bytes) : `about ${formatBytes(r.download.bytes)}`}
              </dd>
              <dt>Precision</dt>
              <dd data-testid="release-precision" title={r.precision.reason}>
                {PRECISION_LABELS[r.precision.precision]}
              </dd>
              <dt>Licence</dt>
              <dd>{r.licence}</dd>
            </dl>
            <GetState release={r} live={state.progress.get(r.repo)} justInstalled={state.installed.get(r.repo)} state={state} />
          </section>
        ))}
      </div>
      {state.problem ? <ProblemView error={state.problem} /> : null}
    </>
  );
}
