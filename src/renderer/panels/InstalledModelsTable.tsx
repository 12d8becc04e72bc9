/**
 * @module renderer/panels/InstalledModelsTable
 * The Model & device dialog's installed bundles: variant, precision, size, source checkpoint, verified
 * state, where each comes from, the one in use, the default per variant (radio buttons), Verify and Remove.
 */
import type { InstalledModel, ModelCatalog } from '../../shared/api/modelDto';
import { VARIANT_LABELS } from '../../shared/api/modelDto';
import { formatBytes } from '../format';
import { LOCATION_LABELS } from './modelText';

function VerifyState({ model }: { model: InstalledModel }) {
  const v = model.verify;
  if (v.state === 'verified') return <span className="md-ok" title={`${v.checkedFiles} files match the manifest's sha256`}>verified</span>;
  if (v.state === 'failed') {
    const first = v.problems[0];
    return (
      <span className="error-text" title={v.problems.map((p) => `${p.path}: ${p.detail}`).join('\n')}>
        damaged ({v.problems.length} file{v.problems.length === 1 ? '' : 's'}
        {first ? `: ${first.path} ${first.problem}` : ''})
      </span>
    );
  }
  return <span className="md-warn" title="Not every file has been hashed yet; press Verify">not verified</span>;
}

export function InstalledModelsTable(props: {
  catalog: ModelCatalog | null;
  inUseDir: string | null;
  busy: boolean;
  onDefault(id: string): void;
  onVerify(model: InstalledModel): void;
  onRemove(model: InstalledModel): void;
}) {
  const { catalog, inUseDir, busy } = props;
  return (
    <>
      <h4>Installed models</h4>
      {catalog === null ? <p className="hint">Reading the model folders…</p> : null}
      {catalog && catalog.models.length === 0 ? (
        <p className="hint" data-testid="no-models">
          No model bundle is installed. Get a released checkpoint above, or add one below (a checkpoint folder to convert, a bundle folder or archive, or a
          published bundle).
        </p>
      ) : null}
      {catalog && catalog.models.length > 0 ? (
        <table className="md-table" data-testid="model-table">
          <thead>
            <tr>
              <th>Default</th>
              <th>Model</th>
              <th>Precision</th>
              <th>Size</th>
              <th>Source checkpoint</th>
              <th>Files</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {catalog.models.map((m) => (
              <tr key={m.dir} data-testid="model-row" data-model-id={m.id} className={m.dir === inUseDir ? 'md-in-use' : undefined}>
                <td>
                  <input
                    type="radio"
                    name={`default-${m.variant}`}
                    checked={m.isDefault}
                    disabled={busy}
                    onChange={() => props.onDefault(m.id)}
                    aria-label={`Default ${VARIANT_LABELS[m.variant]} model`}
                    title={`Default ${VARIANT_LABELS[m.variant]} model`}
                  />
                </td>
                <td>
                  <strong>{m.name}</strong>
                  {m.dir === inUseDir ? <span className="md-badge">in use</span> : null}
                  <div className="hint">
                    {VARIANT_LABELS[m.variant]} · {m.id} · {LOCATION_LABELS[m.location]}
                    {m.testFixture ? ' · test fixture (random weights, not a model)' : ''}
                  </div>
                </td>
                <td>{m.precision}</td>
                <td className="md-num">{formatBytes(m.sizeBytes)}</td>
                <td className="md-src">{m.sourceCheckpoint}</td>
                <td>
                  <VerifyState model={m} />
                </td>
                <td className="md-actions">
                  <button type="button" disabled={busy} onClick={() => props.onVerify(m)}>
                    Verify
                  </button>
                  <button type="button" disabled={busy || !m.writable} title={m.writable ? undefined : 'Shipped with the app: cannot be removed'} onClick={() => props.onRemove(m)}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {catalog?.broken.map((b) => (
        <p key={b.dir} className="md-warn">
          {b.dir} is not a usable bundle: {b.reason}
        </p>
      ))}
    </>
  );
}
