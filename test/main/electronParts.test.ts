/**
 * The Electron-free parts of the desktop shell: IPC sender validation, the menu template, remembered
 * window state, and the preload's channel names (the sandboxed preload cannot import them).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildMenuTemplate, type MenuItemSpec } from '../../src/main/menuTemplate.js';
import { isAppChannel, isTrustedSender } from '../../src/main/senderValidation.js';
import { fitToDisplays } from '../../src/main/windowState.js';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL, IPC_PREFIX } from '../../src/shared/api/rpc.js';

const rendererDir = '/opt/segearth/dist-renderer';
const trusted = { rendererDir, devServerOrigin: null };

describe('IPC sender validation', () => {
  const page = pathToFileURL(join(rendererDir, 'index.html')).href;

  it('accepts the app page in its top frame', () => {
    expect(isTrustedSender({ frameUrl: page, isTopFrame: true }, trusted)).toBe(true);
  });

  it.each([
    ['an iframe of the app page', { frameUrl: page, isTopFrame: false }],
    ['a page from the web', { frameUrl: 'https://evil.example/index.html', isTopFrame: true }],
    ['a local file outside the renderer folder', { frameUrl: 'file:///home/me/Downloads/evil.html', isTopFrame: true }],
    ['a ../ escape from the renderer folder', { frameUrl: 'file:///opt/segearth/dist-renderer/../evil.html', isTopFrame: true }],
    ['a sibling folder with the same prefix', { frameUrl: 'file:///opt/segearth/dist-renderer-evil/index.html', isTopFrame: true }],
    ['a file URL with a host', { frameUrl: 'file://server/opt/segearth/dist-renderer/index.html', isTopFrame: true }],
    ['no URL', { frameUrl: null, isTopFrame: true }],
    ['a data URL', { frameUrl: 'data:text/html,<script>1</script>', isTopFrame: true }],
  ])('refuses %s', (_label, sender) => {
    expect(isTrustedSender(sender, trusted)).toBe(false);
  });

  it('accepts the dev server only when one is configured', () => {
    const sender = { frameUrl: 'http://localhost:5173/', isTopFrame: true };
    expect(isTrustedSender(sender, trusted)).toBe(false);
    expect(isTrustedSender(sender, { rendererDir, devServerOrigin: 'http://localhost:5173' })).toBe(true);
    expect(isTrustedSender({ frameUrl: 'http://localhost:5174/', isTopFrame: true }, { rendererDir, devServerOrigin: 'http://localhost:5173' })).toBe(false);
  });

  it('knows the app channels', () => {
    expect(isAppChannel(IPC_INVOKE_CHANNEL)).toBe(true);
    expect(isAppChannel(IPC_EVENT_CHANNEL)).toBe(true);
    expect(isAppChannel('segearth:')).toBe(false);
    expect(isAppChannel('vscode:invoke')).toBe(false);
  });

  it('the sandboxed preload uses the same channel names as the contract', () => {
    const preload = readFileSync(new URL('../../src/main/electron/preload.cts', import.meta.url), 'utf8');
    expect(preload).toContain(`const IPC_PREFIX = '${IPC_PREFIX}';`);
    expect(preload).toContain(`const IPC_INVOKE_CHANNEL = '${IPC_INVOKE_CHANNEL}';`);
    expect(preload).toContain(`const IPC_EVENT_CHANNEL = '${IPC_EVENT_CHANNEL}';`);
    // It exposes one object, and never ipcRenderer itself.
    expect(preload.match(/exposeInMainWorld\(/g)).toHaveLength(1);
    expect(preload).not.toMatch(/exposeInMainWorld\([^)]*ipcRenderer\s*\)/);
  });
});

function labels(items: MenuItemSpec[]): string[] {
  return items.map((i) => i.label ?? i.role ?? i.type ?? '?');
}

describe('application menu', () => {
  const base = { platform: 'linux' as const, recentFiles: [], basemap: false, hasLayer: false, isDev: false };

  it('has File, View, Model and Help with the expected commands', () => {
    const menu = buildMenuTemplate(base);
    expect(labels(menu)).toEqual(['&File', '&View', '&Model', '&Help']);
    expect(labels(menu[0]!.submenu!)).toEqual(['Open raster…', 'Open recent', 'separator', 'Export results…', 'Batch process folder…', 'separator', 'Quit']);
    expect(menu[0]!.submenu![0]!.accelerator).toBe('CmdOrCtrl+O');
    expect(labels(menu[1]!.submenu!)).toEqual(['Zoom to layer', 'Basemap (OpenStreetMap, online)', 'separator', 'togglefullscreen']);
    expect(menu[2]!.submenu![0]!.command).toEqual({ id: 'model-settings' });
    expect(menu[3]!.submenu!.map((i) => i.command?.id)).toEqual(['about', 'open-logs']);
  });

  it('lists recent files and disables zoom without a layer', () => {
    const menu = buildMenuTemplate({ ...base, recentFiles: ['/data/a.tif', '/data/b.tif'], hasLayer: false, basemap: true });
    const recent = menu[0]!.submenu![1]!.submenu!;
    expect(recent[0]!.command).toEqual({ id: 'open-recent', path: '/data/a.tif' });
    expect(recent[0]!.label).toBe('&1 a.tif — /data/a.tif');
    expect(recent.at(-1)!.command).toEqual({ id: 'clear-recent' });
    expect(menu[1]!.submenu![0]!.enabled).toBe(false);
    expect(menu[1]!.submenu![1]!.checked).toBe(true);
    expect(buildMenuTemplate(base)[0]!.submenu![1]!.submenu![0]).toEqual({ label: 'No recent rasters', enabled: false });
  });

  it('uses the app menu on macOS and dev tools only in development', () => {
    const mac = buildMenuTemplate({ ...base, platform: 'darwin', isDev: true });
    expect(mac[0]!.role).toBe('appMenu');
    expect(labels(mac[1]!.submenu!)).not.toContain('Quit');
    expect(labels(mac[2]!.submenu!)).toContain('toggleDevTools');
  });
});

describe('window state', () => {
  const screen = [{ x: 0, y: 0, width: 1920, height: 1080 }];
  it('keeps a position that is on a screen', () => {
    const state = { x: 100, y: 80, width: 1200, height: 800, maximized: false };
    expect(fitToDisplays(state, screen)).toEqual(state);
  });
  it('forgets a position on a screen that is gone', () => {
    expect(fitToDisplays({ x: 2500, y: 80, width: 1200, height: 800, maximized: true }, screen)).toEqual({ width: 1200, height: 800, maximized: true });
  });
});
