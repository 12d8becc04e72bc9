/**
 * @module geo/openRaster
 * `openRaster(path)` → {@link RasterInfo}: everything SegEarth needs to know about a raster, read once, as a
 * JSON-safe DTO. Metadata comes from GDAL itself (gdalinfo's JSON via `gdal.infoAsync`, so it matches what
 * `gdalinfo -json` prints), bounds and pixel sizes are derived from the geotransform.
 *
 * Conventions
 * - Geotransform: GDAL's `[originX, pixelWidth, rowRotation, originY, colRotation, pixelHeight]`; map x of pixel
 *   corner (col, row) = gt[0] + col·gt[1] + row·gt[2], y = gt[3] + col·gt[4] + row·gt[5].
 * - Non-georeferenced rasters (e.g. a plain PNG) open with GDAL's default `[0, 1, 0, 0, 0, 1]`: x = column,
 *   y = row, origin at the top-left corner, y growing downwards; `georeferenced` is false, `crs`,
 *   `boundsLonLat` and `pixelSizeMetres` are null and a warning says so.
 * - `bounds` is the bounding box of the four corners (rotation aware). `boundsLonLat` is the bounding box of the
 *   raster outline densified to 21 points per edge and transformed to WGS 84 `[lon, lat]`.
 * - `pixelSizeMetres` is the geodesic ground size of one pixel at the raster centre (see geo/crs).
 * - A raster is probed by reading its last pixel, so truncated files fail here with CORRUPT_RASTER rather than
 *   halfway through an analysis.
 */
import gdal from 'gdal-async';
import { z } from 'zod';
import type { BandInfo, Corners, CrsInfo, Extent, GeoTransform, RasterInfo } from '../shared/rasterInfo.js';
import { configureGdalEnvironment } from './env.js';
import { boundingBox } from './boundingBox.js';
import { applyGeoTransform } from './geoTransform.js';
import { describeCrs, groundPixelSize, lonLatTransformer, type ToLonLat } from './crs.js';
import {
  classifyOpenError,
  corruptRasterError,
  isDirectoryError,
  noRasterBandsError,
  statRasterPath,
} from './rasterErrors.js';

const GdalInfoBandSchema = z.object({
  band: z.number(),
  block: z.tuple([z.number(), z.number()]).optional(),
  type: z.string(),
  description: z.string().optional(),
  colorInterpretation: z.string().optional(),
  noDataValue: z.union([z.number(), z.string()]).optional(),
  overviews: z.array(z.object({ size: z.tuple([z.number(), z.number()]) })).optional(),
  mask: z.object({ flags: z.array(z.string()) }).optional(),
  colorTable: z.unknown().optional(),
});

/** The part of `gdalinfo -json` that openRaster uses. */
const GdalInfoSchema = z.object({
  driverShortName: z.string(),
  driverLongName: z.string(),
  size: z.tuple([z.number(), z.number()]),
  coordinateSystem: z.object({ wkt: z.string(), proj4: z.string().optional() }).optional(),
  geoTransform: z.array(z.number()).length(6).optional(),
  gcps: z.unknown().optional(),
  bands: z.array(GdalInfoBandSchema),
});
type GdalInfo = z.infer<typeof GdalInfoSchema>;

const DENSIFY = 20;

function parseNoData(v: string | number | undefined): { noData: number | null; isNaN: boolean } {
  if (v === undefined) return { noData: null, isNaN: false };
  const n = typeof v === 'number' ? v : Number(v);
  if (Number.isNaN(n)) return { noData: null, isNaN: true };
  return { noData: n, isNaN: false };
}

function cornersOf(gt: GeoTransform, w: number, h: number): Corners {
  return {
    upperLeft: applyGeoTransform(gt, 0, 0),
    lowerLeft: applyGeoTransform(gt, 0, h),
    lowerRight: applyGeoTransform(gt, w, h),
    upperRight: applyGeoTransform(gt, w, 0),
    center: applyGeoTransform(gt, w / 2, h / 2),
  };
}

/** Pixel positions along the raster outline, DENSIFY segments per edge. */
function outline(w: number, h: number): Array<[number, number]> {
  const pts: Array<[number, number]> = [];
  for (let i = 0; i <= DENSIFY; i++) {
    const t = i / DENSIFY;
    pts.push([t * w, 0], [t * w, h], [0, t * h], [w, t * h]);
  }
  return pts;
}

function lonLatCorners(c: Corners, toLonLat: ToLonLat): Corners | null {
  const ul = toLonLat(...c.upperLeft);
  const ll = toLonLat(...c.lowerLeft);
  const lr = toLonLat(...c.lowerRight);
  const ur = toLonLat(...c.upperRight);
  const ce = toLonLat(...c.center);
  if (!ul || !ll || !lr || !ur || !ce) return null;
  return { upperLeft: ul, lowerLeft: ll, lowerRight: lr, upperRight: ur, center: ce };
}

function bandInfos(info: GdalInfo, maskFlags: string[][]): BandInfo[] {
  return info.bands.map((b, i) => {
    const nd = parseNoData(b.noDataValue);
    return {
      index: b.band,
      dataType: b.type,
      colorInterpretation: b.colorInterpretation ?? 'Undefined',
      description: b.description ?? '',
      noData: nd.noData,
      overviews: (b.overviews ?? []).map((o) => [o.size[0], o.size[1]] as [number, number]),
      noDataIsNaN: nd.isNaN,
      maskFlags: maskFlags[i] ?? ['ALL_VALID'],
      hasColorTable: b.colorTable !== undefined,
      ...(b.block ? { blockSize: [b.block[0], b.block[1]] as [number, number] } : {}),
    };
  });
}

/** GDAL's GMF_* bits (gdal.h); gdal-async documents them but does not export constants. */
const MASK_FLAG_NAMES: Array<[number, string]> = [
  [0x01, 'ALL_VALID'],
  [0x02, 'PER_DATASET'],
  [0x04, 'ALPHA'],
  [0x08, 'NODATA'],
];

function maskFlagNames(flags: number): string[] {
  return MASK_FLAG_NAMES.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name);
}

function isDefaultGeoTransform(gt: readonly number[]): boolean {
  return gt[0] === 0 && gt[1] === 1 && gt[2] === 0 && gt[3] === 0 && gt[4] === 0 && gt[5] === 1;
}

/** Read a pixel from the far end of the file so truncated rasters are caught at open time. */
async function probeLastPixel(ds: gdal.Dataset, w: number, h: number, path: string): Promise<void> {
  const band = await ds.bands.getAsync(1);
  try {
    await band.pixels.readAsync(w - 1, h - 1, 1, 1);
  } catch (err) {
    throw corruptRasterError(path, err);
  }
}

/**
 * Open a raster read-only and describe it. Throws {@link SegEarthError} NOT_FOUND, IS_DIRECTORY, NOT_A_RASTER or
 * CORRUPT_RASTER with a hint. The dataset is closed before returning; reads reopen through geo/datasetCache.
 */
export async function openRaster(path: string): Promise<RasterInfo> {
  configureGdalEnvironment();
  const stamp = await statRasterPath(path);
  let ds: gdal.Dataset;
  try {
    ds = await gdal.openAsync(path, 'r');
  } catch (err) {
    if (stamp.isDirectory) throw isDirectoryError(path, err);
    throw classifyOpenError(path, err);
  }
  try {
    const raw: unknown = JSON.parse(await gdal.infoAsync(ds, ['-json', '-proj4', '-nomd']));
    const info = GdalInfoSchema.parse(raw);
    if (info.bands.length === 0) throw stamp.isDirectory ? isDirectoryError(path) : noRasterBandsError(path);
    const [width, height] = info.size;
    await probeLastPixel(ds, width, height, path);

    const maskFlags: string[][] = [];
    for (let i = 1; i <= info.bands.length; i++) {
      maskFlags.push(maskFlagNames((await ds.bands.getAsync(i)).getMaskFlags()));
    }
    const warnings: string[] = [];
    const srs = await ds.srsAsync;
    const rawGt = info.geoTransform ?? (await ds.geoTransformAsync);
    const hasGt = !!rawGt && !isDefaultGeoTransform(rawGt);
    const geoTransform: GeoTransform = hasGt && rawGt ? (rawGt.slice(0, 6) as GeoTransform) : [0, 1, 0, 0, 0, 1];

    let crs: CrsInfo | null = null;
    let toLonLat: ToLonLat | null = null;
    if (srs && info.coordinateSystem?.wkt !== undefined) {
      const described = describeCrs(srs, info.coordinateSystem.wkt);
      crs = described.crs;
      warnings.push(...described.warnings);
      toLonLat = lonLatTransformer(srs);
    }
    if (!hasGt) {
      warnings.push(
        info.gcps !== undefined
          ? 'The raster is georeferenced only by ground control points (GCPs), which SegEarth does not use: it is shown in pixel coordinates (x = column, y = row from the top-left). Warp it first (gdalwarp) to get map coordinates.'
          : 'The raster has no georeferencing: it is shown in pixel coordinates (x = column, y = row from the top-left) and results cannot be placed on a map. Add a world file (.pgw/.jgw/.wld) and .prj, or georeference it in QGIS, to get map coordinates.',
      );
      crs = null;
      toLonLat = null;
    } else if (!crs) {
      warnings.push(
        'The raster has a geotransform but no coordinate reference system: coordinates are map units of an unknown CRS and lon/lat are unavailable. Add a .prj file or assign a CRS (gdal_edit.py -a_srs).',
      );
    }

    const corners = cornersOf(geoTransform, width, height);
    const bounds = boundingBox([corners.upperLeft, corners.lowerLeft, corners.lowerRight, corners.upperRight]);
    let cornersLonLat: Corners | null = null;
    let boundsLonLat: Extent | null = null;
    let pixelSizeMetres: [number, number] | null = null;
    if (toLonLat) {
      cornersLonLat = lonLatCorners(corners, toLonLat);
      const pts = outline(width, height)
        .map(([px, py]) => toLonLat(...applyGeoTransform(geoTransform, px, py)))
        .filter((p): p is [number, number] => p !== null);
      boundsLonLat = pts.length > 0 ? boundingBox(pts) : null;
      pixelSizeMetres = groundPixelSize(geoTransform, toLonLat, width / 2, height / 2);
      if (!boundsLonLat) warnings.push('The raster corners could not be transformed to lon/lat.');
    }

    return {
      path,
      driver: info.driverShortName,
      driverLongName: info.driverLongName,
      width,
      height,
      bandCount: info.bands.length,
      bands: bandInfos(info, maskFlags),
      crs,
      geoTransform,
      georeferenced: hasGt,
      bounds,
      boundsLonLat,
      pixelSizeMetres,
      warnings,
      corners,
      cornersLonLat,
      rotated: geoTransform[2] !== 0 || geoTransform[4] !== 0,
      fileSize: stamp.size,
      mtimeMs: stamp.mtimeMs,
    };
  } catch (err) {
    // Our own bugs (schema drift, type errors) stay visible; GDAL failures become typed errors.
    if (err instanceof z.ZodError || err instanceof TypeError) throw err;
    throw classifyOpenError(path, err);
  } finally {
    ds.close();
  }
}
