/**
 * @module renderer/App
 * The workspace layout: toolbar, layers panel and question panel on the left, the map in the middle, status bar
 * at the bottom, and the dialogs. Talks to the backend only through the typed API client of {@link Connection};
 * the map set-up is `useMapSetup`, the map following the workspace state `useMapFollowsState`, the AOI
 * `useAoi`, opening rasters and menu commands `useAppCommands`, reading the question's view while it is typed
 * `useViewPrefetch`.
 */
import { useCallback, useEffect, useReducer, useRef, useState, type DragEvent } from 'react';
import type { Aoi } from '../shared/api/dto';
import type { Connection } from './api';
import type { MapController } from './map/mapController';
import { crsLabel } from './map/proj';
import { LayersPanel } from './panels/LayersPanel';
import { QuestionPanel, type Strategy } from './panels/QuestionPanel';
import { FilePicker } from './panels/FilePicker';
import { ExportDialog } from './panels/ExportDialog';
import { ModelDialog } from './panels/ModelDialog';
import { Dialog } from './panels/Dialog';
import { BatchPanel } from './panels/BatchPanel';
import { StatusBar } from './StatusBar';
import { FeaturePopup } from './FeaturePopup';
import { initialState, reducer, type ResultView } from './state';
import { useFirstRunGuide } from './useFirstRunGuide';
import { errorPayloadOf } from './errorPayload';
import { useQuestionJobs } from './useQuestionJobs';
import { useMapSetup } from './useMapSetup';
import { useMapFollowsState } from './useMapFollowsState';
import { useAoi } from './useAoi';
import { useAppCommands } from './useAppCommands';
import { useViewPrefetch } from './useViewPrefetch';

export function App({ connection }: { connection: Connection }) {
  const { client } = connection;
  const [state, dispatch] = useReducer(reducer, initialState);
  const stateRef = useRef(state);
  stateRef.current = state;
  const controllerRef = useRef<MapController | null>(null);
  const testEvent = useRef<(name: string) => void>(() => {});
  const [dragging, setDragging] = useState(false);
  const [batchOpen, setBatchOpen] = useState(false);
  const openBatch = useCallback(() => setBatchOpen(true), []);
  const onBatchTestEvent = useCallback((name: string) => testEvent.current(name), []);
  const guide = useFirstRunGuide(client, state.system?.model.state ?? null);

  const showError = useCallback((err: unknown, title: string) => {
    dispatch({ type: 'error', error: { ...errorPayloadOf(err), title } });
    testEvent.current('error');
  }, []);

  const handles = { dispatch, stateRef, controllerRef, testEvent, showError };
  const { submit, revectorize } = useQuestionJobs({ client, ...handles });

  const refreshSystem = useCallback(() => {
    void client.system.info({}).then((system) => dispatch({ type: 'system', system }));
  }, [client]);

  // While the model loads and warms up in the background, follow it in the status bar.
  const modelLoad = state.system?.model.load;
  useEffect(() => {
    if (modelLoad !== 'loading' && modelLoad !== 'warming-up') return;
    const timer = setTimeout(refreshSystem, 500);
    return () => clearTimeout(timer);
  }, [modelLoad, state.system, refreshSystem]);

  const { mapElement, popupHost, pointer, popup, closePopup, addLayerToMap } = useMapSetup({ connection, ...handles, refreshSystem });
  const { openPath, pickAndOpen } = useAppCommands({ connection, ...handles, addLayerToMap, openBatch });
  useMapFollowsState(state, controllerRef);
  const { aoiMode, setAoiMode, drawnAoi, aoiFor } = useAoi(state.activeLayerId, controllerRef);
  const viewPrefetch = useViewPrefetch({
    client,
    stateRef,
    aoiFor,
    testEvent,
    jobRunning: state.job !== null,
    viewContext: JSON.stringify([state.activeLayerId, aoiMode, drawnAoi]),
    readWhenKnown: aoiMode !== 'view' && state.system?.model.load === 'loaded' && state.system.model.state === 'ready',
  });

  const ask = useCallback(
    async (question: string, strategy: Strategy, aoiOverride?: Aoi, threshold?: number, minAreaM2?: number) => {
      const s = stateRef.current;
      const layerId = s.activeLayerId;
      if (!layerId) return;
      const aoi = aoiOverride ?? aoiFor(layerId);
      if (!aoi) return;
      await submit({
        layerId,
        question,
        aoi,
        threshold: threshold ?? s.settings?.defaultThreshold ?? 0.5,
        minAreaM2: minAreaM2 ?? s.settings?.defaultMinAreaM2 ?? 0,
        strategy,
      });
    },
    [submit, aoiFor],
  );

  const onDrop = (e: DragEvent<HTMLDivElement>): void => {
    e.preventDefault();
    setDragging(false);
    const file = e.dataTransfer.files[0];
    const path = file ? connection.pathForFile(file) : e.dataTransfer.getData('text/plain').trim();
    if (path) void openPath(path);
    else if (file) {
      dispatch({
        type: 'notice',
        notice: `The browser does not tell the server where “${file.name}” is. Use Open raster… to pick it from the server's folders.`,
      });
    }
  };

  const active = state.layers.find((l) => l.layer.id === state.activeLayerId)?.layer ?? null;
  const resultsOfScene: ResultView[] = state.results.filter((r) => r.summary.layerId === state.activeLayerId);
  const viewLayer = state.layers[state.layers.length - 1]?.layer ?? null;
  const units = viewLayer?.info.crs ? (viewLayer.info.crs.isGeographic ? 'degrees' : 'm') : 'pixels';
  const defaultFolder = state.system?.roots[0] ?? (active ? active.path.replace(/[\\/][^\\/]*$/, '') : '.');

  return (
    <div className="app">
      <header className="toolbar">
        <span className="brand">SegEarth</span>
        <button type="button" onClick={pickAndOpen}>
          Open raster…
        </button>
        <button type="button" onClick={() => dispatch({ type: 'dialog', dialog: 'export' })} disabled={state.results.length === 0}>
          Export…
        </button>
        <button type="button" onClick={() => setBatchOpen(true)} data-testid="open-batch" title="Run questions over every scene of a folder">
          Batch…
        </button>
        <label className="toggle" title="Online OpenStreetMap tiles under the scene (needs internet)">
          <input
            type="checkbox"
            checked={state.settings?.basemap ?? false}
            onChange={(e) => void client.settings.update({ basemap: e.target.checked })}
            data-testid="basemap"
          />
          Basemap (online)
        </label>
        <span className="grow" />
        <button type="button" onClick={() => dispatch({ type: 'dialog', dialog: 'model' })}>
          Model &amp; device…
        </button>
        <button type="button" onClick={() => dispatch({ type: 'dialog', dialog: 'about' })}>
          About
        </button>
      </header>
      <aside className="sidebar">
        <LayersPanel
          layers={state.layers}
          activeLayerId={state.activeLayerId}
          onActivate={(id) => dispatch({ type: 'activate-layer', layerId: id })}
          onVisible={(id, visible) => dispatch({ type: 'layer-visible', layerId: id, visible })}
          onOpacity={(id, opacity) => dispatch({ type: 'layer-opacity', layerId: id, opacity })}
          onMove={(id, delta) => dispatch({ type: 'layer-move', layerId: id, delta })}
          onZoom={(id) => controllerRef.current?.zoomToRaster(id)}
          onRemove={(id) => {
            void client.workspace
              .removeLayer({ layerId: id })
              .then(() => {
                controllerRef.current?.removeRaster(id);
                dispatch({ type: 'layer-removed', layerId: id });
              })
              .catch((err: unknown) => showError(err, 'Could not remove the layer'));
          }}
          onOpen={pickAndOpen}
        />
        <QuestionPanel
          model={state.system?.model ?? null}
          guide={guide}
          hasLayer={active !== null}
          areasKnown={active?.info.crs != null}
          job={state.job}
          aoiMode={aoiMode}
          drawnAoi={drawnAoi}
          results={resultsOfScene}
          selectedResultId={state.selectedResultId}
          notice={state.notice}
          onAoiMode={setAoiMode}
          onAsk={(q, strategy) => void ask(q, strategy)}
          onQuestionActivity={viewPrefetch.onQuestionActivity}
          onDetail={viewPrefetch.onDetail}
          onCancel={() => {
            if (!state.job) return;
            dispatch({ type: 'job-cancelling' });
            void client.inference.cancel({ jobId: state.job.jobId }).catch((err: unknown) => showError(err, 'Could not cancel'));
          }}
          onRerun={(r) => void ask(r.summary.question, r.summary.strategy, r.summary.aoi, r.summary.threshold, r.summary.minAreaM2)}
          onDelete={(id) => {
            void client.inference
              .deleteResult({ resultId: id })
              .then(() => {
                controllerRef.current?.removeResult(id);
                dispatch({ type: 'result-removed', resultId: id });
              })
              .catch((err: unknown) => showError(err, 'Could not delete the result'));
          }}
          onSelect={(id) => dispatch({ type: 'select-result', resultId: id })}
          onVisible={(id, visible) => dispatch({ type: 'result-visible', resultId: id, visible })}
          onHeatmap={(id, on) => dispatch({ type: 'result-heatmap', resultId: id, heatmap: on })}
          onRevectorize={revectorize}
          onZoom={(id) => controllerRef.current?.zoomToResult(id)}
          onExport={() => dispatch({ type: 'dialog', dialog: 'export' })}
          onModelSettings={() => dispatch({ type: 'dialog', dialog: 'model' })}
          onGetModel={() => dispatch({ type: 'dialog', dialog: 'model-get' })}
        />
      </aside>
      <main
        className={dragging ? 'map-area dragging' : 'map-area'}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <div ref={mapElement} className="map" data-testid="map" />
        {state.layers.length === 0 ? (
          <div className="map-empty">
            <p>Open a raster or drop it here.</p>
            <button type="button" onClick={pickAndOpen}>
              Open raster…
            </button>
          </div>
        ) : null}
        {batchOpen ? (
          <BatchPanel
            client={client}
            canPickNative={connection.kind === 'ipc'}
            defaultFolder={state.system?.roots[0] ?? ''}
            defaultThreshold={state.settings?.defaultThreshold ?? 0.5}
            defaultMinAreaM2={state.settings?.defaultMinAreaM2 ?? 0}
            onClose={() => setBatchOpen(false)}
            onTestEvent={onBatchTestEvent}
          />
        ) : null}
        {state.error ? (
          <div className="error-banner" role="alert" data-testid="error-banner">
            <div>
              <strong>{state.error.title ?? 'Something went wrong'}</strong>
              <p data-testid="error-message">{state.error.message}</p>
              {state.error.hint ? <p className="hint">{state.error.hint}</p> : null}
            </div>
            <button type="button" className="icon" onClick={() => dispatch({ type: 'error', error: null })} aria-label="Dismiss">
              ✕
            </button>
          </div>
        ) : null}
        <FeaturePopup host={popupHost} properties={popup} onClose={closePopup} />
      </main>
      <StatusBar
        pointer={pointer}
        units={units}
        crsLabel={viewLayer ? crsLabel(viewLayer.info) : null}
        system={state.system}
        viewNote={viewPrefetch.note}
        onModel={() => dispatch({ type: 'dialog', dialog: 'model' })}
      />
      {state.dialog === 'open' ? (
        <FilePicker client={client} onOpen={(p) => void openPath(p)} onClose={() => dispatch({ type: 'dialog', dialog: null })} recent={state.settings?.recentFiles ?? []} />
      ) : null}
      {state.dialog === 'export' ? (
        <ExportDialog
          client={client}
          results={resultsOfScene}
          selectedResultId={state.selectedResultId}
          defaultFolder={defaultFolder}
          canPickNative={connection.kind === 'ipc'}
          onClose={() => dispatch({ type: 'dialog', dialog: null })}
        />
      ) : null}
      {(state.dialog === 'model' || state.dialog === 'model-get') && state.settings && state.system ? (
        <ModelDialog
          {...(state.dialog === 'model-get' ? { focus: 'get' as const } : {})}
          client={client}
          settings={state.settings}
          system={state.system}
          canPickNative={connection.kind === 'ipc'}
          onSaved={refreshSystem}
          onClose={() => dispatch({ type: 'dialog', dialog: null })}
        />
      ) : null}
      {state.dialog === 'about' ? (
        <Dialog title="About SegEarth Desktop" onClose={() => dispatch({ type: 'dialog', dialog: null })}>
          <p>SegEarth Desktop {state.system?.appVersion} — answers questions about satellite and aerial scenes with SegEarth-R1 and returns georeferenced polygons.</p>
          <p className="hint">
            GDAL {state.system?.gdalVersion ?? '?'} · onnxruntime {state.system?.onnxruntimeVersion ?? 'not loaded'} · Node {state.system?.nodeVersion} ·{' '}
            {state.system?.platform}/{state.system?.arch} · {state.system?.mode === 'server' ? 'server mode' : 'desktop'}
          </p>
        </Dialog>
      ) : null}
    </div>
  );
}
