/**
 * @module renderer/StatusBar
 * Bottom bar: pointer position in the map's CRS and in lon/lat, the CRS, and which model runs on which
 * execution provider (with the reason when it fell back to another one), and while the model loads and warms
 * up in the background, says so — as it does while the question's view is read ahead of the question.
 */
import type { SystemInfo } from '../shared/api/dto';
import type { PointerInfo } from './map/mapController';
import { formatLonLat, formatMapCoordinate } from './format';

/** What the status bar says while the model is not yet ready for a fast first question. */
const LOAD_NOTE: Record<string, string> = {
  loading: 'loading the model…',
  'warming-up': 'warming up the model (first run after loading)…',
};

/** "CUDA: libraries not installed (run …); WebGPU: no GPU adapter: …" → "CUDA: libraries not installed; WebGPU: no GPU adapter". */
export function shortReason(reason: string): string {
  return reason
    .split('; ')
    .map((part) => part.replace(/\s*\(.*$/, '').replace(/^(\w+: [^:]+):.*$/, '$1'))
    .join('; ');
}

export function StatusBar(props: {
  pointer: PointerInfo | null;
  units: string;
  crsLabel: string | null;
  system: SystemInfo | null;
  /** The question's view being read ahead of it, or ready (`useViewPrefetch`). */
  viewNote?: string | null;
  onModel(): void;
}) {
  const { pointer, system } = props;
  const ep = system?.executionProvider;
  return (
    <footer className="status-bar">
      <span className="coords" data-testid="coords">
        {pointer ? (
          <>
            {props.units === 'pixels'
              ? `column ${formatMapCoordinate(pointer.x, 'pixels')}, row ${formatMapCoordinate(-pointer.y, 'pixels')}`
              : `${formatMapCoordinate(pointer.x, props.units)}, ${formatMapCoordinate(pointer.y, props.units)}`}
            {pointer.lonLat ? <span className="lonlat"> · {formatLonLat(pointer.lonLat[0], pointer.lonLat[1])}</span> : null}
          </>
        ) : (
          '—'
        )}
      </span>
      <span className="crs">{props.crsLabel ?? 'no raster open'}</span>
      {system?.model.state === 'ready' && LOAD_NOTE[system.model.load ?? ''] ? (
        <span className="model-load" data-testid="model-load">
          {LOAD_NOTE[system.model.load ?? '']}
        </span>
      ) : null}
      {props.viewNote ? (
        <span className="model-load" data-testid="view-prefetch">
          {props.viewNote}
        </span>
      ) : null}
      <button type="button" className="status-model" onClick={props.onModel} title={[ep?.fallbackReason, ...(ep?.notes ?? [])].filter(Boolean).join('\n') || undefined} data-testid="status-model">
        {system
          ? system.model.state === 'ready'
            ? `${system.model.name ?? system.model.id} · ${ep?.active ?? ep?.requested ?? ''}${ep?.fallbackReason ? ` — ${ep.active === 'CPU' ? 'no GPU' : 'fell back'}: ${shortReason(ep.fallbackReason)}` : ''}${ep?.notes.length ? ' — ⚠ model precision (see Model & device)' : ''}`
            : 'No model installed'
          : 'connecting…'}
      </button>
    </footer>
  );
}
