/**
 * @module main/electron/index
 * The Electron main process, kept thin: window (contextIsolation, sandbox, no Node in the page, strict CSP,
 * no navigation, no new windows, no permissions), single-instance lock, remembered window state, the app
 * menu, native dialogs, the `segearth-tile://` protocol for map tiles, and the IPC transport (validated
 * sender) in front of the same backend as server mode.
 */
import './geoDataEnv.js';
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, screen, session, shell, type MenuItemConstructorOptions } from 'electron';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL } from '../../shared/api/rpc.js';
import { TILE_PROTOCOL } from '../../shared/api/resources.js';
import { toErrorPayload } from '../../shared/errors.js';
import { createDispatcher } from '../dispatch.js';
import { buildMenuTemplate, type MenuCommand, type MenuItemSpec } from '../menuTemplate.js';
import { httpStatusFor, loadResource } from '../resources.js';
import { appVersion } from '../serverApp.js';
import { createBackend, type Backend } from '../services/createApi.js';
import { createGeoAdapter } from '../services/geoAdapter.js';
import { createJsonStore } from '../services/jsonStore.js';
import { createRuntimeAdapter } from '../services/runtimeAdapter.js';
import { createIpcInvokeHandler } from '../ipcInvoke.js';
import { ModelStore } from '../../inference/models/ModelStore.js';
import { DEFAULT_WINDOW_STATE, fitToDisplays, WindowStateSchema } from '../windowState.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const APP_ROOT = join(here, '..', '..', '..');
const RENDERER_DIR = join(APP_ROOT, 'dist-renderer');
const DEV_SERVER = process.env.SEGEARTH_DEV_SERVER ?? null;

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  `img-src 'self' data: blob: ${TILE_PROTOCOL}: https://tile.openstreetmap.org`,
  `connect-src 'self' ${TILE_PROTOCOL}:`,
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-src 'none'",
].join('; ');

protocol.registerSchemesAsPrivileged([{ scheme: TILE_PROTOCOL, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

if (process.env.SEGEARTH_USER_DATA) app.setPath('userData', process.env.SEGEARTH_USER_DATA);

let mainWindow: BrowserWindow | null = null;
let backend: Backend | null = null;

function toElectronMenu(items: MenuItemSpec[], run: (c: MenuCommand) => void): MenuItemConstructorOptions[] {
  return items.map((item) => {
    const out: MenuItemConstructorOptions = {};
    if (item.label !== undefined) out.label = item.label;
    if (item.accelerator) out.accelerator = item.accelerator;
    if (item.role) out.role = item.role;
    if (item.type) out.type = item.type;
    if (item.checked !== undefined) out.checked = item.checked;
    if (item.enabled !== undefined) out.enabled = item.enabled;
    if (item.submenu) out.submenu = toElectronMenu(item.submenu, run);
    const command = item.command;
    if (command) out.click = () => run(command);
    return out;
  });
}

async function refreshMenu(): Promise<void> {
  if (!backend) return;
  const settings = await backend.settings.get();
  const template = buildMenuTemplate({
    platform: process.platform,
    recentFiles: settings.recentFiles,
    basemap: settings.basemap,
    hasLayer: backend.workspace.listLayers().length > 0,
    isDev: !app.isPackaged,
  });
  Menu.setApplicationMenu(Menu.buildFromTemplate(toElectronMenu(template, (c) => void runCommand(c))));
}

async function pickPath(purpose: 'open-raster' | 'export' | 'folder', defaultName?: string): Promise<string | null> {
  const win = mainWindow;
  if (!win) return null;
  if (purpose === 'folder') {
    const r = await dialog.showOpenDialog(win, {
      title: 'Choose a folder',
      ...(defaultName ? { defaultPath: defaultName } : {}),
      properties: ['openDirectory', 'createDirectory'],
    });
    return r.canceled ? null : (r.filePaths[0] ?? null);
  }
  if (purpose === 'open-raster') {
    const r = await dialog.showOpenDialog(win, {
      title: 'Open raster',
      properties: ['openFile'],
      filters: [
        { name: 'Rasters', extensions: ['tif', 'tiff', 'vrt', 'jp2', 'img', 'png', 'jpg', 'jpeg', 'ecw', 'nc', 'hdf', 'h5'] },
        { name: 'All files', extensions: ['*'] },
      ],
    });
    return r.canceled ? null : (r.filePaths[0] ?? null);
  }
  const r = await dialog.showSaveDialog(win, {
    title: 'Export results',
    ...(defaultName ? { defaultPath: defaultName } : {}),
    filters: [
      { name: 'GeoJSON', extensions: ['geojson'] },
      { name: 'GeoPackage', extensions: ['gpkg'] },
      { name: 'ESRI Shapefile', extensions: ['shp'] },
      { name: 'Mask GeoTIFF', extensions: ['tif'] },
    ],
  });
  return r.canceled ? null : (r.filePath ?? null);
}

async function runCommand(command: MenuCommand): Promise<void> {
  const b = backend;
  if (!b) return;
  switch (command.id) {
    case 'open-raster': {
      const path = await pickPath('open-raster');
      if (path) b.events.emit('workspace.command', { command: 'open-raster', path });
      break;
    }
    case 'open-recent':
      b.events.emit('workspace.command', { command: 'open-raster', path: command.path });
      break;
    case 'clear-recent':
      await b.settings.clearRecent();
      break;
    case 'export-results':
      b.events.emit('workspace.command', { command: 'export-results' });
      break;
    case 'batch':
      b.events.emit('workspace.command', { command: 'batch' });
      break;
    case 'zoom-to-layer':
      b.events.emit('workspace.command', { command: 'zoom-to-layer' });
      break;
    case 'toggle-basemap':
      b.events.emit('workspace.command', { command: 'toggle-basemap' });
      break;
    case 'model-settings':
      b.events.emit('workspace.command', { command: 'model-settings' });
      break;
    case 'about':
      b.events.emit('workspace.command', { command: 'about' });
      break;
    case 'open-logs':
      await shell.openPath(app.getPath('logs'));
      break;
  }
}

/** Copies warnings and errors of the main process into <logs>/main.log (Help ▸ Open logs folder). */
function startLogFile(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const log = createWriteStream(join(dir, 'main.log'), { flags: 'a' });
  for (const level of ['warn', 'error'] as const) {
    const original = console[level].bind(console);
    console[level] = (...args: unknown[]) => {
      original(...args);
      const text = args.map((a) => (a instanceof Error ? (a.stack ?? a.message) : typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
      log.write(`${new Date().toISOString()} ${level.toUpperCase()} ${text}\n`);
    };
  }
  console.warn(`SegEarth Desktop ${appVersion()} started`);
}

async function createWindow(): Promise<void> {
  const store = createJsonStore(join(app.getPath('userData'), 'window-state.json'), WindowStateSchema, DEFAULT_WINDOW_STATE);
  const saved = fitToDisplays(await store.read(), screen.getAllDisplays().map((d) => d.workArea));
  const win = new BrowserWindow({
    ...saved,
    minWidth: 900,
    minHeight: 600,
    title: 'SegEarth Desktop',
    show: false,
    webPreferences: {
      preload: join(here, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  mainWindow = win;
  if (saved.maximized) win.maximize();
  win.once('ready-to-show', () => win.show());
  const remember = (): void => {
    const bounds = win.getNormalBounds();
    void store.write({ ...bounds, maximized: win.isMaximized() });
  };
  win.on('close', remember);
  win.on('closed', () => {
    mainWindow = null;
  });
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.webContents.on('will-navigate', (event) => event.preventDefault());
  if (DEV_SERVER) await win.loadURL(DEV_SERVER);
  else await win.loadURL(pathToFileURL(join(RENDERER_DIR, 'index.html')).href);
}

async function start(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  app.on('second-instance', () => {
    if (mainWindow) {
      if (mainWindow.isMinimized()) mainWindow.restore();
      mainWindow.focus();
    }
  });
  await app.whenReady();
  startLogFile(app.getPath('logs'));

  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });

  const modelStore = new ModelStore();
  backend = await createBackend({
    mode: 'electron',
    appVersion: appVersion(),
    roots: [],
    dataDir: app.getPath('userData'),
    logsDir: app.getPath('logs'),
    geo: createGeoAdapter(),
    runtime: createRuntimeAdapter({ store: modelStore, defaultModelDir: process.env.SEGEARTH_MODEL_DIR ?? null }),
    modelStore,
    testHooks: process.env.SEGEARTH_TEST_HOOKS === '1',
    pickPath,
  });
  const b = backend;
  const dispatcher = createDispatcher(b.api, { onInternalError: (err, where) => console.error(`[segearth] ${where} failed:`, err) });
  const trusted = { rendererDir: RENDERER_DIR, devServerOrigin: DEV_SERVER };

  const invoke = createIpcInvokeHandler(dispatcher, trusted);
  ipcMain.handle(IPC_INVOKE_CHANNEL, async (event, request: unknown) => {
    const response = await invoke(event, request);
    if (response.ok) void refreshMenu();
    return response;
  });
  b.events.subscribe((event) => {
    mainWindow?.webContents.send(IPC_EVENT_CHANNEL, event);
    if (event.event === 'settings.changed') void refreshMenu();
  });

  protocol.handle(TILE_PROTOCOL, async (request) => {
    const url = new URL(request.url);
    try {
      const png = await loadResource(url.pathname.replace(/^\/+/, ''), b);
      return new Response(Buffer.from(png), { headers: { 'Content-Type': 'image/png' } });
    } catch (err) {
      const payload = toErrorPayload(err);
      return new Response(payload.message, { status: httpStatusFor(payload.code) });
    }
  });

  await refreshMenu();
  await createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) void createWindow();
  });
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

// A running Get of a model is paused, not lost: its state is recorded and its partial files stay for Resume.
app.on('before-quit', () => backend?.models.cancelAll());

start().catch((err: unknown) => {
  console.error('SegEarth Desktop failed to start:', err);
  dialog.showErrorBox('SegEarth Desktop could not start', err instanceof Error ? err.message : String(err));
  app.exit(1);
});
