/**
 * @module renderer/state
 * Workspace state of the renderer (what the panels show), kept in one reducer: open layers with their
 * display settings, per-scene question history, the running job, dialogs and the error banner.
 */
import type { JobEvent, RasterLayer, ResultSummary, Settings, SystemInfo } from '../shared/api/dto';
import type { ErrorPayload } from '../shared/errors';

export interface LayerView {
  layer: RasterLayer;
  visible: boolean;
  opacity: number;
}

export interface ResultView {
  summary: ResultSummary;
  visible: boolean;
  heatmap: boolean;
  color: string;
}

export interface RunningJob {
  jobId: string;
  layerId: string;
  question: string;
  progress: Extract<JobEvent, { type: 'progress' }> | null;
  cancelling: boolean;
}

/** `model-get`: Model & device scrolled to the Get cards (from the first-run guide). */
export type Dialog = 'open' | 'export' | 'model' | 'model-get' | 'about' | null;

export interface WorkspaceState {
  system: SystemInfo | null;
  settings: Settings | null;
  /** Top layer first. */
  layers: LayerView[];
  activeLayerId: string | null;
  results: ResultView[];
  selectedResultId: string | null;
  job: RunningJob | null;
  error: (ErrorPayload & { title?: string }) | null;
  notice: string | null;
  dialog: Dialog;
}

export const initialState: WorkspaceState = {
  system: null,
  settings: null,
  layers: [],
  activeLayerId: null,
  results: [],
  selectedResultId: null,
  job: null,
  error: null,
  notice: null,
  dialog: null,
};

export type Action =
  | { type: 'system'; system: SystemInfo }
  | { type: 'settings'; settings: Settings }
  | { type: 'layer-opened'; layer: RasterLayer }
  | { type: 'layer-removed'; layerId: string }
  | { type: 'layer-visible'; layerId: string; visible: boolean }
  | { type: 'layer-opacity'; layerId: string; opacity: number }
  | { type: 'layer-move'; layerId: string; delta: -1 | 1 }
  | { type: 'activate-layer'; layerId: string }
  | { type: 'job-started'; job: RunningJob }
  | { type: 'job-event'; event: JobEvent; color: string }
  | { type: 'job-cancelling' }
  | { type: 'result-updated'; summary: ResultSummary }
  | { type: 'result-removed'; resultId: string }
  | { type: 'result-visible'; resultId: string; visible: boolean }
  | { type: 'result-heatmap'; resultId: string; heatmap: boolean }
  | { type: 'select-result'; resultId: string | null }
  | { type: 'error'; error: WorkspaceState['error'] }
  | { type: 'notice'; notice: string | null }
  | { type: 'dialog'; dialog: Dialog };

export function reducer(state: WorkspaceState, action: Action): WorkspaceState {
  switch (action.type) {
    case 'system':
      return { ...state, system: action.system };
    case 'settings':
      return { ...state, settings: action.settings };
    case 'layer-opened':
      return {
        ...state,
        layers: [{ layer: action.layer, visible: true, opacity: 1 }, ...state.layers],
        activeLayerId: action.layer.id,
        error: null,
      };
    case 'layer-removed': {
      const layers = state.layers.filter((l) => l.layer.id !== action.layerId);
      const results = state.results.filter((r) => r.summary.layerId !== action.layerId);
      return {
        ...state,
        layers,
        results,
        activeLayerId: state.activeLayerId === action.layerId ? (layers[0]?.layer.id ?? null) : state.activeLayerId,
        selectedResultId: results.some((r) => r.summary.id === state.selectedResultId) ? state.selectedResultId : null,
      };
    }
    case 'layer-visible':
      return { ...state, layers: state.layers.map((l) => (l.layer.id === action.layerId ? { ...l, visible: action.visible } : l)) };
    case 'layer-opacity':
      return { ...state, layers: state.layers.map((l) => (l.layer.id === action.layerId ? { ...l, opacity: action.opacity } : l)) };
    case 'layer-move': {
      const i = state.layers.findIndex((l) => l.layer.id === action.layerId);
      const j = i + action.delta;
      if (i < 0 || j < 0 || j >= state.layers.length) return state;
      const layers = [...state.layers];
      [layers[i], layers[j]] = [layers[j]!, layers[i]!];
      return { ...state, layers };
    }
    case 'activate-layer':
      return { ...state, activeLayerId: action.layerId };
    case 'job-started':
      return { ...state, job: action.job, error: null, notice: null };
    case 'job-event': {
      const { event } = action;
      if (!state.job || state.job.jobId !== event.jobId) return state;
      if (event.type === 'progress') return { ...state, job: { ...state.job, progress: event } };
      if (event.type === 'result') {
        return {
          ...state,
          job: null,
          results: [{ summary: event.result, visible: true, heatmap: false, color: action.color }, ...state.results],
          selectedResultId: event.result.id,
        };
      }
      return event.error.code === 'CANCELLED'
        ? { ...state, job: null, notice: 'Cancelled — nothing was kept from this run.' }
        : { ...state, job: null, error: { ...event.error, title: 'The question could not be answered' } };
    }
    case 'job-cancelling':
      return state.job ? { ...state, job: { ...state.job, cancelling: true } } : state;
    case 'result-updated':
      return { ...state, results: state.results.map((r) => (r.summary.id === action.summary.id ? { ...r, summary: action.summary } : r)) };
    case 'result-removed':
      return {
        ...state,
        results: state.results.filter((r) => r.summary.id !== action.resultId),
        selectedResultId: state.selectedResultId === action.resultId ? null : state.selectedResultId,
      };
    case 'result-visible':
      return { ...state, results: state.results.map((r) => (r.summary.id === action.resultId ? { ...r, visible: action.visible } : r)) };
    case 'result-heatmap':
      return { ...state, results: state.results.map((r) => (r.summary.id === action.resultId ? { ...r, heatmap: action.heatmap } : r)) };
    case 'select-result':
      return { ...state, selectedResultId: action.resultId };
    case 'error':
      return { ...state, error: action.error };
    case 'notice':
      return { ...state, notice: action.notice };
    case 'dialog':
      return { ...state, dialog: action.dialog };
  }
}
