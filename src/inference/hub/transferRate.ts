/**
 * @module inference/hub/transferRate
 * Bytes per second and time left of a transfer, over a sliding window of recent samples (so a stall shows
 * within the window, and a resumed download does not count the bytes it already had as speed).
 */

export interface Rate {
  /** Null until two samples a little apart exist. */
  readonly bytesPerSecond: number | null;
  /** Seconds left at the current speed; null when the speed or the total is unknown. */
  readonly etaSeconds: number | null;
}

export class TransferRate {
  private readonly samples: { t: number; done: number }[] = [];

  /** `windowMs`: how far back the speed looks (default 10 s). `now` is injectable for tests. */
  constructor(
    private readonly windowMs = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Records that `done` bytes of `total` are transferred now, and returns the rate. */
  update(done: number, total: number | null): Rate {
    const t = this.now();
    const last = this.samples.at(-1);
    if (last && done < last.done) this.samples.length = 0; // restarted from a lower offset
    this.samples.push({ t, done });
    while (this.samples.length > 2 && t - this.samples[1]!.t > this.windowMs) this.samples.shift();
    const first = this.samples[0]!;
    const dt = (t - first.t) / 1000;
    if (dt < 0.2) return { bytesPerSecond: null, etaSeconds: null };
    const bytesPerSecond = (done - first.done) / dt;
    const etaSeconds = total !== null && bytesPerSecond > 0 ? Math.max(0, (total - done) / bytesPerSecond) : null;
    return { bytesPerSecond, etaSeconds };
  }
}

/** `1:05:09`, `4:07`, `0:12`. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
