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
import { filesGdalReads } from '../../geo/filesGdalReads.js';
import { renderTile } from '../../geo/renderTile.js';
import type { GeoTransform } from '../../shared/rasterInfo.js';
import { maskOutsideRings } from '../../geo/aoiMask.js';
import type { AoiRing, GeoBackend } from './backends.js';
import { encodeRgbaPng, heatColor } from './png.js';

/**
 * Reads a probability raster (downsampled to `maxSize` px at most) as float32 with NaN where it has no data;
 * with a polygon AOI, pixels outside the polygon are 0.
 */
async function readProbability(
  path: string,
  maxSize: number,
  aoiRing?: AoiRing,
): Promise<{ data: Float32Array; width: number; height: number; gt: GeoTransform; readGt: GeoTransform; wkt: string | null }> {
  configureGdalEnvironment();
  const ds = await gdal.openAsync(path);
  try {
    const band = await ds.bands.getAsync(1);
    const scale = Math.max(1, Math.max(ds.rasterSize.x, ds.rasterSize.y) / maxSize);
    const width = Math.max(1, Math.round(ds.rasterSize.x / scale));
    const height = Math.max(1, Math.round(ds.rasterSize.y / scale));
    const data = new Float32Array(width * height);
    await band.pixels.readAsync(0, 0, ds.rasterSize.x, ds.rasterSize.y, data, { buffer_width: width, buffer_height: height, data_type: gdal.GDT_Float32 });
    const noData = band.noDataValue;
    if (noData !== null) for (let i = 0; i < data.length; i++) if (data[i] === noData) data[i] = Number.NaN;
    const gt = ds.geoTransform as GeoTransform;
    const sx = ds.rasterSize.x / width;
    const sy = ds.rasterSize.y / height;
    const readGt: GeoTransform = [gt[0], gt[1] * sx, gt[2] * sy, gt[3], gt[4] * sx, gt[5] * sy];
    if (aoiRing) maskOutsideRings(data, width, height, readGt, [aoiRing]);
    return { data, width, height, gt, readGt, wkt: ds.srs ? ds.srs.toWKT() : null };
  } finally {
    ds.close();
  }
}

export function createGeoAdapter(): GeoBackend {
  return {
    openRaster,
    getTileGrid,
    renderTile: (path, z, x, y) => renderTile(path, z, x, y),
    async vectorizeProbability(probabilityPath, { threshold, minAreaM2, aoiRing }) {
      if (!aoiRing) return maskToPolygons({ kind: 'file', path: probabilityPath }, { threshold, minAreaM2 });
      const p = await readProbability(probabilityPath, Number.MAX_SAFE_INTEGER, aoiRing);
      return maskToPolygons({ kind: 'array', data: p.data, width: p.width, height: p.height, geoTransform: p.gt, crsWkt: p.wkt }, { threshold, minAreaM2 });
    },
    async renderProbabilityPng(probabilityPath, { maxSize, aoiRing }) {
      const p = await readProbability(probabilityPath, maxSize, aoiRing);
      const rgba = new Uint8Array(p.width * p.height * 4);
      let max = 0;
      for (let i = 0; i < p.data.length; i++) {
        const v = p.data[i]!;
        if (Number.isNaN(v)) continue;
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
    async writeMaskGeoTiff(probabilityPath, outPath, { threshold, overwrite, aoiRing }) {
      const p = await readProbability(probabilityPath, Number.MAX_SAFE_INTEGER, aoiRing);
      const mask = new Uint8Array(p.data.length);
      for (let i = 0; i < p.data.length; i++) mask[i] = p.data[i]! >= threshold ? 1 : 0;
      const written = await writeRasterGeoTiff(mask, p.width, p.height, p.gt, p.wkt, outPath, { type: 'mask', overwrite });
      return [written];
    },
    gdalVersion: () => gdal.version,
    filesReadBy: (path) => filesGdalReads(path),
  };
}
