/**
 * @module renderer/useMapSetup
 * Creates the map once the workspace is mounted, loads the first data (system info, settings, the layers the
 * backend already has open), follows settings changes (basemap), installs the end-to-end test hooks when the
 * backend asks for them, and tears it all down on unmount.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { RasterLayer } from '../shared/api/dto';
import type { Connection } from './api';
import { MapController, type PointerInfo } from './map/mapController';
import type { WorkspaceHandles } from './workspaceHandles';
import { installTestHooks } from './testHooks';

export interface MapSetupOptions extends WorkspaceHandles {
  connection: Connection;
  refreshSystem(): void;
}

export function useMapSetup({ connection, dispatch, stateRef, controllerRef, testEvent, showError, refreshSystem }: MapSetupOptions) {
  const { client } = connection;
  const mapElement = useRef<HTMLDivElement>(null);
  const [popupHost, setPopupHost] = useState<HTMLElement | null>(null);
  const [pointer, setPointer] = useState<PointerInfo | null>(null);
  const [popup, setPopup] = useState<Record<string, unknown> | null>(null);

  /** Shows an opened raster on the map and in the workspace. */
  const addLayerToMap = useCallback(
    (layer: RasterLayer) => {
      if (!controllerRef.current) throw new Error('map not ready');
      controllerRef.current.addRaster(layer);
      dispatch({ type: 'layer-opened', layer });
    },
    [controllerRef, dispatch],
  );

  // Map, first data, events.
  useEffect(() => {
    if (!mapElement.current) return;
    const c = new MapController(mapElement.current, {
      resourceUrl: connection.resourceUrl,
      onPointer: setPointer,
      onFeatureClick: (props) => setPopup(props),
      onTileError: () => testEvent.current('tile-error'),
    });
    controllerRef.current = c;
    setPopupHost(c.popupElement);
    const offSettings = client.on('settings.changed', (settings) => {
      dispatch({ type: 'settings', settings });
      c.setBasemap(settings.basemap);
      refreshSystem();
    });
    void (async () => {
      try {
        const [system, settings, layers] = await Promise.all([client.system.info({}), client.settings.get({}), client.workspace.listLayers({})]);
        dispatch({ type: 'system', system });
        dispatch({ type: 'settings', settings });
        c.setBasemap(settings.basemap);
        if (system.testHooks) testEvent.current = installTestHooks(c, () => stateRef.current);
        for (const layer of [...layers].reverse()) addLayerToMap(layer);
        testEvent.current('app-loaded');
      } catch (err) {
        showError(err, 'Cannot reach the SegEarth backend');
      }
    })();
    return () => {
      offSettings();
      c.dispose();
      controllerRef.current = null;
    };
  }, [client, connection, addLayerToMap, refreshSystem, showError, controllerRef, dispatch, stateRef, testEvent]);

  const closePopup = useCallback(() => {
    controllerRef.current?.closePopup();
    setPopup(null);
  }, [controllerRef]);

  return { mapElement, popupHost, pointer, popup, closePopup, addLayerToMap };
}
