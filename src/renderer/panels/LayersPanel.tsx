/**
 * @module renderer/panels/LayersPanel
 * The layers panel: each open raster with visibility, opacity, order, zoom to and remove, plus the CRS and
 * size an analyst checks first.
 */
import type { LayerView } from '../state';
import { crsLabel } from '../map/proj';

export interface LayersPanelProps {
  layers: LayerView[];
  activeLayerId: string | null;
  onActivate(id: string): void;
  onVisible(id: string, visible: boolean): void;
  onOpacity(id: string, opacity: number): void;
  onMove(id: string, delta: -1 | 1): void;
  onZoom(id: string): void;
  onRemove(id: string): void;
  onOpen(): void;
}

export function LayersPanel(props: LayersPanelProps) {
  return (
    <section className="panel" aria-label="Layers">
      <header className="panel-title">
        <span>Layers</span>
        <button type="button" className="small" onClick={props.onOpen} data-testid="open-raster">
          Open raster…
        </button>
      </header>
      {props.layers.length === 0 ? (
        <p className="hint">No raster open. Open a scene (GeoTIFF, JPEG2000, VRT…) or drop it on the map.</p>
      ) : (
        <ul className="layer-list" data-testid="layer-list">
          {props.layers.map((view, index) => {
            const { layer } = view;
            const active = layer.id === props.activeLayerId;
            return (
              <li key={layer.id} className={active ? 'layer active' : 'layer'} data-testid="layer-item" data-layer-id={layer.id}>
                <div className="layer-row">
                  <input
                    type="checkbox"
                    checked={view.visible}
                    onChange={(e) => props.onVisible(layer.id, e.target.checked)}
                    aria-label={`Show ${layer.name}`}
                  />
                  <button type="button" className="layer-name" onClick={() => props.onActivate(layer.id)} title={layer.path}>
                    {layer.name}
                  </button>
                  <button type="button" className="icon" title="Move up" disabled={index === 0} onClick={() => props.onMove(layer.id, -1)}>
                    ▲
                  </button>
                  <button type="button" className="icon" title="Move down" disabled={index === props.layers.length - 1} onClick={() => props.onMove(layer.id, 1)}>
                    ▼
                  </button>
                  <button type="button" className="icon" title="Zoom to layer" onClick={() => props.onZoom(layer.id)}>
                    ⤢
                  </button>
                  <button type="button" className="icon" title="Remove layer" onClick={() => props.onRemove(layer.id)}>
                    ✕
                  </button>
                </div>
                <div className="layer-meta">
                  {layer.info.width} × {layer.info.height} px · {layer.info.bandCount} band{layer.info.bandCount === 1 ? '' : 's'} {layer.info.bands[0]?.dataType ?? ''} ·{' '}
                  {crsLabel(layer.info)}
                  {layer.info.pixelSizeMetres ? ` · ${layer.info.pixelSizeMetres[0].toPrecision(3)} m pixels` : ''}
                </div>
                {layer.info.warnings.map((w) => (
                  <div key={w} className="layer-warning">
                    ⚠ {w}
                  </div>
                ))}
                <label className="opacity">
                  Opacity
                  <input
                    type="range"
                    min={0}
                    max={1}
                    step={0.05}
                    value={view.opacity}
                    onChange={(e) => props.onOpacity(layer.id, Number(e.target.value))}
                  />
                </label>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
