/**
 * @module geo/gdalLoad
 * Loading gdal-async without the two packages its entry (`lib/gdal.js`) requires at once but a `segearth`
 * command rarely or never uses, each deferred until first use. Of ~0.9 s for `segearth vectorize` on a 4000²
 * mask (gdal_polygonize.py: ~0.7 s), loading gdal-async took ~130 ms of JavaScript:
 * - **xmlbuilder2** (~55 ms: with @oozcitak/dom and js-yaml, ~100 files), for `gdal.wrapVRT` alone, which
 *   takes only its `fragment` function at load (`const { fragment } = require('xmlbuilder2')`);
 * - **@mapbox/node-pre-gyp** (~18 ms: with semver and nopt), whose `find` names the native binding's path.
 *   For plain Node that path is `lib/binding/node-v<ABI>-<platform>-<arch>/<module_name>.node`
 *   ({@link defaultBindingPath}); anywhere node-pre-gyp's answer could differ (Electron, N-API builds,
 *   another path template), the real `find` answers.
 * The dlopen of the binding itself (~45 ms) cannot be deferred.
 *
 * How: stand-ins are put into Node's CommonJS module cache (`require.cache`, documented as writable) under
 * the paths these packages resolve to from gdal-async, before gdal-async is loaded. Each stand-in has the
 * functions gdal-async takes from the package; the first call removes the stand-in and loads the real package,
 * so every later `require` gets the real one. Written here because no package defers another's `require`s;
 * node_modules stays untouched (a fresh `npm ci` works), and a test checks the stand-ins against the real
 * packages and gdal-async's uses of them.
 */
import { existsSync, readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

type Exports = Record<string, unknown>;
type Loader = () => Exports;

/** What gdal-async's `lib/*.js` take from each deferred package (checked by test/geo/gdalLoad.test.ts). */
export const DEFERRED: Readonly<Record<string, (load: Loader) => Exports>> = {
  xmlbuilder2: (load) => forwarders(load, ['fragment', 'builder', 'create', 'convert', 'createCB', 'fragmentCB']),
  '@mapbox/node-pre-gyp': (load) => ({
    find: (packageJsonPath: string, options?: unknown) =>
      (options === undefined ? defaultBindingPath(packageJsonPath) : null) ??
      (load()['find'] as (path: string, options?: unknown) => string)(packageJsonPath, options),
  }),
};

function forwarders(load: Loader, names: readonly string[]): Exports {
  return Object.fromEntries(names.map((name) => [name, (...args: unknown[]) => (load()[name] as (...a: unknown[]) => unknown)(...args)]));
}

let installed = false;

/**
 * Puts the stand-ins in place (once; no-op where gdal-async is already loaded or cannot be found). Call it
 * before the first `import 'gdal-async'` is evaluated: the CLI's entry does.
 */
export function deferGdalDependencies(): void {
  if (installed) return;
  installed = true;
  let gdalRequire: NodeJS.Require;
  try {
    gdalRequire = createRequire(createRequire(import.meta.url).resolve('gdal-async/package.json'));
  } catch {
    return;
  }
  if (gdalRequire.cache[gdalRequire.resolve('gdal-async')]) return;
  for (const [name, standIn] of Object.entries(DEFERRED)) {
    let path: string;
    try {
      path = gdalRequire.resolve(name);
    } catch {
      continue;
    }
    if (gdalRequire.cache[path]) continue;
    const module = new Module(path);
    module.filename = path;
    module.loaded = true;
    let real: Exports | undefined;
    module.exports = standIn(() => {
      if (!real) {
        if (gdalRequire.cache[path] === module) delete gdalRequire.cache[path];
        real = gdalRequire(name) as Exports;
      }
      return real;
    });
    gdalRequire.cache[path] = module;
  }
}

/**
 * The path node-pre-gyp's `find(packageJsonPath)` gives, without node-pre-gyp, when it can be told: called
 * without options (as gdal-async does: then only the package.json and the running Node decide, not the
 * command line or `npm_config_*`), in plain Node (not Electron), for a package without N-API builds whose
 * `binary.module_path` uses only `{node_abi}`, `{platform}`, `{arch}`, the file present; else null.
 */
export function defaultBindingPath(packageJsonPath: string): string | null {
  if (process.versions['electron'] !== undefined || process.versions['node-webkit'] !== undefined) return null;
  let binary: { module_name?: unknown; module_path?: unknown; napi_versions?: unknown } | undefined;
  try {
    binary = (JSON.parse(readFileSync(packageJsonPath, 'utf8')) as { binary?: typeof binary }).binary;
  } catch {
    return null;
  }
  if (!binary || typeof binary.module_name !== 'string' || typeof binary.module_path !== 'string' || binary.napi_versions !== undefined) return null;
  const values: Record<string, string> = {
    node_abi: `node-v${process.versions.modules}`,
    platform: process.platform,
    target_platform: process.platform,
    arch: process.arch,
    target_arch: process.arch,
  };
  let known = true;
  const modulePath = binary.module_path.replace(/\{([^}]*)\}/g, (_, key: string) => values[key] ?? ((known = false), ''));
  if (!known) return null;
  const path = join(dirname(packageJsonPath), modulePath, `${binary.module_name}.node`);
  return existsSync(path) ? path : null;
}
