/**
 * @module renderer/panels/DeviceSection
 * The Model & device dialog's Device part: every onnxruntime execution provider with whether it works on
 * this machine, the one Automatic uses and why the others do not, and the provider to use.
 */
import { EXECUTION_PROVIDERS, type Settings } from '../../shared/api/dto';
import type { DeviceReport } from '../../shared/api/modelDto';
import { EP_LABEL, EXECUTION_PROVIDERS as PROVIDER_ORDER, type EpRequest } from '../../shared/executionProviders';

/** What each choice needs or runs on, beside its shared display name (`shared/executionProviders`). */
const EP_DETAIL: Partial<Record<EpRequest, string>> = {
  webgpu: 'Vulkan / D3D12 / Metal',
  cuda: 'NVIDIA, needs the CUDA libraries',
  dml: 'Windows',
  coreml: 'macOS',
};

function choiceLabel(id: EpRequest): string {
  if (id === 'auto') return `Automatic (${PROVIDER_ORDER.map((p) => EP_LABEL[p]).join(' → ')})`;
  const detail = EP_DETAIL[id];
  return detail ? `${EP_LABEL[id]} (${detail})` : EP_LABEL[id];
}

export function DeviceSection(props: { devices: DeviceReport | null; provider: Settings['executionProvider']; onProvider(p: Settings['executionProvider']): void }) {
  const { devices } = props;
  return (
    <>
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
        <select value={props.provider} onChange={(e) => props.onProvider(e.target.value as Settings['executionProvider'])}>
          {EXECUTION_PROVIDERS.map((id) => (
            <option key={id} value={id}>
              {choiceLabel(id)}
            </option>
          ))}
        </select>
      </label>
    </>
  );
}
