/**
 * @module shared/rasterInfo
 * What SegEarth knows about an opened raster, as a JSON-safe DTO (zod schema + type). Produced once by
 * `geo/openRaster`, then carried everywhere (UI, worker messages, CLI `info --json`) instead of the GDAL
 * dataset handle.
 */
import { z } from 'zod';

/** GDAL affine geotransform [originX, pixelWidth, rowRotation, originY, colRotation, pixelHeight]. */
export const GeoTransformSchema = z.tuple([z.number(), z.number(), z.number(), z.number(), z.number(), z.number()]);
export type GeoTransform = z.infer<typeof GeoTransformSchema>;

/** [minX, minY, maxX, maxY]. */
export const ExtentSchema = z.tuple([z.number(), z.number(), z.number(), z.number()]);
export type Extent = z.infer<typeof ExtentSchema>;

export const CrsInfoSchema = z.object({
  /** WKT2 (2019) as GDAL/PROJ write it. */
  wkt: z.string(),
  /** e.g. "EPSG:32618" when an authority code matches, else null. */
  code: z.string().nullable(),
  /** PROJ.4 string usable by proj4js. */
  proj4: z.string(),
  name: z.string(),
  isGeographic: z.boolean(),
  /** Linear unit name of the CRS axes ("metre", "degree", "US survey foot"...). */
  units: z.string(),
});
export type CrsInfo = z.infer<typeof CrsInfoSchema>;

export const BandInfoSchema = z.object({
  index: z.number().int().positive(),
  dataType: z.string(),
  colorInterpretation: z.string(),
  description: z.string(),
  noData: z.number().nullable(),
  overviews: z.array(z.tuple([z.number().int(), z.number().int()])),
  /** true when the nodata value is NaN (then `noData` is null: NaN is not JSON-safe). */
  noDataIsNaN: z.boolean().optional(),
  /** GDAL mask flags of the band, e.g. ["ALL_VALID"], ["NODATA"], ["PER_DATASET", "ALPHA"]. */
  maskFlags: z.array(z.string()).optional(),
  /** Band has a colour table (palette image). */
  hasColorTable: z.boolean().optional(),
  /** Natural block size [width, height]. */
  blockSize: z.tuple([z.number().int(), z.number().int()]).optional(),
});
export type BandInfo = z.infer<typeof BandInfoSchema>;

/** The four corners and the centre of the raster, as gdalinfo's `cornerCoordinates` ([x, y] each). */
export const CornersSchema = z.object({
  upperLeft: z.tuple([z.number(), z.number()]),
  lowerLeft: z.tuple([z.number(), z.number()]),
  lowerRight: z.tuple([z.number(), z.number()]),
  upperRight: z.tuple([z.number(), z.number()]),
  center: z.tuple([z.number(), z.number()]),
});
export type Corners = z.infer<typeof CornersSchema>;

export const RasterInfoSchema = z.object({
  path: z.string(),
  driver: z.string(),
  driverLongName: z.string(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  bandCount: z.number().int().nonnegative(),
  bands: z.array(BandInfoSchema),
  /** null when the file has no georeferencing (pixel coordinates are used, with a warning). */
  crs: CrsInfoSchema.nullable(),
  geoTransform: GeoTransformSchema,
  georeferenced: z.boolean(),
  /** Bounds of the raster in its native CRS (or pixel space when not georeferenced). */
  bounds: ExtentSchema,
  /** Bounds in EPSG:4326 lon/lat order, null when not georeferenced. */
  boundsLonLat: ExtentSchema.nullable(),
  /** Ground size of one pixel in metres at the raster centre [x, y]; null when not georeferenced. */
  pixelSizeMetres: z.tuple([z.number(), z.number()]).nullable(),
  warnings: z.array(z.string()),
  /** Corners in the native CRS (pixel space when not georeferenced). */
  corners: CornersSchema.optional(),
  /** Corners in lon/lat (WGS 84), null when not georeferenced or not transformable. */
  cornersLonLat: CornersSchema.nullable().optional(),
  /** The geotransform has rotation/shear terms (gt[2] or gt[4] non-zero). */
  rotated: z.boolean().optional(),
  /** File size and modification time when opened (cache keys); 0 for GDAL virtual paths. */
  fileSize: z.number().optional(),
  mtimeMs: z.number().optional(),
});
export type RasterInfo = z.infer<typeof RasterInfoSchema>;
