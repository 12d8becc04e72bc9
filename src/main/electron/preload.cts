/**
 * @module main/electron/preload
 * The sandboxed preload: exposes `window.segearth` with `invoke` (API requests), `on` (API events) and
 * `pathForFile` (dropped files), and nothing else — no ipcRenderer, no Node. Sandboxed preloads cannot
 * require app files, so the channel names are repeated here (a test checks they match shared/api/rpc).
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';

const IPC_PREFIX = 'segearth:';
const IPC_INVOKE_CHANNEL = 'segearth:invoke';
const IPC_EVENT_CHANNEL = 'segearth:event';

function checkChannel(channel: string): string {
  if (!channel.startsWith(IPC_PREFIX)) throw new Error(`Unsupported IPC channel '${channel}'`);
  return channel;
}

contextBridge.exposeInMainWorld('segearth', {
  invoke(request: unknown): Promise<unknown> {
    return ipcRenderer.invoke(checkChannel(IPC_INVOKE_CHANNEL), request);
  },
  on(listener: (event: unknown) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    const wrapped = (_e: IpcRendererEvent, payload: unknown): void => listener(payload);
    ipcRenderer.on(checkChannel(IPC_EVENT_CHANNEL), wrapped);
    return () => {
      ipcRenderer.removeListener(IPC_EVENT_CHANNEL, wrapped);
    };
  },
  pathForFile(file: File): string {
    try {
      return webUtils.getPathForFile(file);
    } catch {
      return '';
    }
  },
});
