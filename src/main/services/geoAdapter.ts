/**
 * @module main/services/geoAdapter
 * The real {@link GeoBackend}: `src/geo` (gdal-async) behind the narrow interface the backend services use.
 * Map tiles come from `geo/renderTile` and `geo/tileGrid`; heatmaps and the mask export are derived from
 * the cached probability GeoTIFF of a result.
 */
import gdal from 'gdal-async';
import { openRaster } from '../../geo/openRaster.js';
import { maskToPolygons } from '../../geo/maskToPolygons.js';
import { writeFeatures } from '../../geo/writers/writeFeatures.js';
import { writeRasterGeoTiff } from '../../geo/writers/maskGeoTiff.js';
import { configureGdalEnvironment } from '../../geo/env.js';
import { getTileGrid } from '../../geo/tileGrid.js';
import { renderTile } from '../../geo/renderTile.js';
import type { GeoTransform } from '../../shared/rasterInfo.js';
import type { GeoBackend } from './backends.js';
import { encodeRgbaPng, heatColor } from './png.js';

async function readProbability(path: string, maxSize: number): Promise<{ data: Float32Array; width: number; height: number; gt: GeoTransform; wkt: string | null; noData: number | null }> {
  configureGdalEnvironment();
  const ds = await gdal.openAsync(path);
  try {
    const band = await ds.bands.getAsync(1);
    const scale = Math.max(1, Math.max(ds.rasterSize.x, ds.rasterSize.y) / maxSize);
    const width = Math.max(1, Math.round(ds.rasterSize.x / scale));
    const height = Math.max(1, Math.round(ds.rasterSize.y / scale));
    const data = new Float32Array(width * height);
    await band.pixels.readAsync(0, 0, ds.rasterSize.x, ds.rasterSize.y, data, { buffer_width: width, buffer_height: height, data_type: gdal.GDT_Float32 });
    return { data, width, height, gt: ds.geoTransform as GeoTransform, wkt: ds.srs ? ds.srs.toWKT() : null, noData: band.noDataValue };
  } finally {
    ds.close();
  }
}

export function createGeoAdapter(): GeoBackend {
  return {
    openRaster,
    getTileGrid,
    renderTile: (path, z, x, y) => renderTile(path, z, x, y),
    async vectorizeProbability(probabilityPath, { threshold, minAreaM2 }) {
      return maskToPolygons({ kind: 'file', path: probabilityPath }, { threshold, minAreaM2 });
    },
    async renderProbabilityPng(probabilityPath, { maxSize }) {
      const p = await readProbability(probabilityPath, maxSize);
      const rgba = new Uint8Array(p.width * p.height * 4);
      let max = 0;
      for (let i = 0; i < p.data.length; i++) {
        const v = p.data[i]!;
        if (p.noData !== null && v === p.noData) continue;
        if (v > max) max = v;
        rgba.set(heatColor(v), i * 4);
      }
      return { png: encodeRgbaPng(p.width, p.height, rgba), maxProbability: max };
    },
    async writeFeatures(layers, outPath, { format, overwrite }) {
      const result = await writeFeatures(
        layers.map((l) => ({ name: l.name, features: l.features })),
        outPath,
        { format: format === 'gpkg' ? 'geopackage' : format, overwrite },
      );
      return result.paths;
    },
    async writeMaskGeoTiff(probabilityPath, outPath, { threshold, overwrite }) {
      const p = await readProbability(probabilityPath, Number.MAX_SAFE_INTEGER);
      const mask = new Uint8Array(p.data.length);
      for (let i = 0; i < p.data.length; i++) mask[i] = p.data[i]! >= threshold ? 1 : 0;
      const written = await writeRasterGeoTiff(mask, p.width, p.height, p.gt, p.wkt, outPath, { type: 'mask', overwrite });
      return [written];
    },
    gdalVersion: () => gdal.version,
  };
}
