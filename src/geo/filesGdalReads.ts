/**
 * @module geo/filesGdalReads
 * Which files GDAL would read to show a raster: the raster itself, its side-cars (.ovr, .aux.xml, world
 * files), and — for reference formats such as VRT (simple, complex, derived, raw-band, pansharpened sources,
 * overviews, mask bands) or ERS/ENVI headers — the files they point to, followed through nested VRTs. Server
 * mode checks every one of them against its allowed folders, so a VRT inside a root cannot serve the pixels
 * (or, through `VRTRawRasterBand`, the bytes) of a file outside it.
 *
 * It asks GDAL itself (`GDALGetFileList` after a header-only open), so the answer is what GDAL will read,
 * not what a hand-written XML parser believes. Only drivers for local raster files are accepted: service
 * descriptions (WMS, WMTS, TMS …) and other drivers whose reads cannot be listed are refused up front.
 *
 * Raw-band VRTs (`VRTRawRasterBand`: any byte range of any file read as pixels) are reported at every level
 * (`rawBandVrts`), so server mode can refuse them even when their file lies inside the roots. The test is on
 * GDAL's own serialization of the opened VRT (its `xml:VRT` metadata). GDAL ≥ 3.12 refuses to open them itself
 * when `GDAL_VRT_ENABLE_RAWRASTERBAND=NO` (server mode sets it: `geo/env.forbidRawBandVrts`): such a refusal is
 * reported the same way.
 */
import { readFile } from 'node:fs/promises';
import gdal from 'gdal-async';
import type { Dataset } from 'gdal-async';
import { configureGdalEnvironment } from './env.js';
import { classifyOpenError, isGdalVirtualPath } from './rasterErrors.js';
import { SegEarthError } from '../shared/errors.js';

/** Drivers of local raster files whose file lists GDAL reports completely. */
export const LOCAL_RASTER_DRIVERS: ReadonlySet<string> = new Set([
  'GTiff', 'COG', 'VRT', 'JP2OpenJPEG', 'JPEG', 'PNG', 'GIF', 'BMP', 'WEBP', 'HFA', 'AAIGrid', 'EHdr', 'ENVI', 'ERS',
  'netCDF', 'HDF5', 'HDF5Image', 'NITF', 'ECW', 'JP2ECW', 'MrSID', 'PCIDSK', 'SAGA', 'GS7BG', 'GSBG', 'XYZ', 'MEM',
]);

export interface GdalReadSet {
  /** Driver of the raster itself. */
  driver: string;
  /** Every file GDAL lists for it and, recursively, for the rasters it references. GDAL virtual paths kept as they are. */
  files: string[];
  /** The VRTs among them (the raster itself included) with a raw band (`VRTRawRasterBand`). */
  rawBandVrts: string[];
}

/** Nested VRT depth followed before giving up (GDAL itself stops loops; we only need a bound). */
const MAX_DEPTH = 8;

async function looksLikeXml(path: string): Promise<boolean> {
  const head = await readFile(path).then((b) => b.subarray(0, 256).toString('utf8').trimStart(), () => '');
  return head.startsWith('<') || head.startsWith('\uFEFF<');
}

function unsupported(path: string, driver: string): SegEarthError {
  return new SegEarthError('FORBIDDEN_PATH', `${path} is a ${driver} dataset, which this server does not open.`, {
    hint: 'Open a local raster file (GeoTIFF, JPEG2000, PNG/JPEG, or a VRT of files inside the allowed folders).',
    path,
  });
}

/** Whether GDAL's serialization of an opened VRT has a raw band (`subClass="VRTRawRasterBand"`). */
function hasRawBand(ds: Dataset): boolean {
  const xml = Object.entries(ds.getMetadata('xml:VRT')).map(([k, v]) => `${k}=${String(v)}`).join('');
  return /subClass\s*=\s*"VRTRawRasterBand"/.test(xml);
}

/** The files GDAL reads for `path` (see the module comment); FORBIDDEN_PATH for a driver not in the list. */
export async function filesGdalReads(path: string): Promise<GdalReadSet> {
  configureGdalEnvironment();
  const seen = new Set<string>();
  const files: string[] = [];
  const rawBandVrts: string[] = [];
  let driver = '';
  const visit = async (file: string, depth: number): Promise<void> => {
    if (seen.has(file)) return;
    seen.add(file);
    files.push(file);
    if (depth > 0 && (isGdalVirtualPath(file) || !(await looksLikeXml(file)))) return;
    if (depth > MAX_DEPTH) return;
    let ds;
    try {
      ds = await gdal.openAsync(file);
    } catch (err) {
      // GDAL ≥ 3.12 with GDAL_VRT_ENABLE_RAWRASTERBAND=NO refuses the open itself.
      if (/VRTRawRasterBand/i.test(err instanceof Error ? err.message : String(err))) {
        rawBandVrts.push(file);
        if (depth === 0) driver = 'VRT';
        return;
      }
      if (depth === 0) throw classifyOpenError(file, err);
      return; // a missing source: GDAL will fail on it too, and its path is listed already
    }
    try {
      const name = ds.driver.description;
      if (depth === 0) driver = name;
      if (!LOCAL_RASTER_DRIVERS.has(name)) throw unsupported(file, name);
      if (name === 'VRT' && hasRawBand(ds)) rawBandVrts.push(file);
      for (const listed of ds.getFileList()) await visit(listed, depth + 1);
    } finally {
      ds.close();
    }
  };
  await visit(path, 0);
  return { driver, files, rawBandVrts };
}
