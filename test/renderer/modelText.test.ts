/**
 * How the Model & device dialog words a Get: the progress line (bytes, per cent, rate, time left, the
 * conversion's step) and failures in plain words chosen by error code (the backend's own hint wins).
 * (test/renderer is type-checked with the renderer's tsconfig.)
 */
import { describe, expect, it } from 'vitest';
import { describeProblem, progressText } from '../../src/renderer/panels/modelText';

describe('model task wording', () => {
  it('says bytes, per cent, rate and time left while downloading, and the step while converting', () => {
    expect(progressText({ phase: 'download', done: 1.5 * 2 ** 30, total: 6 * 2 ** 30, bytesPerSecond: 12.5 * 2 ** 20, etaSeconds: 368 })).toBe(
      'Downloading — 1.5 GB of 6.0 GB (25 %) · 12.5 MB/s · 6 min 08 s left',
    );
    expect(progressText({ phase: 'download', done: 0, total: null, bytesPerSecond: null, etaSeconds: null, message: 'asking the hub' })).toBe('Downloading — 0 B · asking the hub');
    expect(progressText({ phase: 'convert', stage: 'weights', done: 120, total: 480 })).toBe('Converting: writing the weights — 120 of 480 (25 %)');
  });

  it('explains failures by code, with what to do', () => {
    const offline = describeProblem({ code: 'DOWNLOAD_FAILED', message: 'Cannot reach https://huggingface.co: getaddrinfo ENOTFOUND.' });
    expect(offline.title).toBe('The download from the model hub failed.');
    expect(offline.advice).toContain('HTTPS_PROXY');
    expect(offline.advice).toContain('Convert a checkpoint folder');
    const gated = describeProblem({ code: 'UNAUTHORIZED', message: 'earth-insights/x is gated.', hint: 'Set HF_TOKEN to a token of an account that accepted its terms.' });
    expect(gated.title).toBe('The model hub refused access to this checkpoint.');
    expect(gated.advice).toBe('Set HF_TOKEN to a token of an account that accepted its terms.');
    expect(describeProblem({ code: 'DISK_FULL', message: 'm' }).advice).toContain('Free space');
    expect(describeProblem({ code: 'CHECKSUM_MISMATCH', message: 'm' }).title).toContain('damaged');
    expect(describeProblem(new Error('boom'))).toEqual({ title: null, message: 'boom', advice: null });
  });
});
