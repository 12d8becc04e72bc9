/**
 * Runs the PyTorch parity command (`python3 -m tools.export.parity <fixture>`) on both shared fixtures: our
 * definition, loading the fixtures' weights unchanged, must reproduce every reference tensor within the
 * READMEs' tolerances (the command exits non-zero otherwise). Skips with a printed reason when ../shared or
 * Debian's python3 with torch is absent.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PYTHON, REPO_ROOT } from '../support/tinyBundle.js';

const SHARED = process.env.SEGEARTH_SHARED ?? join(REPO_ROOT, '..', 'shared');
const FIXTURES = ['phi-hf-tiny', 'segearth-r1-official-tiny'].map((f) => join(SHARED, 'fixtures', f));

const reason = !FIXTURES.every((f) => existsSync(join(f, 'io.safetensors')))
  ? `fixtures not found under ${SHARED}/fixtures`
  : !existsSync(PYTHON)
    ? `${PYTHON} (Debian python3 with torch) not found`
    : undefined;
if (reason) console.warn(`[torchParity] skipped: ${reason}`);

interface Check {
  name: string;
  max_abs: number;
  ok: boolean;
}

async function parity(fixture: string): Promise<{ code: number | null; out: string; checks: Check[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'segearth-parity-'));
  const json = join(dir, 'checks.json');
  try {
    const { code, out } = await new Promise<{ code: number | null; out: string }>((res, rej) => {
      const child = spawn(PYTHON, ['-m', 'tools.export.parity', fixture, '--threads', '2', '--json', json], { cwd: REPO_ROOT });
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString()));
      child.stderr.on('data', (d: Buffer) => (text += d.toString()));
      child.on('error', rej);
      child.on('exit', (c) => res({ code: c, out: text }));
    });
    const checks = existsSync(json) ? (JSON.parse(await readFile(json, 'utf8')) as Check[]) : [];
    return { code, out, checks };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function byName(checks: Check[], name: string): Check {
  const c = checks.find((x) => x.name === name);
  if (!c) throw new Error(`parity output has no check named ${name}`);
  return c;
}

describe.skipIf(reason !== undefined)('PyTorch definition parity (tools.export.parity)', () => {
  it('reproduces transformers PhiModel (< 1e-4) and chunked == single pass (< 1e-5)', async () => {
    const { code, out, checks } = await parity(FIXTURES[0]!);
    console.log(out);
    expect(byName(checks, 'last_hidden_from_embeds').max_abs).toBeLessThan(1e-4);
    expect(byName(checks, 'last_hidden_from_ids').max_abs).toBeLessThan(1e-4);
    expect(byName(checks, 'chunked_vs_single_pass').max_abs).toBeLessThan(1e-5);
    expect(checks.every((c) => c.ok)).toBe(true);
    expect(code).toBe(0);
  }, 600_000);

  it('reproduces every tensor of the official SegEarth-R1 fixture, including the decoder edge case', async () => {
    const { code, out, checks } = await parity(FIXTURES[1]!);
    console.log(out);
    for (const name of ['res2', 'res5', 'image_tokens', 'mask_features', 'ms0', 'ms1', 'ms2', 'desc_dproj', 'q_desc', 'decoder_queries']) {
      expect(byName(checks, name).max_abs, name).toBeLessThan(1e-4);
    }
    for (const name of ['decoder_aux_mask_logits', 'mask_logits_256', 'mask_logits_1024', 'edge_decoder_aux_mask_logits', 'edge_mask_logits_256']) {
      expect(byName(checks, name).max_abs, name).toBeLessThan(5e-4);
    }
    expect(checks.length).toBeGreaterThanOrEqual(25);
    expect(checks.every((c) => c.ok)).toBe(true);
    expect(code).toBe(0);
  }, 600_000);
});
