/**
 * @module main/electron/geoDataEnv
 * Side effect, imported first by the Electron main process: in the packaged app, points GDAL_DATA and
 * PROJ_DATA / PROJ_LIB at the data unpacked from the asar archive before gdal-async is loaded (gdal-async
 * would otherwise hand GDAL paths inside `app.asar`, which GDAL cannot read). Variables the analyst set are
 * kept. See `geo/dataPaths` for the rules.
 */
import { createRequire } from 'node:module';
import { isSharedGdalBuild, packagedGeoEnv } from '../../geo/dataPaths.js';

function gdalAsyncRoot(): string | null {
  try {
    const pkg = createRequire(import.meta.url).resolve('gdal-async/package.json');
    return pkg.slice(0, -'package.json'.length - 1);
  } catch {
    return null;
  }
}

const resourcesPath = (process as { resourcesPath?: string }).resourcesPath ?? null;
const root = gdalAsyncRoot();
// In `electron .` from a checkout resourcesPath is Electron's own folder: nothing of ours is there, nothing is set.
Object.assign(
  process.env,
  packagedGeoEnv({ env: process.env, platform: process.platform, resourcesPath, gdalAsyncRoot: root, bundledGdal: root === null || !isSharedGdalBuild(root) }),
);
