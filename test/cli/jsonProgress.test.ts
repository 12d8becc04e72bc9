/**
 * `--json` progress lines (cli/jsonProgress): schema-valid JSON, one per line, rate-limited within a stage but
 * never dropping a new stage or the end; hub events (models get) mapped to the fraction of their stage.
 */
import { describe, expect, it } from 'vitest';
import { ProgressLineSchema, jsonProgressWriter } from '../../src/cli/jsonProgress.js';
import { hubProgressLine } from '../../src/cli/commands/modelsGet.js';

describe('jsonProgressWriter', () => {
  it('writes schema-valid lines; within a stage at most one per interval, but every new stage and the end', () => {
    let text = '';
    const write = jsonProgressWriter((t) => (text += t), 60_000);
    write({ fraction: 0, stage: 'reading', message: 'Opening the raster' });
    write({ fraction: 0.1, stage: 'reading' }); // same stage, within the interval: dropped
    write({ fraction: 0.5, stage: 'tiles', message: 'Tile 1 of 2', etaSeconds: 3 });
    write({ fraction: 1.2, stage: 'tiles' }); // the end always, clamped to 1
    const lines = text.trimEnd().split('\n').map((l) => ProgressLineSchema.parse(JSON.parse(l)));
    expect(lines).toEqual([
      { type: 'progress', fraction: 0, stage: 'reading', message: 'Opening the raster' },
      { type: 'progress', fraction: 0.5, stage: 'tiles', message: 'Tile 1 of 2', etaSeconds: 3 },
      { type: 'progress', fraction: 1, stage: 'tiles' },
    ]);
  });

  it('maps hub progress to the fraction of its stage, naming the file and any message', () => {
    expect(hubProgressLine({ stage: 'downloading', detail: 'model.safetensors', done: 250, total: 1000, bytesPerSecond: 10, etaSeconds: 75, message: 'resumed at 250 B' }))
      .toEqual({ fraction: 0.25, stage: 'downloading', message: 'downloading model.safetensors — resumed at 250 B', etaSeconds: 75 });
    expect(hubProgressLine({ stage: 'resolving', done: 0, total: null, bytesPerSecond: null, etaSeconds: null }))
      .toEqual({ fraction: 0, stage: 'resolving', message: 'resolving', etaSeconds: null });
  });
});
