/**
 * @module renderer/useMapFollowsState
 * The workspace state is the one source of truth for what the map shows: layer order, raster visibility and
 * opacity, result visibility and heatmaps follow it (the panels only dispatch).
 */
import { useEffect, type MutableRefObject } from 'react';
import type { MapController } from './map/mapController';
import type { WorkspaceState } from './state';

/** Calls `apply` for each entry of a look key (`"id a b,id a b"`: what the map must show of each layer). */
function forEachLook(look: string, apply: (id: string, a: string, b: string) => void): void {
  if (!look) return;
  for (const entry of look.split(',')) {
    const [id, a, b] = entry.split(' ') as [string, string, string];
    apply(id, a, b);
  }
}

export function useMapFollowsState(state: WorkspaceState, controllerRef: MutableRefObject<MapController | null>): void {
  // Layer order on the map follows the panel.
  const layerOrder = state.layers.map((l) => l.layer.id).join(',');
  useEffect(() => {
    controllerRef.current?.setRasterOrder(layerOrder ? layerOrder.split(',') : []);
  }, [layerOrder, controllerRef]);

  const rasterLook = state.layers.map((l) => `${l.layer.id} ${l.visible ? 1 : 0} ${l.opacity}`).join(',');
  useEffect(() => {
    forEachLook(rasterLook, (id, visible, opacity) => {
      controllerRef.current?.setRasterVisible(id, visible === '1');
      controllerRef.current?.setRasterOpacity(id, Number(opacity));
    });
  }, [rasterLook, controllerRef]);
  const resultLook = state.results.map((r) => `${r.summary.id} ${r.visible ? 1 : 0} ${r.heatmap ? 1 : 0}`).join(',');
  useEffect(() => {
    forEachLook(resultLook, (id, visible, heatmap) => {
      controllerRef.current?.setResultVisible(id, visible === '1');
      controllerRef.current?.setHeatmap(id, heatmap === '1');
    });
  }, [resultLook, controllerRef]);
}
