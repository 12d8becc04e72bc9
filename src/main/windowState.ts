/**
 * @module main/windowState
 * The main window's remembered bounds (JSON in the app's data folder, written atomically), kept on a
 * screen that still exists when the app starts again. Electron-free.
 */
import { z } from 'zod';

export const WindowStateSchema = z.object({
  x: z.number().int().optional(),
  y: z.number().int().optional(),
  width: z.number().int().min(400),
  height: z.number().int().min(300),
  maximized: z.boolean(),
});
export type WindowState = z.infer<typeof WindowStateSchema>;

export const DEFAULT_WINDOW_STATE: WindowState = { width: 1400, height: 900, maximized: false };

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Drops the position when the window would not be at least 100×50 px visible on any display now. */
export function fitToDisplays(state: WindowState, workAreas: readonly Rect[]): WindowState {
  if (state.x === undefined || state.y === undefined) return state;
  const { x, y } = state;
  const visible = workAreas.some((a) => {
    const w = Math.min(x + state.width, a.x + a.width) - Math.max(x, a.x);
    const h = Math.min(y + state.height, a.y + a.height) - Math.max(y, a.y);
    return w >= 100 && h >= 50;
  });
  if (visible) return state;
  return { width: state.width, height: state.height, maximized: state.maximized };
}
