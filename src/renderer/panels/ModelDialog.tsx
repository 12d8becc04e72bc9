/**
 * @module renderer/panels/ModelDialog
 * Model & device: the model bundle folder and the execution provider, with what is in use now and why it
 * fell back to another provider.
 */
import { useState } from 'react';
import type { ApiClient } from '../../shared/api/contract';
import { EXECUTION_PROVIDERS, type Settings, type SystemInfo } from '../../shared/api/dto';
import { Dialog } from './Dialog';

const EP_LABELS: Record<string, string> = {
  auto: 'Best available (CUDA → WebGPU → DirectML → CoreML → CPU)',
  cpu: 'CPU',
  webgpu: 'WebGPU (Vulkan / D3D12 / Metal)',
  cuda: 'CUDA (NVIDIA, needs the CUDA libraries)',
  dml: 'DirectML (Windows)',
  coreml: 'CoreML (macOS)',
};

export function ModelDialog(props: { client: ApiClient; settings: Settings; system: SystemInfo; canPickNative: boolean; onSaved(): void; onClose(): void }) {
  const [modelDir, setModelDir] = useState(props.settings.modelDir ?? '');
  const [ep, setEp] = useState(props.settings.executionProvider);
  const [problem, setProblem] = useState<string | null>(null);
  const { model, executionProvider } = props.system;
  return (
    <Dialog title="Model & device" onClose={props.onClose} testId="model-dialog">
      <p>
        Model: <strong>{model.name ?? 'none'}</strong> {model.variant ? `(${model.variant})` : ''} — {model.state === 'ready' ? 'ready' : model.problem}
      </p>
      <p>
        Running on: <strong>{executionProvider.active ?? 'not started yet'}</strong>
        {executionProvider.fallbackReason ? <span className="hint"> — {executionProvider.fallbackReason}</span> : null}
      </p>
      <label className="block">
        Model folder <span className="hint">(empty = the models/ folder of the app)</span>
        <input value={modelDir} onChange={(e) => setModelDir(e.target.value)} placeholder="/path/to/segearth-r1-bundle" className="grow" />
      </label>
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
      {problem ? <p className="error-text">{problem}</p> : null}
      <div className="row end">
        <button type="button" onClick={props.onClose}>
          Cancel
        </button>
        <button
          type="button"
          className="primary"
          onClick={() => {
            props.client.settings
              .update({ modelDir: modelDir.trim() === '' ? null : modelDir.trim(), executionProvider: ep })
              .then(() => {
                props.onSaved();
                props.onClose();
              })
              .catch((err: Error) => setProblem(err.message));
          }}
        >
          Save
        </button>
      </div>
    </Dialog>
  );
}
