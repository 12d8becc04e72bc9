/**
 * @module renderer/panels/FirstRunGuide
 * The question panel's "no model yet" explanation, from the model manager's first-run guide
 * (`inference/models/firstRun`): what the model is, the released checkpoints, and the ways to get a bundle
 * (import, download, export it yourself) with the exact commands — and that everything else works meanwhile.
 */
import type { FirstRunGuide } from '../../shared/api/modelDto';
import './modelDialog.css';

export function FirstRunGuideView({ guide }: { guide: FirstRunGuide }) {
  return (
    <div className="first-run-guide" data-testid="first-run-guide">
      <p>{guide.summary}</p>
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
      <ol>
        {guide.options.map((o) => (
          <li key={o.title}>
            <strong>{o.title}.</strong> {o.detail}
            <pre className="commands">{o.commands.map((c) => `$ ${c}`).join('\n')}</pre>
          </li>
        ))}
      </ol>
      <p className="hint">
        Bundles are installed into <code>{guide.installDir}</code>. In the app: Model → Model &amp; device… → Add a model.
      </p>
    </div>
  );
}
