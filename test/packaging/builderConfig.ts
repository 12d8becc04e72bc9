/**
 * @module test/packaging/builderConfig
 * Test helpers for the packaging tests: electron-builder.yml read and checked with zod (the parts the app
 * relies on), electron-builder's own schema validation, and where an Electron binary for packaging is.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { z } from 'zod';
import { REPO_ROOT } from '../support/tinyBundle.js';

const require = createRequire(import.meta.url);

const Targets = z.array(z.union([z.string(), z.object({ target: z.string() }).passthrough()])).transform((t) => t.map((x) => (typeof x === 'string' ? x : x.target)));
const Platform = z.object({ target: Targets, files: z.array(z.string()).optional() }).passthrough();

export const BuilderConfigSchema = z
  .object({
    appId: z.string(),
    productName: z.literal('SegEarth Desktop'),
    files: z.array(z.string()),
    asar: z.boolean().optional(),
    asarUnpack: z.array(z.string()),
    npmRebuild: z.boolean().optional(),
    extraResources: z.array(z.object({ from: z.string(), to: z.string(), filter: z.array(z.string()) })),
    linux: Platform,
    win: Platform,
    mac: Platform,
  })
  .passthrough();
export type BuilderConfig = z.infer<typeof BuilderConfigSchema>;

export const CONFIG_PATH = path.join(REPO_ROOT, 'electron-builder.yml');

/** The raw YAML as an object (js-yaml comes with electron-builder). */
export function loadRawConfig(file = CONFIG_PATH): unknown {
  const yaml = require('js-yaml') as { load(text: string): unknown };
  return yaml.load(readFileSync(file, 'utf8'));
}

export function loadConfig(file = CONFIG_PATH): BuilderConfig {
  return BuilderConfigSchema.parse(loadRawConfig(file));
}

/** electron-builder's own check of a configuration against its JSON schema; rejects with its message. */
export async function validateWithElectronBuilder(config: unknown): Promise<void> {
  const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
    validateConfiguration(c: unknown, logger: unknown): Promise<void>;
  };
  const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
  await validateConfiguration(config, new DebugLogger(false));
}

/**
 * The Electron distribution electron-builder can package with: `ELECTRON_OVERRIDE_DIST_PATH`, else the
 * `dist/` the electron package downloads at install time; null (with the reason) when there is none.
 */
export function electronDist(): { dir: string } | { dir: null; reason: string } {
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  if (override && existsSync(override)) return { dir: override };
  const dist = path.join(path.dirname(require.resolve('electron/package.json')), 'dist');
  const binary = process.platform === 'win32' ? 'electron.exe' : process.platform === 'darwin' ? 'Electron.app' : 'electron';
  if (existsSync(path.join(dist, binary))) return { dir: dist };
  return {
    dir: null,
    reason:
      `no Electron binary: ELECTRON_OVERRIDE_DIST_PATH is ${override ? `${override} (missing)` : 'not set'} and ${dist} does not exist ` +
      '(the electron package could not download it when it was installed)',
  };
}
