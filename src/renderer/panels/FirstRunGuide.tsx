/**
 * @module renderer/panels/FirstRunGuide
 * The question panel's "no model yet" explanation, from the model manager's first-run guide
 * (`inference/models/firstRun`): what the model is, and one button that leads to the Get card of the
 * recommended checkpoint in Model & device (download and convert, no Python); then the other ways — convert
 * a checkpoint folder, import or download a bundle, the Python export for developers — with their exact
 * commands, and that everything else works meanwhile.
 */
import type { FirstRunGuide } from '../../shared/api/modelDto';
import { formatBytes } from '../format';
import './modelDialog.css';

export function FirstRunGuideView({ guide, onGet }: { guide: FirstRunGuide; onGet(): void }) {
  const recommended = guide.checkpoints[0];
  return (
    <div className="first-run-guide" data-testid="first-run-guide">
      <p>{guide.summary}</p>
      {recommended ? (
        <p>
          <button type="button" className="primary" onClick={onGet} data-testid="first-run-get">
            Get SegEarth-R1 {recommended.label}…
          </button>{' '}
          <span className="hint">
            about {formatBytes(recommended.approxDownloadBytes)} from the model hub ({recommended.licence}), converted for this computer — pause and resume at
            any time.
          </span>
        </p>
      ) : null}
      <p>Released checkpoints:</p>
      <ul>
        {guide.checkpoints.map((c) => (
          <li key={c.repo}>
            <a href={c.url} target="_blank" rel="noreferrer">
              <code>{c.repo}</code>
            </a>{' '}
            — {c.use}
          </li>
        ))}
      </ul>
      <details>
        <summary>Other ways to get the model (offline machines, terminals, developers)</summary>
        <ol>
          {guide.options.map((o) => (
            <li key={o.title}>
              <strong>{o.title}.</strong> {o.detail}
              <pre className="commands">{o.commands.map((c) => `$ ${c}`).join('\n')}</pre>
            </li>
          ))}
        </ol>
      </details>
      <p className="hint">
        Bundles are installed into <code>{guide.installDir}</code>. In the app: Model → Model &amp; device…
      </p>
    </div>
  );
}
