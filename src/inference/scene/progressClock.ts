/**
 * @module inference/scene/progressClock
 * Progress of a scene run: stage, message, tile i/n, the fraction of the whole run and an ETA from the time
 * spent so far.
 */

export const SCENE_STAGES = ['reading', 'image', 'question', 'tiles', 'stitching', 'vectorizing'] as const;
export type SceneStage = (typeof SCENE_STAGES)[number];

export interface SceneProgress {
  stage: SceneStage;
  message: string;
  tileIndex: number;
  tileCount: number;
  /** 0..1 over the whole run. */
  fraction: number;
  etaSeconds: number | null;
}

export class ProgressClock {
  private readonly t0 = performance.now();
  constructor(private readonly emit: ((p: SceneProgress) => void) | undefined) {}
  report(stage: SceneStage, message: string, fraction: number, tileIndex = 0, tileCount = 0): void {
    if (!this.emit) return;
    const elapsed = (performance.now() - this.t0) / 1000;
    const eta = fraction > 0.02 && fraction < 1 ? (elapsed * (1 - fraction)) / fraction : null;
    this.emit({ stage, message, tileIndex, tileCount, fraction: Math.min(1, Math.max(0, fraction)), etaSeconds: eta });
  }
}
