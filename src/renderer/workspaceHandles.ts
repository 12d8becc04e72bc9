/**
 * @module renderer/workspaceHandles
 * What the workspace's hooks share: the reducer's dispatch, the latest state, the map controller, the
 * end-to-end test event sink and the error banner.
 */
import type { Dispatch, MutableRefObject } from 'react';
import type { MapController } from './map/mapController';
import type { Action, WorkspaceState } from './state';

export interface WorkspaceHandles {
  dispatch: Dispatch<Action>;
  stateRef: MutableRefObject<WorkspaceState>;
  controllerRef: MutableRefObject<MapController | null>;
  testEvent: MutableRefObject<(name: string) => void>;
  showError(err: unknown, title: string): void;
}
