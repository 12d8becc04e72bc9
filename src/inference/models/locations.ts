/**
 * @module inference/models/locations
 * Where model bundles live, for the app and the CLI alike (plain Node: no Electron import, so both compute
 * the same folders).
 *
 * Search order (the first folder holding a bundle id wins; later ones with the same id are shadowed):
 * 1. `SEGEARTH_MODELS_DIR` — one or more folders, separated by the platform's path-list delimiter (`:` on
 *    Linux/macOS, `;` on Windows). When set it REPLACES the user's model folder: the first entry is where
 *    `import`/`download` install, and the user folder is not searched (handy for portable installs, shared
 *    network drives and tests).
 * 2. The user's model folder, `<data folder>/models` (writable; installs go here when no override is set):
 *    - Linux:   `$XDG_DATA_HOME/segearth-desktop/models`, default `~/.local/share/segearth-desktop/models`
 *    - macOS:   `~/Library/Application Support/SegEarth Desktop/models`
 *    - Windows: `%APPDATA%\SegEarth Desktop\models`
 *    `SEGEARTH_DATA_DIR` replaces the whole data folder (settings, caches and models).
 * 3. The read-only `models/` shipped with the app: `<resources>/models` in the packaged app, the repository's
 *    `models/` when running from source; `SEGEARTH_SHIPPED_MODELS_DIR` overrides it.
 *
 * On macOS and Windows the data folder equals Electron's `app.getPath('userData')` for the product name
 * "SegEarth Desktop". On Linux Electron would use `~/.config`; models are data, not configuration, so we
 * follow the XDG base-directory rules instead. The app therefore takes its model folders from
 * {@link resolveModelLocations}, never from `app.getPath`.
 */
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Name of the data folder on macOS and Windows (matches the app's productName). */
export const PRODUCT_NAME = 'SegEarth Desktop';
/** Name of the data folder on Linux (XDG style: lower case, no spaces). */
export const LINUX_DIR_NAME = 'segearth-desktop';

export type LocationKind = 'env' | 'user' | 'shipped';

export interface ModelSearchDir {
  readonly dir: string;
  readonly kind: LocationKind;
  /** False for the bundles shipped with the app: they are never written or removed. */
  readonly writable: boolean;
}

export interface ModelLocations {
  /** The per-user data folder (settings and caches live here even when `SEGEARTH_MODELS_DIR` is set). */
  readonly dataDir: string;
  /** Where `import` and `download` install bundles. */
  readonly installDir: string;
  /** Folders searched for bundles, in precedence order. */
  readonly searchDirs: readonly ModelSearchDir[];
  /** Default model per variant (JSON, written atomically). */
  readonly settingsFile: string;
  /** sha256 results keyed by file path, size and mtime. */
  readonly verifyCacheFile: string;
  /** Downloads in progress (`*.partial`) and imports being assembled; inside `installDir`, so renames are atomic. */
  readonly stagingDir: string;
}

export interface LocationInputs {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly platform?: NodeJS.Platform;
  readonly home?: string;
  /** The read-only bundles shipped with the app; defaults to the repository's `models/`. `null` disables it. */
  readonly shippedDir?: string | null;
}

/** The per-user data folder, following each OS's convention. */
export function userDataDir(inputs: LocationInputs = {}): string {
  const env = inputs.env ?? process.env;
  const platform = inputs.platform ?? process.platform;
  const home = inputs.home ?? homedir();
  const p = platform === 'win32' ? path.win32 : path.posix;
  const override = nonEmpty(env.SEGEARTH_DATA_DIR);
  if (override) return p.resolve(override);
  switch (platform) {
    case 'win32':
      return p.join(nonEmpty(env.APPDATA) ?? p.join(home, 'AppData', 'Roaming'), PRODUCT_NAME);
    case 'darwin':
      return p.join(home, 'Library', 'Application Support', PRODUCT_NAME);
    default: {
      const xdg = nonEmpty(env.XDG_DATA_HOME);
      // The XDG spec says relative values are invalid and must be ignored.
      const base = xdg && p.isAbsolute(xdg) ? xdg : p.join(home, '.local', 'share');
      return p.join(base, LINUX_DIR_NAME);
    }
  }
}

/**
 * The read-only bundles shipped with the app: `SEGEARTH_SHIPPED_MODELS_DIR` if set; in a packaged Electron app
 * `<resources>/models` (electron-builder `extraResources`); otherwise the repository's `models/`, found
 * relative to this module.
 */
export function defaultShippedDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const override = nonEmpty(env.SEGEARTH_SHIPPED_MODELS_DIR);
  if (override) return path.resolve(override);
  const resources = (process as { resourcesPath?: string }).resourcesPath;
  if (resources && !resources.includes(`${path.sep}node_modules${path.sep}electron${path.sep}`)) {
    return path.join(resources, 'models');
  }
  // src/inference/models/locations.ts and dist/inference/models/locations.js are both three levels down.
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'models');
}

/** All model folders, in precedence order; see the module comment for the rules. */
export function resolveModelLocations(inputs: LocationInputs = {}): ModelLocations {
  const env = inputs.env ?? process.env;
  const platform = inputs.platform ?? process.platform;
  const p = platform === 'win32' ? path.win32 : path.posix;
  const dataDir = userDataDir(inputs);
  const envDirs = (nonEmpty(env.SEGEARTH_MODELS_DIR) ?? '')
    .split(p.delimiter)
    .map((d) => d.trim())
    .filter((d) => d.length > 0)
    .map((d) => p.resolve(d));
  const searchDirs: ModelSearchDir[] =
    envDirs.length > 0
      ? envDirs.map((dir) => ({ dir, kind: 'env' as const, writable: true }))
      : [{ dir: p.join(dataDir, 'models'), kind: 'user', writable: true }];
  const shipped = inputs.shippedDir === undefined ? defaultShippedDir(env) : inputs.shippedDir;
  if (shipped !== null && !searchDirs.some((s) => s.dir === p.resolve(shipped))) {
    searchDirs.push({ dir: p.resolve(shipped), kind: 'shipped', writable: false });
  }
  const installDir = searchDirs[0].dir;
  return {
    dataDir,
    installDir,
    searchDirs,
    settingsFile: p.join(dataDir, 'model-settings.json'),
    verifyCacheFile: p.join(dataDir, 'cache', 'model-verify.json'),
    stagingDir: p.join(installDir, '.staging'),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim().length > 0 ? value : undefined;
}
