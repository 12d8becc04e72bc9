/**
 * @module renderer/panels/ExportDialog
 * Export results: choose results of the scene, a format (GeoJSON, Shapefile, GeoPackage, mask GeoTIFF) and
 * where to write; shows what was written, or why not.
 */
import { useState } from 'react';
import type { ApiClient } from '../../shared/api/contract';
import type { ExportFormat, ExportReport } from '../../shared/api/dto';
import type { ResultView } from '../state';
import { Dialog } from './Dialog';

const FORMATS: Array<{ id: ExportFormat; label: string; ext: string; note: string }> = [
  { id: 'geojson', label: 'GeoJSON', ext: '.geojson', note: 'RFC 7946: longitude/latitude (EPSG:4326).' },
  { id: 'gpkg', label: 'GeoPackage', ext: '.gpkg', note: 'Raster CRS; one layer per result, all in one file.' },
  { id: 'shp', label: 'ESRI Shapefile', ext: '.shp', note: 'Raster CRS; field names cut to 10 characters.' },
  { id: 'mask-geotiff', label: 'Mask GeoTIFF', ext: '.tif', note: 'One result as a 0/1 mask on the raster grid.' },
];

export function ExportDialog(props: {
  client: ApiClient;
  results: ResultView[];
  selectedResultId: string | null;
  defaultFolder: string;
  canPickNative: boolean;
  onClose(): void;
}) {
  const [chosen, setChosen] = useState<string[]>(props.selectedResultId ? [props.selectedResultId] : props.results.map((r) => r.summary.id));
  const [format, setFormat] = useState<ExportFormat>('geojson');
  const [path, setPath] = useState(`${props.defaultFolder}/segearth-results.geojson`);
  const [overwrite, setOverwrite] = useState(false);
  const [report, setReport] = useState<ExportReport | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const changeFormat = (next: ExportFormat): void => {
    setFormat(next);
    const ext = FORMATS.find((f) => f.id === next)!.ext;
    setPath((p) => p.replace(/\.(geojson|json|gpkg|shp|tif|tiff)$/i, '') + ext);
  };

  return (
    <Dialog title="Export results" onClose={props.onClose} testId="export-dialog" wide>
      {props.results.length === 0 ? <p className="hint">Ask a question first: there is nothing to export yet.</p> : null}
      <fieldset>
        <legend>Results</legend>
        {props.results.map((r) => (
          <label key={r.summary.id} className="block">
            <input
              type="checkbox"
              checked={chosen.includes(r.summary.id)}
              onChange={(e) => setChosen((c) => (e.target.checked ? [...c, r.summary.id] : c.filter((id) => id !== r.summary.id)))}
            />
            {r.summary.question} <span className="hint">({r.summary.featureCount} polygons)</span>
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Format</legend>
        {FORMATS.map((f) => (
          <label key={f.id} className="block">
            <input type="radio" name="format" checked={format === f.id} onChange={() => changeFormat(f.id)} data-testid={`format-${f.id}`} />
            {f.label} <span className="hint">{f.note}</span>
          </label>
        ))}
      </fieldset>
      <label className="block">
        Save as
        <div className="row">
          <input className="grow" value={path} onChange={(e) => setPath(e.target.value)} data-testid="export-path" aria-label="Output file" />
          {props.canPickNative ? (
            <button
              type="button"
              onClick={() => {
                void props.client.files.pickPath({ purpose: 'export', defaultName: path }).then((r) => {
                  if (r.path) setPath(r.path);
                });
              }}
            >
              Browse…
            </button>
          ) : null}
        </div>
      </label>
      <label className="block">
        <input type="checkbox" checked={overwrite} onChange={(e) => setOverwrite(e.target.checked)} /> Replace the file if it exists
      </label>
      {problem ? (
        <p className="error-text" data-testid="export-error">
          {problem}
        </p>
      ) : null}
      {report ? (
        <div className="notice" data-testid="export-done">
          Wrote {report.featureCount} polygon{report.featureCount === 1 ? '' : 's'} to <code>{report.path}</code>
          {report.files.length > 1 ? ` (${report.files.length} files)` : ''}.
        </div>
      ) : null}
      <div className="row end">
        <button type="button" onClick={props.onClose}>
          Close
        </button>
        <button
          type="button"
          className="primary"
          disabled={busy || chosen.length === 0 || !path.trim()}
          data-testid="export-run"
          onClick={() => {
            setBusy(true);
            setProblem(null);
            setReport(null);
            props.client.export
              .results({ resultIds: chosen, format, path: path.trim(), overwrite })
              .then(setReport)
              .catch((err: Error & { hint?: string }) => setProblem(`${err.message}${err.hint ? ` ${err.hint}` : ''}`))
              .finally(() => setBusy(false));
          }}
        >
          Export
        </button>
      </div>
    </Dialog>
  );
}
