/**
 * @module geo/env
 * GDAL / PROJ runtime configuration, done once per process before any raster is opened.
 *
 * Resolution order for each data directory (GDAL_DATA: `gdalvrt.xsd`, `header.dxf`…; PROJ: `proj.db`):
 * 1. an explicit environment variable (`GDAL_DATA`; `PROJ_DATA`, or the older `PROJ_LIB`),
 * 2. the data directories bundled with gdal-async (only used when gdal-async carries its own GDAL build, i.e.
 *    `gdal.bundled`; a shared build against the system GDAL must use the system's `proj.db`, whose layout
 *    version must match the linked PROJ),
 * 3. the system defaults compiled into libgdal / libproj (Debian: /usr/share/gdal, /usr/share/proj).
 *
 * In a packaged Electron app the bundled directories live in `app.asar.unpacked` (electron-builder
 * `asarUnpack`), while `__dirname`-relative paths still point into `app.asar`: {@link unpackedPath} rewrites
 * them so GDAL, which cannot read inside an asar archive, gets real directories.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import gdal from 'gdal-async';

export interface GdalEnvironment {
  /** Directory GDAL reads its support files from, or null when GDAL uses its compiled-in default. */
  gdalData: string | null;
  /** PROJ search path set explicitly, or null when PROJ uses its compiled-in default. */
  projData: string | null;
  /** Where each setting came from. */
  gdalDataSource: 'env' | 'bundled' | 'system';
  projDataSource: 'env' | 'bundled' | 'system';
}

export interface GeoVersions {
  gdal: string;
  /** PROJ version as recorded in the proj.db in use (null when proj.db could not be located). */
  proj: string | null;
  /** EPSG database version in proj.db, e.g. "v10.076". */
  epsg: string | null;
  gdalAsync: string;
  /** true when gdal-async carries its own GDAL build, false when linked against the system GDAL. */
  bundledGdal: boolean;
  gdalData: string | null;
  projData: string | null;
}

let configured: GdalEnvironment | undefined;

/**
 * GDAL block cache (MB) unless `GDAL_CACHEMAX` is set in the environment: enough for a row of 1024 px tiles
 * across a 20000 px wide scene in the probability writer's 256 px blocks, far below GDAL's default of 5% of RAM.
 */
export const GDAL_CACHE_MB = 256;

/**
 * GDAL block cache (MB) of a one-shot `segearth ask` (`configureGdalEnvironment({ cacheMb })`): the tiled
 * writer's accumulator is uncompressed, so its evicted blocks are written and read back from the OS's page cache
 * at little cost, and the scene is read once, window by window — a smaller cache costs no measurable time
 * (6000² tiled ask: 58.7 s with 64 MB, 57.9 s with 256 MB, under load) and keeps ~190 MB less resident while the
 * model runs (docs/PERFORMANCE.md, "Memory of an ask").
 */
export const ONE_SHOT_GDAL_CACHE_MB = 64;

/** Rewrite a path inside `app.asar` to the matching `app.asar.unpacked` path (no-op elsewhere). */
export function unpackedPath(p: string): string {
  return p.replace(/app\.asar([\\/])/, 'app.asar.unpacked$1');
}

function gdalAsyncRoot(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('gdal-async/package.json'));
}

function firstExisting(candidates: Array<string | undefined>): string | undefined {
  return candidates.find((c): c is string => c !== undefined && c !== '' && fs.existsSync(c));
}

/**
 * Configure GDAL_DATA and the PROJ search path, plus a few GDAL options SegEarth relies on
 * (the block cache capped at `cacheMb`, default {@link GDAL_CACHE_MB}; external overviews compressed). Idempotent:
 * later calls return the first result — a command that wants another cap calls it before any raster I/O. PAM stays enabled so
 * `.aux.xml` georeferencing is honoured; SegEarth computes its own statistics and never asks GDAL to persist any.
 */
export function configureGdalEnvironment(options: { cacheMb?: number } = {}): GdalEnvironment {
  if (configured) return configured;
  const root = unpackedPath(gdalAsyncRoot());
  const bundledGdalData = path.join(root, 'deps', 'libgdal', 'gdal', 'data');
  const bundledProjData = path.join(root, 'deps', 'libproj', 'proj', 'data');

  let gdalData: string | null = null;
  let gdalDataSource: GdalEnvironment['gdalDataSource'] = 'system';
  const envGdal = firstExisting([process.env.GDAL_DATA]);
  if (envGdal) {
    gdalData = envGdal;
    gdalDataSource = 'env';
  } else if (gdal.bundled && fs.existsSync(bundledGdalData)) {
    gdalData = bundledGdalData;
    gdalDataSource = 'bundled';
  }
  if (gdalData) gdal.config.set('GDAL_DATA', gdalData);

  let projData: string | null = null;
  let projDataSource: GdalEnvironment['projDataSource'] = 'system';
  const envProj = firstExisting([process.env.PROJ_DATA, process.env.PROJ_LIB]);
  if (envProj) {
    projData = envProj;
    projDataSource = 'env';
  } else if (gdal.bundled && fs.existsSync(bundledProjData)) {
    projData = bundledProjData;
    projDataSource = 'bundled';
  }
  if (projData) setProjSearchPath(projData);

  // GDAL's block cache defaults to 5% of the machine's memory (1.2 GB on a 24 GiB machine), which a large
  // scene fills (tiled writes, polygonizing): a fixed cap keeps an ask's memory flat in the scene size. GDAL
  // users' own GDAL_CACHEMAX (environment) wins. Must be set before the first raster I/O: GDAL reads it once.
  if (!process.env.GDAL_CACHEMAX) gdal.config.set('GDAL_CACHEMAX', String(options.cacheMb ?? GDAL_CACHE_MB));

  // External overviews (.ovr) built on request: compressed, BigTIFF when needed.
  gdal.config.set('COMPRESS_OVERVIEW', 'DEFLATE');
  gdal.config.set('BIGTIFF_OVERVIEW', 'IF_SAFER');

  configured = { gdalData, projData, gdalDataSource, projDataSource };
  return configured;
}

/**
 * Server mode: GDAL ≥ 3.12 refuses raw-band VRTs (`VRTRawRasterBand`, raw bytes of any file as pixels) itself.
 * Set as a configuration option (this process) and in the environment (child processes: vectorizing, batch
 * workers). Older GDAL ignores it; `geo/filesGdalReads` refuses such VRTs in any case.
 */
export function forbidRawBandVrts(): void {
  configureGdalEnvironment();
  gdal.config.set('GDAL_VRT_ENABLE_RAWRASTERBAND', 'NO');
  process.env.GDAL_VRT_ENABLE_RAWRASTERBAND = 'NO';
}

/** gdal-async's typings name it `setPROJSearchPaths`, the binding exports `setPROJSearchPath`. */
function setProjSearchPath(dir: string): void {
  const g = gdal as unknown as { setPROJSearchPath?: (p: string) => void; setPROJSearchPaths?: (p: string) => void };
  (g.setPROJSearchPath ?? g.setPROJSearchPaths)?.(dir);
}

function projDbCandidates(env: GdalEnvironment): string[] {
  const dirs = [
    env.projData,
    process.env.PROJ_DATA,
    process.env.PROJ_LIB,
    '/usr/share/proj',
    '/usr/local/share/proj',
    '/opt/homebrew/share/proj',
  ];
  return dirs.filter((d): d is string => !!d).map((d) => path.join(d, 'proj.db'));
}

async function readProjDbMetadata(env: GdalEnvironment): Promise<Record<string, string>> {
  const db = firstExisting(projDbCandidates(env));
  if (!db) return {};
  const ds = await gdal.openAsync(db, 'r', ['SQLite']);
  try {
    const layer = await ds.executeSQLAsync('SELECT key, value FROM metadata');
    const out: Record<string, string> = {};
    for (let f = await layer.features.nextAsync(); f; f = await layer.features.nextAsync()) {
      out[String(f.fields.get('key'))] = String(f.fields.get('value'));
    }
    return out;
  } finally {
    ds.close();
  }
}

/** Versions for "system info" and bug reports. Never throws: unknown parts are null. */
export async function geoVersions(): Promise<GeoVersions> {
  const env = configureGdalEnvironment();
  let meta: Record<string, string> = {};
  try {
    meta = await readProjDbMetadata(env);
  } catch {
    meta = {};
  }
  const require = createRequire(import.meta.url);
  const pkg = require('gdal-async/package.json') as { version: string };
  return {
    gdal: gdal.version,
    proj: meta['PROJ.VERSION'] ?? null,
    epsg: meta['EPSG.VERSION'] ?? null,
    gdalAsync: pkg.version,
    bundledGdal: gdal.bundled,
    gdalData: env.gdalData ?? gdal.config.get('GDAL_DATA'),
    projData: env.projData,
  };
}
