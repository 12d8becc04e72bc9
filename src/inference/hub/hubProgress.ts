/**
 * @module inference/hub/hubProgress
 * Progress of getting a model from the hub (download → check → convert → install), as the CLI prints it and
 * the app's Model & device dialog shows it. JSON-safe and free of Node imports (zod only), so the renderer and
 * the app's contract can import it.
 */
import { z } from 'zod';

export const HubStageSchema = z.enum(['resolving', 'downloading', 'verifying', 'converting', 'installing']);
export type HubStage = z.infer<typeof HubStageSchema>;

export const HubProgressSchema = z.object({
  stage: HubStageSchema,
  /** The file being downloaded or checked, or the converter's step (`weights`, `prefix-cache`…). */
  detail: z.string().optional(),
  /**
   * Bytes (download, verify) or the converter's units, done / total in this stage; total null when unknown. The
   * download counts the whole checkpoint: files already in the cache (or downloaded before a pause) are done.
   */
  done: z.number().nonnegative(),
  total: z.number().nonnegative().nullable(),
  /** Download speed over the last seconds; null when not downloading or not known yet. */
  bytesPerSecond: z.number().nonnegative().nullable(),
  etaSeconds: z.number().nonnegative().nullable(),
  message: z.string().optional(),
});
export type HubProgress = z.infer<typeof HubProgressSchema>;
export type HubProgressListener = (event: HubProgress) => void;
