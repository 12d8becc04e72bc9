/**
 * @module main/ipcInvoke
 * The desktop transport's request handler (what `ipcMain.handle(IPC_INVOKE_CHANNEL, …)` runs): refuses a
 * sender that is not the app's own top frame, then hands the request to the dispatcher. Kept free of Electron
 * so the IPC road can be exercised without an Electron binary (test/main/transports.test.ts).
 */
import type { Dispatcher } from './dispatch.js';
import { isTrustedSender, type TrustedOrigins } from './senderValidation.js';
import type { RpcResponse } from '../shared/api/rpc.js';

/** What the handler reads of Electron's `IpcMainInvokeEvent`. */
export interface IpcSender {
  senderFrame: { url: string; parent: unknown } | null;
}

export function createIpcInvokeHandler(
  dispatcher: Dispatcher,
  trusted: TrustedOrigins,
): (event: IpcSender, request: unknown) => Promise<RpcResponse> {
  return async (event, request) => {
    const frame = event.senderFrame;
    if (!frame || !isTrustedSender({ frameUrl: frame.url, isTopFrame: frame.parent === null }, trusted)) {
      return { id: 0, ok: false, error: { code: 'UNAUTHORIZED', message: 'This page may not use the SegEarth API.' } };
    }
    return dispatcher.dispatch(request, { transport: 'ipc' });
  };
}
