/**
 * @module cli/jsonProgress
 * Machine-readable progress for `--json` runs: one JSON object per line on stderr,
 * `{"type":"progress","fraction":0.42,"stage":"tiles","message":"Tile 3 of 8"}`, so a program driving the CLI
 * (the QGIS plugin, scripts) can show a progress bar without parsing the human progress bar. Lines are
 * written at most every 100 ms unless the stage changes or the run reaches 1; stdout keeps the one result
 * document. Anything else on stderr (warnings, `error:` / `  hint:`) stays plain text.
 */
import { z } from 'zod';

export const ProgressLineSchema = z.object({
  type: z.literal('progress'),
  /** 0..1 over the whole command. */
  fraction: z.number().min(0).max(1),
  stage: z.string(),
  message: z.string().optional(),
  etaSeconds: z.number().nullable().optional(),
});
export type ProgressLine = z.infer<typeof ProgressLineSchema>;

/** A writer of progress lines; `update` is cheap to call often (rate-limited here). */
export function jsonProgressWriter(write: (text: string) => void, minIntervalMs = 100): (line: Omit<ProgressLine, 'type'>) => void {
  let lastAt = 0;
  let lastStage = '';
  return (line) => {
    const now = Date.now();
    const fraction = Math.min(1, Math.max(0, line.fraction));
    if (line.stage === lastStage && fraction < 1 && now - lastAt < minIntervalMs) return;
    lastAt = now;
    lastStage = line.stage;
    write(`${JSON.stringify({ type: 'progress', ...line, fraction: Math.round(fraction * 1e4) / 1e4 })}\n`);
  };
}
