/**
 * @module renderer/useAppCommands
 * Opening rasters (by path, through the native picker on the desktop or the server's file picker) and the
 * desktop menu commands (`workspace.command`).
 */
import { useCallback, useEffect } from 'react';
import type { AppCommand, RasterLayer } from '../shared/api/dto';
import type { Connection } from './api';
import type { WorkspaceHandles } from './workspaceHandles';

export interface AppCommandOptions extends WorkspaceHandles {
  connection: Connection;
  addLayerToMap(layer: RasterLayer): void;
  openBatch(): void;
}

function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

export function useAppCommands({ connection, dispatch, stateRef, controllerRef, testEvent, showError, addLayerToMap, openBatch }: AppCommandOptions) {
  const { client } = connection;

  const openPath = useCallback(
    async (path: string) => {
      try {
        const layer = await client.workspace.openRaster({ path });
        addLayerToMap(layer);
        dispatch({ type: 'dialog', dialog: null });
        testEvent.current('layer-opened');
      } catch (err) {
        showError(err, `Could not open ${baseName(path)}`);
      }
    },
    [client, addLayerToMap, showError, dispatch, testEvent],
  );

  const pickAndOpen = useCallback(() => {
    if (connection.kind === 'ipc') {
      void client.files.pickPath({ purpose: 'open-raster' }).then((r) => {
        if (r.path) void openPath(r.path);
      });
    } else dispatch({ type: 'dialog', dialog: 'open' });
  }, [client, connection.kind, openPath, dispatch]);

  // Menu commands (desktop).
  useEffect(() => {
    return client.on('workspace.command', (cmd: AppCommand) => {
      switch (cmd.command) {
        case 'open-raster':
          void openPath(cmd.path);
          break;
        case 'export-results':
          dispatch({ type: 'dialog', dialog: 'export' });
          break;
        case 'batch':
          openBatch();
          break;
        case 'zoom-to-layer':
          if (stateRef.current.activeLayerId) controllerRef.current?.zoomToRaster(stateRef.current.activeLayerId);
          break;
        case 'toggle-basemap':
          void client.settings.update({ basemap: !(stateRef.current.settings?.basemap ?? false) });
          break;
        case 'model-settings':
          dispatch({ type: 'dialog', dialog: 'model' });
          break;
        case 'about':
          dispatch({ type: 'dialog', dialog: 'about' });
          break;
      }
    });
  }, [client, openPath, dispatch, openBatch, stateRef, controllerRef]);

  return { openPath, pickAndOpen };
}
