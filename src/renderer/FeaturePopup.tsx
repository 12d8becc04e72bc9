/**
 * @module renderer/FeaturePopup
 * The attributes of a clicked result polygon, rendered into the map's popup element (OpenLayers positions it).
 */
import { createPortal } from 'react-dom';
import { formatArea } from './format';

/** Attribute values as an analyst reads them: areas and lengths with units, probabilities in %. */
function formatAttribute(key: string, value: unknown): string {
  if (typeof value !== 'number') return value === null || value === undefined ? '–' : String(value);
  if (key === 'area_m2') return `${formatArea(value)} (${Math.round(value).toLocaleString('en')} m²)`;
  if (key === 'perimeter_m') return value >= 1000 ? `${(value / 1000).toFixed(2)} km` : `${Math.round(value)} m`;
  if (key === 'threshold' || key.startsWith('mean_prob') || key === 'probability') return `${Math.round(value * 100)} %`;
  return Number.isInteger(value) ? String(value) : value.toFixed(3);
}

export function FeaturePopup({ host, properties, onClose }: { host: HTMLElement | null; properties: Record<string, unknown> | null; onClose(): void }) {
  if (!host || !properties) return null;
  return createPortal(
    <div className="popup" data-testid="popup">
      <button type="button" className="icon popup-close" onClick={onClose} aria-label="Close">
        ✕
      </button>
      <table>
        <tbody>
          {Object.entries(properties).map(([k, v]) => (
            <tr key={k}>
              <th>{k}</th>
              <td>{formatAttribute(k, v)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>,
    host,
  );
}
