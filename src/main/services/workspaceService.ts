/**
 * @module main/services/workspaceService
 * The open raster layers of one workspace: opening (through the path guard and `src/geo`), listing,
 * removing, and rendering their map tiles. A layer's file that changed since it was opened is confined again
 * before its next tile (a VRT rewritten to point outside the server's folders serves nothing).
 */
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { RasterLayer } from '../../shared/api/dto.js';
import { SegEarthError } from '../../shared/errors.js';
import type { GeoBackend } from './backends.js';
import type { PathGuard } from './pathGuard.js';
import { newId } from './newId.js';

export interface WorkspaceService {
  openRaster(path: string): Promise<RasterLayer>;
  listLayers(): RasterLayer[];
  getLayer(layerId: string): RasterLayer;
  removeLayer(layerId: string): void;
  renderTile(layerId: string, z: number, x: number, y: number): Promise<Uint8Array>;
  /** Called after a layer is removed (the inference service forgets its results). */
  onRemoved(listener: (layerId: string) => void): void;
}

export function createWorkspaceService(geo: GeoBackend, guard: PathGuard, onOpened: (path: string) => void = () => {}): WorkspaceService {
  const layers = new Map<string, RasterLayer>();
  /** Size and mtime of each layer's file when it was confined: a file changed since is confined again. */
  const stamps = new Map<string, string>();
  const stampOf = async (path: string): Promise<string> => {
    const st = await stat(path).catch(() => null);
    return st ? `${st.size}:${st.mtimeMs}` : 'missing';
  };
  const removedListeners: Array<(layerId: string) => void> = [];

  const getLayer = (layerId: string): RasterLayer => {
    const layer = layers.get(layerId);
    if (!layer) throw new SegEarthError('NOT_FOUND', 'This layer is no longer open.', { hint: 'Open the raster again.' });
    return layer;
  };

  return {
    async openRaster(path) {
      const real = await guard.resolveRaster(path);
      const info = await geo.openRaster(real);
      const layer: RasterLayer = {
        id: newId(),
        name: basename(real),
        path: real,
        info,
        tileGrid: geo.getTileGrid(info),
        openedAt: new Date().toISOString(),
      };
      layers.set(layer.id, layer);
      stamps.set(layer.id, await stampOf(real));
      onOpened(real);
      return layer;
    },
    listLayers: () => [...layers.values()],
    getLayer,
    removeLayer(layerId) {
      getLayer(layerId);
      layers.delete(layerId);
      stamps.delete(layerId);
      for (const listener of removedListeners) listener(layerId);
    },
    async renderTile(layerId, z, x, y) {
      const layer = getLayer(layerId);
      if (z >= layer.tileGrid.resolutions.length) {
        throw new SegEarthError('BAD_ARGUMENT', `Zoom level ${z} is beyond the finest level of ${layer.name}.`);
      }
      // A VRT edited after it was opened could point elsewhere now: check what GDAL reads again.
      const stamp = await stampOf(layer.path);
      if (stamp !== stamps.get(layerId)) {
        await guard.resolveRaster(layer.path);
        stamps.set(layerId, stamp);
      }
      return geo.renderTile(layer.path, z, x, y);
    },
    onRemoved(listener) {
      removedListeners.push(listener);
    },
  };
}
