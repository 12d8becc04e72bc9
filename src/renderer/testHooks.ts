/**
 * @module renderer/testHooks
 * `window.SegEarthTestHooks`, for end-to-end tests only: installed when the backend says test hooks are on
 * (server started with SEGEARTH_TEST_HOOKS=1). Tests read the map back through it (view, layers, result
 * polygons in map coordinates) and wait for named app events instead of sleeping.
 */
import type { MapController } from './map/mapController';
import type { WorkspaceState } from './state';

export interface SegEarthTestHooks {
  /** Names of app events so far, in order ('app-loaded', 'layer-opened', 'result', 'revectorized', 'error'...). */
  events: string[];
  map(): Record<string, unknown>;
  state(): Pick<WorkspaceState, 'layers' | 'results' | 'selectedResultId' | 'error' | 'notice' | 'activeLayerId'> & { jobRunning: boolean };
  coordinateAt(pixel: [number, number]): number[] | null;
  pixelAt(coordinate: [number, number]): number[] | null;
}

declare global {
  interface Window {
    SegEarthTestHooks?: SegEarthTestHooks;
  }
}

export function installTestHooks(controller: MapController, getState: () => WorkspaceState): (name: string) => void {
  const hooks: SegEarthTestHooks = {
    events: [],
    map: () => controller.testState(),
    state: () => {
      const s = getState();
      return { layers: s.layers, results: s.results, selectedResultId: s.selectedResultId, error: s.error, notice: s.notice, activeLayerId: s.activeLayerId, jobRunning: s.job !== null };
    },
    coordinateAt: (pixel) => controller.coordinateAt(pixel),
    pixelAt: (coordinate) => controller.pixelAt(coordinate),
  };
  window.SegEarthTestHooks = hooks;
  return (name) => hooks.events.push(name);
}
