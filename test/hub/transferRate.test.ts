/** TransferRate: speed over a sliding window and time left, with an injected clock (no timing in the test). */
import { describe, expect, it } from 'vitest';
import { formatDuration, TransferRate } from '../../src/inference/hub/transferRate.js';

describe('TransferRate', () => {
  it('measures bytes/s over the window, ignores bytes a resume started with, and restarts after a reset', () => {
    let now = 0;
    const rate = new TransferRate(10_000, () => now);
    expect(rate.update(5_000_000, 100_000_000)).toEqual({ bytesPerSecond: null, etaSeconds: null }); // resumed at 5 MB
    now = 2_000;
    expect(rate.update(9_000_000, 100_000_000)).toEqual({ bytesPerSecond: 2_000_000, etaSeconds: 45.5 });
    now = 12_500; // a stall: once the window holds no progress, the speed is 0
    expect(rate.update(9_000_000, 100_000_000).bytesPerSecond).toBe(0);
    now = 13_000;
    expect(rate.update(12_000_000, null)).toMatchObject({ etaSeconds: null });
    now = 14_000;
    expect(rate.update(1_000, 100_000_000)).toEqual({ bytesPerSecond: null, etaSeconds: null }); // restarted from zero
  });

  it('formats durations as h:mm:ss or m:ss', () => {
    expect(formatDuration(12.4)).toBe('0:12');
    expect(formatDuration(247)).toBe('4:07');
    expect(formatDuration(3909)).toBe('1:05:09');
  });
});
