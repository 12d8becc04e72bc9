/**
 * @module main/senderValidation
 * Who may call the API over Electron IPC (VS Code's `validatedIpcMain`): only the app's own page, loaded
 * from the app's renderer folder (file://) or the dev server, and only from its top-level frame — never an
 * iframe, a navigated-away page or another origin. Electron-free so it is unit-tested.
 */
import { fileURLToPath } from 'node:url';
import { resolve, sep } from 'node:path';
import { IPC_PREFIX } from '../shared/api/rpc.js';

export interface SenderFacts {
  /** URL of the frame that sent the message (`event.senderFrame.url`). */
  frameUrl: string | null;
  /** Whether that frame is the top-level frame of its window (`senderFrame.parent === null`). */
  isTopFrame: boolean;
}

export interface TrustedOrigins {
  /** Folder the renderer's files are loaded from (file:// URLs must point inside it). */
  rendererDir: string;
  /** `http://localhost:5173` while developing with the Vite dev server; null in builds. */
  devServerOrigin: string | null;
}

export function isTrustedSender(sender: SenderFacts, trusted: TrustedOrigins): boolean {
  if (!sender.isTopFrame || !sender.frameUrl) return false;
  let url: URL;
  try {
    url = new URL(sender.frameUrl);
  } catch {
    return false;
  }
  if (url.protocol === 'file:') {
    if (url.host !== '') return false;
    const file = resolve(fileURLToPath(url));
    const dir = resolve(trusted.rendererDir);
    return file.startsWith(dir + sep);
  }
  if (trusted.devServerOrigin && (url.protocol === 'http:' || url.protocol === 'https:')) {
    return url.origin === new URL(trusted.devServerOrigin).origin;
  }
  return false;
}

/** The preload and main only handle channels with the app prefix. */
export function isAppChannel(channel: string): boolean {
  return channel.startsWith(IPC_PREFIX) && channel.length > IPC_PREFIX.length && /^[a-z:.-]+$/.test(channel);
}
