/**
 * @module geo/dataPaths
 * Where GDAL's support files (GDAL_DATA) and PROJ's database (PROJ_DATA, formerly PROJ_LIB) are, for the
 * packaged app as well as for a source checkout. Pure: the caller passes the environment, the platform, the
 * app's resources folder and an `exists` check, so the rules are testable on fake installation layouts.
 *
 * Candidates, first usable wins:
 * 1. `GDAL_DATA`; `PROJ_DATA`, then `PROJ_LIB` — an analyst's explicit setting always wins (used when the
 *    folder exists, without further checks);
 * 2. the packaged app: `<resources>/app.asar.unpacked/node_modules/gdal-async/deps/libgdal/gdal/data` and
 *    `…/deps/libproj/proj/data` (electron-builder `asarUnpack`; GDAL and PROJ cannot read inside `app.asar`),
 *    then `<resources>/gdal-data` and `<resources>/proj-data` (optional `extraResources` for builds that ship
 *    the data separately);
 * 3. the data bundled with gdal-async next to the package itself (a source checkout; `app.asar` paths are
 *    rewritten to `app.asar.unpacked`);
 * 4. the usual system folders (Debian/Ubuntu, Homebrew, OSGeo4W / conda on Windows).
 *
 * Automatic candidates (2–4) are only taken when they hold the files GDAL / PROJ need (`gdalvrt.xsd` or
 * `header.dxf`; `proj.db`). A gdal-async built against the system GDAL (`bundledGdal: false`, see
 * {@link isSharedGdalBuild}; or recognisable by carrying no GDAL data files — electron-builder drops the
 * `config.gypi` that records it) skips 2 and 3: it must use the system's `proj.db`, whose layout version has
 * to match the linked PROJ, even when its `deps/` holds another one.
 *
 * The Electron main process applies {@link packagedGeoEnv} before gdal-async is loaded (see
 * `main/electron/geoDataEnv`); `geo/env` then configures GDAL from those variables.
 */
import fs from 'node:fs';
import path from 'node:path';

export type DataDirSource = 'env' | 'packaged' | 'bundled' | 'system';

export interface DataDirCandidate {
  readonly dir: string;
  readonly source: DataDirSource;
  /** The environment variable it came from (source `env` only). */
  readonly variable?: string;
}

export interface GeoDataInputs {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly platform: NodeJS.Platform;
  /** `process.resourcesPath` of the packaged Electron app; null when running from source or in plain Node. */
  readonly resourcesPath: string | null;
  /** The gdal-async package folder as Node resolves it (may point into `app.asar`); null when unknown. */
  readonly gdalAsyncRoot: string | null;
  /**
   * False when gdal-async is linked against the system GDAL/PROJ ({@link isSharedGdalBuild}): its `deps/` data
   * (a `proj.db` of another PROJ version included) must then not be used. Default true.
   */
  readonly bundledGdal?: boolean;
}

export interface GeoDataDirs {
  readonly gdalData: DataDirCandidate | null;
  readonly projData: DataDirCandidate | null;
}

/** Files that show a folder is GDAL's data folder (any of them). */
export const GDAL_DATA_MARKERS = ['gdalvrt.xsd', 'header.dxf'] as const;
/** The file that shows a folder is PROJ's data folder. */
export const PROJ_DATA_MARKERS = ['proj.db'] as const;

const GDAL_IN_PACKAGE = ['deps', 'libgdal', 'gdal', 'data'];
const PROJ_IN_PACKAGE = ['deps', 'libproj', 'proj', 'data'];

function pathFor(platform: NodeJS.Platform): path.PlatformPath {
  return platform === 'win32' ? path.win32 : path.posix;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== '' ? value : undefined;
}

/** `…/resources/app.asar/node_modules/x` → `…/resources/app.asar.unpacked/node_modules/x` (no-op elsewhere). */
export function toUnpacked(p: string): string {
  return p.replace(/app\.asar(?=[\\/]|$)/, 'app.asar.unpacked');
}

function systemDirs(inputs: GeoDataInputs, what: 'gdal' | 'proj'): string[] {
  const p = pathFor(inputs.platform);
  switch (inputs.platform) {
    case 'win32': {
      const roots = [nonEmpty(inputs.env.OSGEO4W_ROOT), nonEmpty(inputs.env.CONDA_PREFIX) && p.join(inputs.env.CONDA_PREFIX!, 'Library')];
      return roots.filter((r): r is string => typeof r === 'string').map((r) => p.join(r, 'share', what));
    }
    case 'darwin':
      return [`/opt/homebrew/share/${what}`, `/usr/local/share/${what}`];
    default:
      return [`/usr/share/${what}`, `/usr/local/share/${what}`];
  }
}

function candidates(inputs: GeoDataInputs, what: 'gdal' | 'proj'): DataDirCandidate[] {
  const p = pathFor(inputs.platform);
  const out: DataDirCandidate[] = [];
  const variables = what === 'gdal' ? ['GDAL_DATA'] : ['PROJ_DATA', 'PROJ_LIB'];
  for (const variable of variables) {
    const value = nonEmpty(inputs.env[variable]);
    if (value) out.push({ dir: value, source: 'env', variable });
  }
  const inPackage = what === 'gdal' ? GDAL_IN_PACKAGE : PROJ_IN_PACKAGE;
  const bundled = inputs.bundledGdal ?? true;
  if (bundled && inputs.resourcesPath) {
    out.push({ dir: p.join(inputs.resourcesPath, 'app.asar.unpacked', 'node_modules', 'gdal-async', ...inPackage), source: 'packaged' });
    out.push({ dir: p.join(inputs.resourcesPath, what === 'gdal' ? 'gdal-data' : 'proj-data'), source: 'packaged' });
  }
  if (bundled && inputs.gdalAsyncRoot) {
    const dir = p.join(toUnpacked(inputs.gdalAsyncRoot), ...inPackage);
    if (!out.some((c) => c.dir === dir)) out.push({ dir, source: 'bundled' });
  }
  for (const dir of systemDirs(inputs, what)) out.push({ dir, source: 'system' });
  return out;
}

/**
 * True when this gdal-async was compiled against the system GDAL (`--shared_gdal`): node-gyp recorded it in
 * `build/config.gypi`. Prebuilt binaries (and the default source build) bundle GDAL and PROJ.
 */
export function isSharedGdalBuild(gdalAsyncRoot: string, read: (file: string) => string = (f) => fs.readFileSync(f, 'utf8')): boolean {
  const p = /^[A-Za-z]:\\/.test(gdalAsyncRoot) ? path.win32 : path.posix;
  try {
    return /"shared_gdal"\s*:\s*"true"/.test(read(p.join(toUnpacked(gdalAsyncRoot), 'build', 'config.gypi')));
  } catch {
    return false;
  }
}

/** GDAL_DATA candidates in order (see the module comment). Never a path inside `app.asar`. */
export function gdalDataCandidates(inputs: GeoDataInputs): DataDirCandidate[] {
  return candidates(inputs, 'gdal');
}

/** PROJ data candidates in order (see the module comment). Never a path inside `app.asar`. */
export function projDataCandidates(inputs: GeoDataInputs): DataDirCandidate[] {
  return candidates(inputs, 'proj');
}

function pick(list: DataDirCandidate[], markers: readonly string[], platform: NodeJS.Platform, exists: (p: string) => boolean): DataDirCandidate | null {
  const p = pathFor(platform);
  for (const c of list) {
    if (c.source === 'env' ? exists(c.dir) : markers.some((m) => exists(p.join(c.dir, m)))) return c;
  }
  return null;
}

/** The first usable GDAL and PROJ data folders; null where GDAL / PROJ should keep their compiled-in defaults. */
export function resolveGeoDataDirs(inputs: GeoDataInputs, exists: (p: string) => boolean = fs.existsSync): GeoDataDirs {
  const p = pathFor(inputs.platform);
  // gdal-async only carries GDAL's data files when it bundles GDAL (a build against the system GDAL has none in
  // deps/, though it may hold a generated proj.db of another PROJ version): then its PROJ data is not used either.
  const ownGdalData = gdalDataCandidates(inputs).some((c) => (c.source === 'packaged' || c.source === 'bundled') && GDAL_DATA_MARKERS.some((m) => exists(p.join(c.dir, m))));
  const projInputs = ownGdalData ? inputs : { ...inputs, bundledGdal: false };
  return {
    gdalData: pick(gdalDataCandidates(inputs), GDAL_DATA_MARKERS, inputs.platform, exists),
    projData: pick(projDataCandidates(projInputs), PROJ_DATA_MARKERS, inputs.platform, exists),
  };
}

/**
 * The variables to set in a packaged app before gdal-async is loaded: `GDAL_DATA`, and `PROJ_DATA` plus
 * `PROJ_LIB` (gdal-async itself only looks at `PROJ_LIB`), for the data found inside the app. Empty when the
 * analyst set them already, when running from source, or when the app carries no data (system GDAL).
 */
export function packagedGeoEnv(inputs: GeoDataInputs, exists: (p: string) => boolean = fs.existsSync): Record<string, string> {
  const { gdalData, projData } = resolveGeoDataDirs(inputs, exists);
  const out: Record<string, string> = {};
  if (gdalData?.source === 'packaged') out.GDAL_DATA = gdalData.dir;
  if (projData?.source === 'packaged') {
    out.PROJ_DATA = projData.dir;
    out.PROJ_LIB = projData.dir;
  }
  return out;
}
