/**
 * @module renderer/panels/ModelDialog
 * Model → Model & device…: the installed SegEarth-R1 bundles (variant, precision, size, source checkpoint,
 * verified state, default per variant; verify and remove), installing a bundle from a folder / archive or
 * from a URL (progress and cancel), the execution providers that work on this machine, the one in use and
 * why it fell back, and the advanced settings (a bundle folder used directly, the provider to use).
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ApiClient } from '../../shared/api/contract';
import { EXECUTION_PROVIDERS, type Settings, type SystemInfo } from '../../shared/api/dto';
import { VARIANT_LABELS, type DeviceReport, type InstalledModel, type ModelCatalog, type ModelProgress, type ModelTaskEvent, type ModelTaskKind } from '../../shared/api/modelDto';
import { formatBytes } from '../format';
import { Dialog } from './Dialog';
import './modelDialog.css';

const EP_LABELS: Record<string, string> = {
  auto: 'Automatic (CUDA → WebGPU → DirectML → CoreML → CPU)',
  cpu: 'CPU',
  webgpu: 'WebGPU (Vulkan / D3D12 / Metal)',
  cuda: 'CUDA (NVIDIA, needs the CUDA libraries)',
  dml: 'DirectML (Windows)',
  coreml: 'CoreML (macOS)',
};

const PHASE_LABELS: Record<ModelProgress['phase'], string> = {
  download: 'Downloading',
  hash: 'Checking the checksum',
  extract: 'Unpacking',
  copy: 'Copying',
  verify: 'Checking files against the manifest',
  install: 'Installing',
};

const LOCATION_LABELS: Record<InstalledModel['location'], string> = {
  env: 'SEGEARTH_MODELS_DIR',
  user: 'your model folder',
  shipped: 'shipped with the app (read-only)',
};

interface RunningTask {
  taskId: string | null;
  kind: ModelTaskKind;
  label: string;
  progress: ModelProgress | null;
}

function progressText(p: ModelProgress): string {
  const unit = p.phase === 'verify' ? (n: number) => `${n} files` : (n: number) => formatBytes(n);
  const amount = p.total ? `${unit(p.done)} of ${unit(p.total)} (${Math.floor((p.done / p.total) * 100)} %)` : unit(p.done);
  return `${PHASE_LABELS[p.phase]} — ${amount}`;
}

function VerifyState({ model }: { model: InstalledModel }) {
  const v = model.verify;
  if (v.state === 'verified') return <span className="md-ok" title={`${v.checkedFiles} files match the manifest's sha256`}>verified</span>;
  if (v.state === 'failed') {
    const first = v.problems[0];
    return (
      <span className="error-text" title={v.problems.map((p) => `${p.path}: ${p.detail}`).join('\n')}>
        damaged ({v.problems.length} file{v.problems.length === 1 ? '' : 's'}{first ? `: ${first.path} ${first.problem}` : ''})
      </span>
    );
  }
  return <span className="md-warn" title="Not every file has been hashed yet; press Verify">not verified</span>;
}

export function ModelDialog(props: { client: ApiClient; settings: Settings; system: SystemInfo; canPickNative: boolean; onSaved(): void; onClose(): void }) {
  const { client, onSaved } = props;
  const [modelDir, setModelDir] = useState(props.settings.modelDir ?? '');
  const [ep, setEp] = useState(props.settings.executionProvider);
  const [problem, setProblem] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [catalog, setCatalog] = useState<ModelCatalog | null>(null);
  const [devices, setDevices] = useState<DeviceReport | null>(null);
  const [source, setSource] = useState('');
  const [url, setUrl] = useState('');
  const [sha256, setSha256] = useState('');
  const [replace, setReplace] = useState(false);
  const [task, setTask] = useState<RunningTask | null>(null);
  const taskRef = useRef<RunningTask | null>(null);
  const early = useRef<ModelTaskEvent[]>([]);
  const { model, executionProvider } = props.system;

  const fail = useCallback((err: unknown) => {
    const e = err as { message?: string; hint?: string };
    setProblem([e.message ?? String(err), e.hint].filter(Boolean).join(' '));
  }, []);

  const reload = useCallback(() => {
    client.models
      .list({})
      .then(setCatalog)
      .catch(fail);
  }, [client, fail]);

  useEffect(() => {
    reload();
    client.models
      .devices({})
      .then(setDevices)
      .catch(fail);
  }, [client, reload, fail]);

  const apply = useCallback(
    (event: ModelTaskEvent) => {
      const current = taskRef.current;
      if (!current) return;
      if (current.taskId === null) {
        early.current.push(event);
        return;
      }
      if (event.taskId !== current.taskId) return;
      if (event.type === 'progress') {
        const next = { ...current, progress: event.progress };
        taskRef.current = next;
        setTask(next);
        return;
      }
      taskRef.current = null;
      setTask(null);
      if (event.type === 'done') {
        const m = event.model;
        setProblem(null);
        setNotice(
          event.kind === 'verify'
            ? `${m.name}: ${m.verify.state === 'verified' ? `all ${m.verify.checkedFiles} files match the manifest` : `${m.verify.problems.length} file(s) do not match the manifest`}.`
            : `Installed ${m.name} (${VARIANT_LABELS[m.variant]}, ${m.precision}, ${formatBytes(m.sizeBytes)}).`,
        );
      } else {
        setNotice(null);
        fail(event.error);
      }
      reload();
      onSaved();
    },
    [fail, reload, onSaved],
  );

  useEffect(() => client.on('models.task', apply), [client, apply]);

  const startTask = (kind: ModelTaskKind, label: string, call: () => Promise<{ taskId: string }>) => {
    setProblem(null);
    setNotice(null);
    early.current = [];
    const pending: RunningTask = { taskId: null, kind, label, progress: null };
    taskRef.current = pending;
    setTask(pending);
    call()
      .then(({ taskId }) => {
        const started = { ...pending, taskId };
        taskRef.current = started;
        setTask(started);
        const queued = early.current;
        early.current = [];
        for (const e of queued) apply(e);
      })
      .catch((err: unknown) => {
        taskRef.current = null;
        setTask(null);
        fail(err);
      });
  };

  const changeDefault = (id: string) => {
    client.models
      .setDefault({ id })
      .then(() => {
        reload();
        onSaved();
      })
      .catch(fail);
  };

  const remove = (m: InstalledModel) => {
    if (!window.confirm(`Delete ${m.name} (${formatBytes(m.sizeBytes)}) from ${m.dir}?`)) return;
    client.models
      .remove({ id: m.id })
      .then(() => {
        setNotice(`Removed ${m.name}.`);
        reload();
        onSaved();
      })
      .catch(fail);
  };

  const inUseDir = model.state === 'ready' ? model.dir : null;
  const busy = task !== null;

  return (
    <Dialog title="Model & device" onClose={props.onClose} testId="model-dialog" wide>
      <section className="md-current" data-testid="model-in-use">
        <p>
          Model in use: <strong>{model.state === 'ready' ? (model.name ?? model.id) : 'none'}</strong>
          {model.state === 'ready' && model.variant ? ` (${VARIANT_LABELS[model.variant as InstalledModel['variant']] ?? model.variant})` : ''}
          {model.state !== 'ready' && model.problem ? <span className="hint"> — {model.problem}</span> : null}
        </p>
        <p>
          Running on: <strong>{executionProvider.active ?? 'not started yet'}</strong>
          {executionProvider.fallbackReason ? (
            <span className="hint" title={executionProvider.fallbackReason}>
              {' '}
              — {devices?.autoReason ?? 'fell back'} (why: see Device below)
            </span>
          ) : null}
        </p>
        {executionProvider.notes.map((note) => (
          <p key={note} className="ep-note" data-testid="ep-note">
            {note}
          </p>
        ))}
      </section>

      <h4>Installed models</h4>
      {catalog === null ? <p className="hint">Reading the model folders…</p> : null}
      {catalog && catalog.models.length === 0 ? (
        <p className="hint" data-testid="no-models">
          No model bundle is installed. Import one below (a folder with manifest.json, or a .tar.gz of it), or download a published bundle.
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
              <tr key={`${m.dir}`} data-testid="model-row" data-model-id={m.id} className={m.dir === inUseDir ? 'md-in-use' : undefined}>
                <td>
                  <input
                    type="radio"
                    name={`default-${m.variant}`}
                    checked={m.isDefault}
                    disabled={busy}
                    onChange={() => changeDefault(m.id)}
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
                  <button type="button" disabled={busy} onClick={() => startTask('verify', `Verifying ${m.name}`, () => client.models.verify({ id: m.id }))}>
                    Verify
                  </button>
                  <button type="button" disabled={busy || !m.writable} title={m.writable ? undefined : 'Shipped with the app: cannot be removed'} onClick={() => remove(m)}>
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

      <h4>Add a model</h4>
      <div className="md-add">
        <label className="block">
          From a folder or archive <span className="hint">(the exporter's bundle folder, or .tar.gz / .tar / .zip)</span>
          <span className="row">
            <input
              className="grow"
              value={source}
              onChange={(e) => setSource(e.target.value)}
              placeholder="/data/segearth-r1-earthreason or …/segearth-r1-earthreason.tar.gz"
              data-testid="import-source"
            />
            {props.canPickNative ? (
              <button
                type="button"
                disabled={busy}
                onClick={() => {
                  client.files
                    .pickPath({ purpose: 'folder' })
                    .then((r) => {
                      if (r.path) setSource(r.path);
                    })
                    .catch(fail);
                }}
              >
                Choose folder…
              </button>
            ) : null}
            <button
              type="button"
              disabled={busy || source.trim() === ''}
              data-testid="import-model"
              onClick={() => startTask('import', `Importing ${source.trim()}`, () => client.models.import({ source: source.trim(), replace }))}
            >
              Import
            </button>
          </span>
        </label>
        <label className="block">
          From a web address <span className="hint">(the sha256 is published with the archive; an interrupted download resumes)</span>
          <span className="row">
            <input className="grow" value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://…/segearth-r1-earthreason.tar.gz" data-testid="download-url" />
          </span>
          <span className="row">
            <input className="grow md-mono" value={sha256} onChange={(e) => setSha256(e.target.value)} placeholder="sha256 (64 hexadecimal characters)" data-testid="download-sha256" />
            <button
              type="button"
              disabled={busy || url.trim() === '' || sha256.trim() === ''}
              data-testid="download-model"
              onClick={() => startTask('download', `Downloading ${url.trim()}`, () => client.models.download({ url: url.trim(), sha256: sha256.trim(), replace }))}
            >
              Download
            </button>
          </span>
        </label>
        <label className="toggle">
          <input type="checkbox" checked={replace} onChange={(e) => setReplace(e.target.checked)} /> Replace an installed bundle with the same id
        </label>
        {catalog ? <p className="hint">Installs go to {catalog.locations.installDir}</p> : null}
      </div>
      {task ? (
        <div className="progress" data-testid="model-task">
          <span>{task.label}</span>
          <progress value={task.progress?.total ? task.progress.done / task.progress.total : undefined} max={1} />
          <span className="row">
            <span className="hint grow">{task.progress ? progressText(task.progress) : 'Starting…'}</span>
            <button type="button" disabled={task.taskId === null} onClick={() => task.taskId && void client.models.cancel({ taskId: task.taskId })}>
              Cancel
            </button>
          </span>
        </div>
      ) : null}
      {notice ? <p className="notice" data-testid="model-notice">{notice}</p> : null}
      {problem ? <p className="error-text" data-testid="model-problem">{problem}</p> : null}

      <h4>Device</h4>
      {devices === null ? <p className="hint">Probing the execution providers…</p> : null}
      {devices ? (
        <table className="md-table md-devices" data-testid="device-table">
          <tbody>
            {devices.providers.map((d) => (
              <tr key={d.provider}>
                <td>{d.label}</td>
                <td>{d.works ? <span className="md-ok">works</span> : <span className="hint">unavailable</span>}</td>
                <td className="hint">{d.label === devices.auto ? `used by Automatic (${devices.autoReason})` : (d.reason ?? '')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <label className="block">
        Execution provider
        <select value={ep} onChange={(e) => setEp(e.target.value as Settings['executionProvider'])}>
          {EXECUTION_PROVIDERS.map((id) => (
            <option key={id} value={id}>
              {EP_LABELS[id]}
            </option>
          ))}
        </select>
      </label>
      <label className="block">
        Model folder <span className="hint">(advanced: use this bundle folder directly; empty = the default installed model above)</span>
        <input value={modelDir} onChange={(e) => setModelDir(e.target.value)} placeholder="/path/to/segearth-r1-bundle" className="grow" />
      </label>
      {catalog ? (
        <details className="hint">
          <summary>Model folders searched</summary>
          <ul>
            {catalog.locations.searchDirs.map((d) => (
              <li key={d.dir}>
                {d.dir} — {LOCATION_LABELS[d.kind]}
                {d.dir === catalog.locations.installDir ? ', installs go here' : ''}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
      <div className="row end">
        <button type="button" onClick={props.onClose}>
          Cancel
        </button>
        <button
          type="button"
          className="primary"
          onClick={() => {
            client.settings
              .update({ modelDir: modelDir.trim() === '' ? null : modelDir.trim(), executionProvider: ep })
              .then(() => {
                onSaved();
                props.onClose();
              })
              .catch(fail);
          }}
        >
          Save
        </button>
      </div>
    </Dialog>
  );
}
