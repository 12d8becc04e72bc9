/**
 * @module renderer/panels/AddModelForm
 * The Model & device dialog's "Add a model": convert a checkpoint folder already on this machine (offline
 * machines; the folder picker walks only the server's allowed folders in server mode), import a bundle folder
 * or archive, or download a published bundle archive with its sha256. Each starts a model task.
 */
import { useState } from 'react';
import type { ApiClient } from '../../shared/api/contract';
import type { ModelTaskKind } from '../../shared/api/modelDto';
import { ConversionPrecisionSchema, PRECISION_LABELS, type ConversionPrecision } from '../../shared/api/modelReleaseDto';
import { FolderPicker } from './FolderPicker';

export function AddModelForm(props: {
  client: ApiClient;
  canPickNative: boolean;
  busy: boolean;
  installDir: string | null;
  /** The precision picked for this device (null until known). */
  recommended: ConversionPrecision | null;
  start(kind: ModelTaskKind, label: string, call: () => Promise<{ taskId: string }>): void;
  fail(err: unknown): void;
}) {
  const { client, busy, start } = props;
  const [checkpoint, setCheckpoint] = useState('');
  const [precision, setPrecision] = useState<ConversionPrecision | ''>('');
  const [picking, setPicking] = useState<'checkpoint' | 'bundle' | null>(null);
  const [source, setSource] = useState('');
  const [url, setUrl] = useState('');
  const [sha256, setSha256] = useState('');
  const [replace, setReplace] = useState(false);

  const choose = (target: 'checkpoint' | 'bundle') => {
    if (!props.canPickNative) {
      setPicking(target);
      return;
    }
    client.files
      .pickPath({ purpose: 'folder' })
      .then((r) => {
        if (r.path) (target === 'checkpoint' ? setCheckpoint : setSource)(r.path);
      })
      .catch(props.fail);
  };

  const convert = () => {
    const dir = checkpoint.trim();
    start('convert', `Converting ${dir}`, () => client.models.convert({ checkpointDir: dir, replace, ...(precision ? { precision } : {}) }));
  };

  return (
    <>
      <h4>Add a model</h4>
      <div className="md-add">
        <label className="block">
          Convert a checkpoint folder <span className="hint">(offline machines: the checkpoint’s config.json, *.safetensors and tokenizer files, copied here)</span>
          <span className="row">
            <input className="grow" value={checkpoint} onChange={(e) => setCheckpoint(e.target.value)} placeholder="/data/SegEarth-R1-EarthReason" data-testid="convert-source" />
            <button type="button" disabled={busy} onClick={() => choose('checkpoint')} data-testid="convert-choose">
              Convert a checkpoint folder…
            </button>
          </span>
          <span className="row">
            <select value={precision} onChange={(e) => setPrecision(e.target.value === '' ? '' : ConversionPrecisionSchema.parse(e.target.value))} data-testid="convert-precision">
              <option value="">{props.recommended ? `Precision for this device: ${PRECISION_LABELS[props.recommended]}` : 'Precision for this device'}</option>
              {ConversionPrecisionSchema.options.map((p) => (
                <option key={p} value={p}>
                  {PRECISION_LABELS[p]}
                </option>
              ))}
            </select>
            <span className="grow" />
            <button type="button" disabled={busy || checkpoint.trim() === ''} data-testid="convert-model" onClick={convert}>
              Convert
            </button>
          </span>
        </label>
        <label className="block">
          From a bundle folder or archive <span className="hint">(a converted bundle folder with manifest.json, or .tar.gz / .tar / .zip)</span>
          <span className="row">
            <input
              className="grow"
              value={source}
              onChange={(e) => setSource(e.target.value)}
              placeholder="/data/segearth-r1-earthreason or …/segearth-r1-earthreason.tar.gz"
              data-testid="import-source"
            />
            <button type="button" disabled={busy} onClick={() => choose('bundle')}>
              Choose folder…
            </button>
            <button
              type="button"
              disabled={busy || source.trim() === ''}
              data-testid="import-model"
              onClick={() => start('import', `Importing ${source.trim()}`, () => client.models.import({ source: source.trim(), replace }))}
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
              onClick={() => start('download', `Downloading ${url.trim()}`, () => client.models.download({ url: url.trim(), sha256: sha256.trim(), replace }))}
            >
              Download
            </button>
          </span>
        </label>
        <label className="toggle">
          <input type="checkbox" checked={replace} onChange={(e) => setReplace(e.target.checked)} /> Replace an installed bundle with the same id
        </label>
        {props.installDir ? <p className="hint">Installs go to {props.installDir}</p> : null}
      </div>
      {picking ? (
        <FolderPicker
          client={client}
          title={picking === 'checkpoint' ? 'Checkpoint folder to convert' : 'Bundle folder to import'}
          onChoose={(path) => {
            (picking === 'checkpoint' ? setCheckpoint : setSource)(path);
            setPicking(null);
          }}
          onClose={() => setPicking(null)}
        />
      ) : null}
    </>
  );
}
