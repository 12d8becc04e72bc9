/**
 * @module main/menuTemplate
 * The application menu as plain data (Electron-free, unit-tested): File (Open raster…, Open recent, Export
 * results…, Batch process folder…, Quit), View (Zoom to layer, Basemap), Model (Model & device…), Help
 * (About, Open logs folder). Items carry a `command` the Electron layer maps to a handler.
 */
import { basename } from 'node:path';

export type MenuCommand =
  | { id: 'open-raster' }
  | { id: 'open-recent'; path: string }
  | { id: 'clear-recent' }
  | { id: 'export-results' }
  | { id: 'batch' }
  | { id: 'zoom-to-layer' }
  | { id: 'toggle-basemap' }
  | { id: 'model-settings' }
  | { id: 'about' }
  | { id: 'open-logs' };

export interface MenuItemSpec {
  label?: string;
  accelerator?: string;
  role?: 'quit' | 'reload' | 'toggleDevTools' | 'togglefullscreen' | 'copy' | 'paste' | 'cut' | 'selectAll' | 'undo' | 'redo' | 'appMenu';
  type?: 'separator' | 'checkbox';
  checked?: boolean;
  enabled?: boolean;
  command?: MenuCommand;
  submenu?: MenuItemSpec[];
}

export interface MenuState {
  platform: NodeJS.Platform;
  recentFiles: readonly string[];
  basemap: boolean;
  hasLayer: boolean;
  isDev: boolean;
}

export function buildMenuTemplate(state: MenuState): MenuItemSpec[] {
  const mac = state.platform === 'darwin';
  const recent: MenuItemSpec[] =
    state.recentFiles.length === 0
      ? [{ label: 'No recent rasters', enabled: false }]
      : [
          ...state.recentFiles.map((path, i) => ({
            label: `${i < 9 ? `&${i + 1} ` : ''}${basename(path)} — ${path}`,
            command: { id: 'open-recent' as const, path },
          })),
          { type: 'separator' as const },
          { label: 'Clear recent', command: { id: 'clear-recent' as const } },
        ];
  const file: MenuItemSpec = {
    label: '&File',
    submenu: [
      { label: 'Open raster…', accelerator: 'CmdOrCtrl+O', command: { id: 'open-raster' } },
      { label: 'Open recent', submenu: recent },
      { type: 'separator' },
      { label: 'Export results…', accelerator: 'CmdOrCtrl+E', command: { id: 'export-results' } },
      { label: 'Batch process folder…', command: { id: 'batch' } },
      ...(mac ? [] : [{ type: 'separator' as const }, { label: 'Quit', role: 'quit' as const, accelerator: 'CmdOrCtrl+Q' }]),
    ],
  };
  const view: MenuItemSpec = {
    label: '&View',
    submenu: [
      { label: 'Zoom to layer', accelerator: 'CmdOrCtrl+Shift+L', enabled: state.hasLayer, command: { id: 'zoom-to-layer' } },
      { label: 'Basemap (OpenStreetMap, online)', type: 'checkbox', checked: state.basemap, command: { id: 'toggle-basemap' } },
      { type: 'separator' },
      { role: 'togglefullscreen' },
      ...(state.isDev ? [{ role: 'reload' as const }, { role: 'toggleDevTools' as const }] : []),
    ],
  };
  const model: MenuItemSpec = { label: '&Model', submenu: [{ label: 'Model & device…', command: { id: 'model-settings' } }] };
  const help: MenuItemSpec = {
    label: '&Help',
    submenu: [
      { label: 'About SegEarth Desktop', command: { id: 'about' } },
      { label: 'Open logs folder', command: { id: 'open-logs' } },
    ],
  };
  return [...(mac ? [{ role: 'appMenu' as const }] : []), file, view, model, help];
}
