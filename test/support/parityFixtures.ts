/**
 * @module test/support/parityFixtures
 * Where the data kept outside the repository lies (`../shared`, or `SEGEARTH_SHARED`): real imagery in
 * `testdata/` and the model-parity fixtures in `../shared/fixtures/` (official SegEarth-R1 code and transformers' Phi on seeded
 * random weights; each folder has a README) and Debian's python with torch + onnx that the exporter needs.
 * Tests that use them skip with the reason this module gives when either is absent (CI has both).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PYTHON, REPO_ROOT } from './tinyBundle.js';

export const SHARED = process.env.SEGEARTH_SHARED ?? join(REPO_ROOT, '..', 'shared');
export const OFFICIAL = join(SHARED, 'fixtures', 'segearth-r1-official-tiny');
export const PHI = join(SHARED, 'fixtures', 'phi-hf-tiny');
/** Real imagery (README there): Landsat RGB, SpaceNet roads. `SEGEARTH_TESTDATA_DIR` points to another folder. */
export const TESTDATA_DIR = process.env.SEGEARTH_TESTDATA_DIR ?? join(SHARED, 'testdata');

/**
 * Why a parity test cannot run here (printed as `[name] skipped: …`), or undefined when it can. `file` is the
 * fixture file the test reads from both folders.
 */
export function paritySkipReason(name: string, file: 'io.safetensors' | 'weights.safetensors' = 'io.safetensors'): string | undefined {
  const reason =
    !existsSync(join(OFFICIAL, file)) || !existsSync(join(PHI, file))
      ? `fixtures not found under ${SHARED}/fixtures`
      : !existsSync(PYTHON)
        ? `${PYTHON} (Debian python3 with torch and onnx) not found`
        : undefined;
  if (reason) console.warn(`[${name}] skipped: ${reason}`);
  return reason;
}

/** Runs Debian's python in the repository root (e.g. `-m tools.export.fixture_bundle …`); rejects with its stderr tail. */
export function python(args: string[]): Promise<void> {
  return new Promise((res, rej) => {
    const child = spawn(PYTHON, args, { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.on('error', rej);
    child.on('exit', (code) => (code === 0 ? res() : rej(new Error(`python ${args.join(' ')} failed (${code}):\n${err}`))));
  });
}
