/**
 * @module renderer/useAoi
 * The area a question is asked about: the chosen AOI tool (whole scene, current view, rectangle, polygon),
 * drawing on the map while a drawing tool is chosen, and the AOI in the active raster's CRS when asking.
 */
import { useCallback, useEffect, useState, type MutableRefObject } from 'react';
import type { Aoi } from '../shared/api/dto';
import type { MapController } from './map/mapController';
import type { AoiMode } from './panels/QuestionPanel';

export function useAoi(activeLayerId: string | null, controllerRef: MutableRefObject<MapController | null>) {
  const [aoiMode, setAoiMode] = useState<AoiMode>('scene');
  const [drawnAoi, setDrawnAoi] = useState<Aoi | null>(null);

  // AOI drawing follows the chosen tool.
  useEffect(() => {
    const c = controllerRef.current;
    if (!c) return;
    setDrawnAoi(null);
    if ((aoiMode === 'rectangle' || aoiMode === 'polygon') && activeLayerId) {
      c.drawAoi(activeLayerId, aoiMode, (aoi) => setDrawnAoi(aoi));
    } else c.clearAoi();
  }, [aoiMode, activeLayerId, controllerRef]);

  /** The AOI of a question about `layerId` under the chosen tool; null while a drawing tool has nothing drawn. */
  const aoiFor = useCallback(
    (layerId: string): Aoi | null => {
      if (aoiMode === 'scene') return { kind: 'scene' };
      if (aoiMode === 'view') {
        if (!controllerRef.current) throw new Error('map not ready');
        const extent = controllerRef.current.viewExtentIn(layerId);
        return extent ? { kind: 'view', extent } : { kind: 'scene' };
      }
      return drawnAoi;
    },
    [aoiMode, drawnAoi, controllerRef],
  );

  return { aoiMode, setAoiMode, drawnAoi, aoiFor };
}
