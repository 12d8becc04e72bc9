import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECKPOINTS, firstRunGuide, formatFirstRunGuide, NO_MODEL_MESSAGE } from '../../src/inference/models/firstRun.js';
import { resolveModelLocations } from '../../src/inference/models/locations.js';
import { FirstRunGuideSchema, ModelLocationsSchema } from '../../src/inference/models/types.js';

const locations = resolveModelLocations({ platform: 'linux', home: '/home/ana', env: {}, shippedDir: '/opt/app/models' });

describe('first-run guide', () => {
  it('names the released checkpoints, the export command and the import command', () => {
    const g = firstRunGuide(locations);
    expect(g.checkpoints.map((c) => c.repo)).toEqual(['earth-insights/SegEarth-R1-EarthReason', 'earth-insights/SegEarth-R1-RRSIS-D']);
    expect(g.checkpoints.map((c) => c.variant)).toEqual(['earthreason', 'rrsis-d']);
    const commands = g.options.flatMap((o) => o.commands);
    expect(commands).toContain('/usr/bin/python3 -m tools.export ckpt/SegEarth-R1-EarthReason -o segearth-r1-earthreason');
    expect(commands).toContain('segearth models import segearth-r1-earthreason');
    expect(commands.some((c) => c.startsWith('segearth models download ') && c.includes('--sha256'))).toBe(true);
    expect(g.installDir).toBe('/home/ana/.local/share/segearth-desktop/models');
    expect(g.searchDirs).toEqual(['/home/ana/.local/share/segearth-desktop/models', '/opt/app/models']);
    expect(NO_MODEL_MESSAGE).toContain('segearth models get earthreason');
    expect(commands).toContain('segearth models get earthreason');
    expect(commands).toContain('segearth models convert <checkpoint-folder> --install');
    expect(g.checkpoints.map((c) => c.licence)).toEqual(['Apache-2.0', 'Apache-2.0']);
    // Crosses the app's IPC as JSON, checked by its zod schema.
    expect(FirstRunGuideSchema.parse(JSON.parse(JSON.stringify(g)))).toEqual(g);
    expect(ModelLocationsSchema.parse(locations)).toEqual(locations);
  });

  it('formats as plain text with every command', () => {
    const text = formatFirstRunGuide(firstRunGuide(locations));
    for (const c of CHECKPOINTS) expect(text).toContain(c.repo);
    expect(text).toContain('     $ /usr/bin/python3 -m tools.export ckpt/SegEarth-R1-EarthReason -o segearth-r1-earthreason\n');
    expect(text).toContain('Bundles are installed into /home/ana/.local/share/segearth-desktop/models.');
  });

  it('uses the same export and download commands as the README', async () => {
    const readme = await readFile(path.join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    expect(readme).toContain('/usr/bin/python3 -m tools.export ckpt/SegEarth-R1-EarthReason -o ');
    expect(readme).toContain('huggingface-cli download earth-insights/SegEarth-R1-EarthReason --local-dir ckpt/SegEarth-R1-EarthReason');
    expect(readme).toContain('### Model storage and the model manager');
  });
});
