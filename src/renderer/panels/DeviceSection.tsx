/**
 * @module renderer/panels/DeviceSection
 * The Model & device dialog's Device part: every onnxruntime execution provider with whether it works on
 * this machine, the one Automatic uses and why the others do not, and the provider to use.
 */
import { EXECUTION_PROVIDERS, type Settings } from '../../shared/api/dto';
import type { DeviceReport } from '../../shared/api/modelDto';

const EP_LABELS: Record<string, string> = {
  auto: 'Automatic (CUDA → WebGPU → DirectML → CoreML → CPU)',
  cpu: 'CPU',
  webgpu: 'WebGPU (Vulkan / D3D12 / Metal)',
  cuda: 'CUDA (NVIDIA, needs the CUDA libraries)',
  dml: 'DirectML (Windows)',
  coreml: 'CoreML (macOS)',
};

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
              {EP_LABELS[id]}
            </option>
          ))}
        </select>
      </label>
    </>
  );
}
