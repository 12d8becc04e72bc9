/**
 * @module main/services/geoAdapter
 * The real {@link GeoBackend}: `src/geo` (gdal-async) behind the narrow interface the backend services use.
 * Map tiles come from `geo/renderTile` and `geo/tileGrid`, heatmaps from `geo/heatmap` (the preview an answer
 * keeps), the mask export from the cached probability GeoTIFF of a result.
 */
import gdal from 'gdal-async';
import { openRaster } from '../../geo/openRaster.js';
import { writeFeatures } from '../../geo/writers/writeFeatures.js';
import { writeRasterGeoTiff } from '../../geo/writers/maskGeoTiff.js';
import { getTileGrid } from '../../geo/tileGrid.js';
import { filesGdalReads } from '../../geo/filesGdalReads.js';
import { forbidRawBandVrts } from '../../geo/env.js';
import { renderTile } from '../../geo/renderTile.js';
import { heatmapPng } from '../../geo/heatmap.js';
import { readProbability, thresholdProbability } from '../../geo/probabilityRead.js';
import type { GeoBackend } from './backends.js';

export function createGeoAdapter(): GeoBackend {
  return {
    openRaster,
    getTileGrid,
    renderTile: (path, z, x, y) => renderTile(path, z, x, y),
    heatmapPng: (grid) => heatmapPng(grid),
    async writeFeatures(layers, outPath, { format, overwrite }) {
      const result = await writeFeatures(
        layers.map((l) => ({ name: l.name, features: l.features })),
        outPath,
        { format, overwrite },
      );
      return result.paths;
    },
    async writeMaskGeoTiff(probabilityPath, outPath, { threshold, overwrite }) {
      const p = await readProbability(probabilityPath);
      const written = await writeRasterGeoTiff(thresholdProbability(p, threshold), p.width, p.height, p.geoTransform, p.crsWkt, outPath, { type: 'mask', overwrite });
      return [written];
    },
    gdalVersion: () => gdal.version,
    filesReadBy: (path) => filesGdalReads(path),
    confineReads: () => forbidRawBandVrts(),
  };
}
