/**
 * @module renderer/panels/ModelDialog
 * Model → Model & device…: the model in use and the device it runs on; Get a released SegEarth-R1 checkpoint
 * (`GetModelCards`); the installed bundles (`InstalledModelsTable`); add one by converting a checkpoint
 * folder, importing a bundle or downloading a published one (`AddModelForm`, with the task's progress and
 * Cancel); the execution providers of this machine (`DeviceSection`) and the advanced settings (a bundle
 * folder used directly, the provider to use). `focus="get"` opens it scrolled to the Get cards (first run).
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ApiClient } from '../../shared/api/contract';
import type { Settings, SystemInfo } from '../../shared/api/dto';
import { VARIANT_LABELS, type DeviceReport, type InstalledModel, type ModelCatalog } from '../../shared/api/modelDto';
import { formatBytes } from '../format';
import { AddModelForm } from './AddModelForm';
import { DeviceSection } from './DeviceSection';
import { Dialog } from './Dialog';
import { GetModelCards } from './GetModelCards';
import { InstalledModelsTable } from './InstalledModelsTable';
import { LOCATION_LABELS, problemText, progressFraction, progressText } from './modelText';
import { useModelReleases } from './useModelReleases';
import { useModelTask } from './useModelTask';
import './modelDialog.css';

export function ModelDialog(props: {
  client: ApiClient;
  settings: Settings;
  system: SystemInfo;
  canPickNative: boolean;
  focus?: 'get';
  onSaved(): void;
  onClose(): void;
}) {
  const { client, onSaved } = props;
  const [modelDir, setModelDir] = useState(props.settings.modelDir ?? '');
  const [ep, setEp] = useState(props.settings.executionProvider);
  const [catalog, setCatalog] = useState<ModelCatalog | null>(null);
  const [listProblem, setListProblem] = useState<string | null>(null);
  const [devices, setDevices] = useState<DeviceReport | null>(null);
  const getSection = useRef<HTMLDivElement>(null);
  const { model, executionProvider } = props.system;

  const reloadCatalog = useCallback(() => {
    client.models
      .list({})
      .then((c) => {
        setCatalog(c);
        setListProblem(null);
      })
      .catch((err: unknown) => setListProblem(problemText(err)));
  }, [client]);
  const ended = useCallback(() => {
    reloadCatalog();
    onSaved();
  }, [reloadCatalog, onSaved]);
  const tasks = useModelTask(client, ended);
  const releases = useModelReleases(client, ended);
  const { fail } = tasks;

  useEffect(() => {
    reloadCatalog();
    client.models.devices({}).then(setDevices).catch(fail);
  }, [client, reloadCatalog, fail]);

  useEffect(() => {
    if (props.focus === 'get') getSection.current?.scrollIntoView({ block: 'start' });
  }, [props.focus]);

  const changeDefault = (id: string) => {
    client.models.setDefault({ id }).then(ended).catch(fail);
  };

  const remove = (m: InstalledModel) => {
    if (!window.confirm(`Delete ${m.name} (${formatBytes(m.sizeBytes)}) from ${m.dir}?`)) return;
    client.models
      .remove({ id: m.id })
      .then(() => {
        tasks.say(`Removed ${m.name}.`);
        ended();
      })
      .catch(fail);
  };

  const inUseDir = model.state === 'ready' ? model.dir : null;
  const busy = tasks.task !== null;
  const task = tasks.task;
  const recommended = releases.releases?.releases[0]?.precision.precision ?? null;

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

      <div ref={getSection} data-testid="get-section">
        <GetModelCards state={releases} />
      </div>

      <InstalledModelsTable
        catalog={catalog}
        inUseDir={inUseDir}
        busy={busy}
        onDefault={changeDefault}
        onVerify={(m) => tasks.start('verify', `Verifying ${m.name}`, () => client.models.verify({ id: m.id }))}
        onRemove={remove}
      />

      <AddModelForm
        client={client}
        canPickNative={props.canPickNative}
        busy={busy}
        installDir={catalog?.locations.installDir ?? null}
        recommended={recommended}
        start={tasks.start}
        fail={fail}
      />
      {task ? (
        <div className="progress" data-testid="model-task">
          <span>{task.label}</span>
          <progress value={task.progress ? (progressFraction(task.progress) ?? undefined) : undefined} max={1} />
          <span className="row">
            <span className="hint grow">{task.progress ? progressText(task.progress) : 'Starting…'}</span>
            <button type="button" disabled={task.taskId === null} onClick={tasks.cancel}>
              Cancel
            </button>
          </span>
        </div>
      ) : null}
      {tasks.notice ? (
        <p className="notice" data-testid="model-notice">
          {tasks.notice}
        </p>
      ) : null}
      {listProblem ? <p className="error-text">{listProblem}</p> : null}
      {tasks.problem ? (
        <p className="error-text" data-testid="model-problem">
          {tasks.problem}
        </p>
      ) : null}

      <DeviceSection devices={devices} provider={ep} onProvider={setEp} />
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
