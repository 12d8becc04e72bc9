/**
 * @module e2e/support/electron
 * Finds a runnable Electron binary WITHOUT triggering a download (requiring the `electron` package would
 * try to fetch it): `ELECTRON_OVERRIDE_DIST_PATH`, else the binary the package installed (path.txt + dist/).
 * Launches the built app (`npm run build:app`) with Playwright's `_electron`, test hooks on and a fresh
 * user-data folder; native dialogs are replaced in the main process so tests can pick files.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { REPO_ROOT } from '../../src/main/serverApp.js';
import { ensureRendererBuilt, waitForEvent } from './browser.js';

export function findElectronBinary(): { path: string } | { reason: string } {
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  const exe = process.platform === 'win32' ? 'electron.exe' : process.platform === 'darwin' ? 'Electron.app/Contents/MacOS/Electron' : 'electron';
  if (override) {
    const p = join(override, exe);
    return existsSync(p) ? { path: p } : { reason: `ELECTRON_OVERRIDE_DIST_PATH is set but ${p} does not exist` };
  }
  const pkg = join(REPO_ROOT, 'node_modules', 'electron');
  const pathTxt = join(pkg, 'path.txt');
  if (!existsSync(pathTxt)) {
    return { reason: 'the Electron binary is not installed (ELECTRON_SKIP_BINARY_DOWNLOAD / offline); set ELECTRON_OVERRIDE_DIST_PATH to run these specs' };
  }
  const p = join(pkg, 'dist', readFileSync(pathTxt, 'utf8').trim());
  return existsSync(p) ? { path: p } : { reason: `the Electron package points at ${p}, which does not exist` };
}

export interface DesktopSession {
  app: ElectronApplication;
  page: Page;
  userData: string;
  /** Makes the next File ▸ Open raster… / Open button pick `path`. */
  answerOpenDialog(path: string): Promise<void>;
  close(): Promise<void>;
}

export async function launchDesktop(binary: string, env: Record<string, string> = {}): Promise<DesktopSession> {
  execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT, stdio: 'inherit' });
  ensureRendererBuilt();
  const userData = mkdtempSync(join(tmpdir(), 'segearth-electron-'));
  const app = await _electron.launch({
    executablePath: binary,
    args: [REPO_ROOT, '--no-sandbox', '--disable-gpu'],
    env: { ...process.env, SEGEARTH_TEST_HOOKS: '1', SEGEARTH_USER_DATA: userData, ...env } as Record<string, string>,
  });
  const page = await app.firstWindow();
  await waitForEvent(page, 'app-loaded');
  return {
    app,
    page,
    userData,
    async answerOpenDialog(path) {
      await app.evaluate(({ dialog }, p) => {
        dialog.showOpenDialog = (async () => ({ canceled: false, filePaths: [p] })) as typeof dialog.showOpenDialog;
      }, path);
    },
    async close() {
      await app.close();
      rmSync(userData, { recursive: true, force: true });
    },
  };
}
