/**
 * @module test/support/syntheticRaster
 * Builds small rasters with GDAL (gdal-async) in a temporary folder so geo tests know every value they assert:
 * CRS, geotransform, data type, band count, nodata, colour interpretation, pixel values, overviews.
 * Also wraps the gdal-bin CLIs (gdalinfo, gdaltransform) used as independent references.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import gdal from 'gdal-async';

export type GdalDataType = 'Byte' | 'UInt16' | 'Int16' | 'UInt32' | 'Float32' | 'Float64';

export interface RasterSpec {
  width: number;
  height: number;
  bandCount?: number;
  dataType?: GdalDataType;
  /** EPSG code or any string `SpatialReference.fromUserInput` accepts; omit for no CRS. */
  srs?: number | string;
  /** Omit for no geotransform. */
  geoTransform?: [number, number, number, number, number, number];
  /** One value for all bands or one per band. */
  noData?: number | number[];
  colorInterpretations?: string[];
  /** Pixel value of band b (1-based) at column x, row y. Default: 0. */
  value?: (band: number, x: number, y: number) => number;
  /** Output driver (default GTiff). Non-GTiff drivers are written via a MEM dataset and CreateCopy. */
  driver?: 'GTiff' | 'PNG' | 'JPEG' | 'JP2OpenJPEG' | 'VRT';
  creationOptions?: string[];
  /** Internal overview factors to build (GTiff only), e.g. [2, 4]. */
  overviews?: number[];
  /** Overwrite overview pixels after building them: value of band b, level index, x, y. */
  overviewValue?: (band: number, level: number, x: number, y: number) => number;
}

export function makeTempDir(prefix = 'segearth-geo-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

function typedArrayFor(dataType: GdalDataType, n: number): Uint8Array | Uint16Array | Int16Array | Uint32Array | Float32Array | Float64Array {
  switch (dataType) {
    case 'Byte':
      return new Uint8Array(n);
    case 'UInt16':
      return new Uint16Array(n);
    case 'Int16':
      return new Int16Array(n);
    case 'UInt32':
      return new Uint32Array(n);
    case 'Float32':
      return new Float32Array(n);
    case 'Float64':
      return new Float64Array(n);
  }
}

function fillBand(band: gdal.RasterBand, w: number, h: number, dataType: GdalDataType, f: (x: number, y: number) => number): void {
  const data = typedArrayFor(dataType, w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = f(x, y);
  band.pixels.write(0, 0, w, h, data);
}

/** Create a raster at `file` following `spec`; returns `file`. */
export function createRaster(file: string, spec: RasterSpec): string {
  const bandCount = spec.bandCount ?? 1;
  const dataType = spec.dataType ?? 'Byte';
  const driver = spec.driver ?? 'GTiff';
  const direct = driver === 'GTiff';
  const ds = direct
    ? gdal.open(file, 'w', 'GTiff', spec.width, spec.height, bandCount, dataType, spec.creationOptions ?? [])
    : gdal.open('', 'w', 'MEM', spec.width, spec.height, bandCount, dataType);
  if (spec.srs !== undefined) {
    ds.srs = typeof spec.srs === 'number' ? gdal.SpatialReference.fromEPSG(spec.srs) : gdal.SpatialReference.fromUserInput(spec.srs);
  }
  if (spec.geoTransform) ds.geoTransform = spec.geoTransform;
  for (let b = 1; b <= bandCount; b++) {
    const band = ds.bands.get(b);
    const nd = Array.isArray(spec.noData) ? spec.noData[b - 1] : spec.noData;
    if (nd !== undefined) band.noDataValue = nd;
    const ci = spec.colorInterpretations?.[b - 1];
    if (ci) band.colorInterpretation = ci;
    const value = spec.value;
    fillBand(band, spec.width, spec.height, dataType, value ? (x, y) => value(b, x, y) : () => 0);
  }
  if (direct && spec.overviews && spec.overviews.length > 0) {
    ds.buildOverviews('AVERAGE', spec.overviews);
    const ovValue = spec.overviewValue;
    if (ovValue) {
      for (let b = 1; b <= bandCount; b++) {
        const band = ds.bands.get(b);
        for (let level = 0; level < band.overviews.count(); level++) {
          const ov = band.overviews.get(level);
          fillBand(ov, ov.size.x, ov.size.y, dataType, (x, y) => ovValue(b, level, x, y));
        }
      }
    }
  }
  if (direct) {
    ds.close();
  } else {
    gdal.drivers.get(driver).createCopy(file, ds, spec.creationOptions ?? []).close();
    ds.close();
  }
  return file;
}

/**
 * A huge raster header that costs nothing on disk: a tiled, sparse BigTIFF whose blocks are never written
 * (GDAL reads unwritten blocks as nodata/0).
 */
export function createSparseRaster(file: string, width: number, height: number, opts: { srs?: number; geoTransform?: RasterSpec['geoTransform']; bandCount?: number; dataType?: GdalDataType } = {}): string {
  const ds = gdal.open(file, 'w', 'GTiff', width, height, opts.bandCount ?? 1, opts.dataType ?? 'Byte', [
    'SPARSE_OK=TRUE',
    'TILED=YES',
    'BLOCKXSIZE=512',
    'BLOCKYSIZE=512',
    'BIGTIFF=YES',
  ]);
  if (opts.srs !== undefined) ds.srs = gdal.SpatialReference.fromEPSG(opts.srs);
  if (opts.geoTransform) ds.geoTransform = opts.geoTransform;
  ds.close();
  return file;
}

/** `gdalinfo -json <file>` from gdal-bin, parsed. */
export function gdalinfoJson(file: string): Record<string, unknown> {
  return JSON.parse(execFileSync('gdalinfo', ['-json', file], { encoding: 'utf8' })) as Record<string, unknown>;
}

/** Transform points with the gdaltransform CLI (traditional GIS axis order: x/lon first). */
export function gdaltransform(sSrs: string, tSrs: string, points: Array<[number, number]>): Array<[number, number]> {
  const out = execFileSync('gdaltransform', ['-s_srs', sSrs, '-t_srs', tSrs, '-output_xy'], {
    input: points.map((p) => `${p[0]} ${p[1]}`).join('\n') + '\n',
    encoding: 'utf8',
  });
  return out
    .trim()
    .split('\n')
    .map((line) => {
      const [x, y] = line.trim().split(/\s+/).map(Number);
      return [x, y];
    });
}

/** Read a whole band at full resolution (for reference values in tests). */
export function readBand(file: string, band: number): { data: ArrayLike<number>; width: number; height: number } {
  const ds = gdal.open(file);
  try {
    const b = ds.bands.get(band);
    const { x: width, y: height } = ds.rasterSize;
    return { data: b.pixels.read(0, 0, width, height) as unknown as ArrayLike<number>, width, height };
  } finally {
    ds.close();
  }
}

