import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.js';
import { ModelDefaultsSchema, ModelListingSchema } from '../../src/inference/models/types.js';
import { bytes, type FileServer, packBundle, serveFile, sha256, tempStore, type TempStore, writeBundle } from './helpers.js';

const COMMANDS = [{ name: 'models', load: () => import('../../src/cli/commands/models.js') }];
const ENV_KEYS = ['SEGEARTH_DATA_DIR', 'SEGEARTH_MODELS_DIR', 'SEGEARTH_SHIPPED_MODELS_DIR'] as const;

let ts: TempStore;
let saved: Record<string, string | undefined>;
let server: FileServer | undefined;

beforeEach(async () => {
  ts = await tempStore();
  saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  process.env.SEGEARTH_DATA_DIR = path.join(ts.root, 'data');
  process.env.SEGEARTH_SHIPPED_MODELS_DIR = path.join(ts.root, 'shipped');
  delete process.env.SEGEARTH_MODELS_DIR;
});
afterEach(async () => {
  for (const k of ENV_KEYS) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  await server?.close();
  server = undefined;
  await ts.cleanup();
});

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(['node', 'segearth', 'models', ...args], COMMANDS, {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
  });
  return { code, out, err };
}

describe('segearth models', () => {
  it('list without any bundle explains how to get the model', async () => {
    const r = await cli('list');
    expect(r.code).toBe(0);
    expect(r.out).toContain('No model installed yet');
    expect(r.out).toContain('earth-insights/SegEarth-R1-EarthReason');
    expect(r.out).toContain('/usr/bin/python3 -m tools.export ckpt/SegEarth-R1-EarthReason -o segearth-r1-earthreason');
    expect(r.out).toContain('segearth models import');
    expect(r.out).toContain(`user     ${path.join(ts.root, 'data', 'models')}  (installs go here)`);
    const j = await cli('list', '--json');
    expect(JSON.parse(j.out)).toMatchObject({ models: [], broken: [], defaults: { earthreason: null } });
  });

  it('import, list (table and JSON), default, verify, remove', async () => {
    const dir = await writeBundle(path.join(ts.root, 'src'), { id: 'er-fp16', precision: 'fp16' });
    const imp = await cli('import', dir);
    expect(imp.code).toBe(0);
    expect(imp.out).toMatch(/^installed er-fp16 \(EarthReason, image fp32, llm fp16, head fp32, [\d.]+ KiB, verified\)/);
    expect(imp.err).toContain('copy:'); // progress on stderr
    const again = await cli('import', dir);
    expect(again.code).toBe(4); // OUTPUT_EXISTS
    expect(again.err).toContain('--replace');

    const table = await cli('list');
    expect(table.out.split('\n')[0]).toMatch(/^ID\s+VARIANT\s+PRECISION\s+SIZE\s+STATE\s+SOURCE CHECKPOINT\s+LOCATION$/);
    expect(table.out.split('\n')[1]).toMatch(/^er-fp16 \*\s+EarthReason\s+image fp32, llm fp16, head fp32\s+[\d.]+ KiB\s+verified\s+earth-insights\/SegEarth-R1-EarthReason\s+user$/);
    const listed = JSON.parse((await cli('list', '--json')).out);
    expect(ModelListingSchema.safeParse(listed).success).toBe(true);
    expect(ModelDefaultsSchema.parse(listed.defaults)).toEqual({ earthreason: 'er-fp16', 'rrsis-d': null, refsegrs: null, 'tiny-test': null });
    expect(listed.models[0]).toMatchObject({ id: 'er-fp16', variant: 'earthreason', verify: { state: 'verified' }, isDefault: true });

    expect((await cli('default', 'er-fp16')).out).toBe('er-fp16 is now the default EarthReason model\n');
    expect(JSON.parse((await cli('default', '--json')).out)).toEqual({ earthreason: 'er-fp16', 'rrsis-d': null, refsegrs: null, 'tiny-test': null });
    expect((await cli('default', '--clear', 'bogus')).code).toBe(2);

    const ok = await cli('verify', '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)[0].verify).toMatchObject({ state: 'verified', hashedFiles: 0 });
    const f = path.join(ts.root, 'data', 'models', 'er-fp16', 'llm.onnx.data');
    const b = await readFile(f);
    b[7] ^= 0x10;
    const { writeFile, utimes } = await import('node:fs/promises');
    await writeFile(f, b);
    await utimes(f, 1_700_000_000, 1_700_000_000);
    const bad = await cli('verify', 'er-fp16');
    expect(bad.code).toBe(3); // MODEL_INVALID
    expect(bad.out).toContain('er-fp16: failed');
    expect(bad.out).toContain('sha256: llm.onnx.data has sha256');
    expect(bad.err).toContain('error: Damaged bundle: er-fp16.');

    expect((await cli('remove', 'er-fp16')).out).toBe('removed er-fp16\n');
    await expect(stat(path.join(ts.root, 'data', 'models', 'er-fp16'))).rejects.toThrow();
    const gone = await cli('remove', 'er-fp16');
    expect(gone.code).toBe(3);
    expect(gone.err).toContain('No installed model bundle is called "er-fp16"');
  });

  it('download: progress on stderr, installed on success; a wrong checksum exits 3 and installs nothing', async () => {
    const dir = await writeBundle(path.join(ts.root, 'src'), { id: 'rr', variant: 'rrsis-d', files: { 'llm.onnx.data': bytes(200_000, 8) } });
    const archive = await readFile(await packBundle(dir, path.join(ts.root, 'rr.tar.gz')));
    server = await serveFile(archive);
    const wrong = await cli('download', server.url, '--sha256', sha256('nope'));
    expect(wrong.code).toBe(3);
    expect(wrong.err).toContain('expected');
    expect((await cli('list', '--json')).out).toContain('"models": []');
    const r = await cli('download', server.url, '--sha256', sha256(archive), '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ id: 'rr', variant: 'rrsis-d', verify: { state: 'verified' } });
    expect(r.err).toMatch(/download: .* \(100%\)/);
    expect(r.err).toContain('hash:');
    expect((await cli('download', server.url)).code).toBe(2); // --sha256 is required
  });

  it('devices lists every execution provider, says which ones work and which one auto uses', async () => {
    const r = await cli('devices', '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as { auto: string; providers: { provider: string; works: boolean; reason?: string }[] };
    expect(report.providers.map((p) => p.provider)).toEqual(['cuda', 'webgpu', 'dml', 'coreml', 'cpu']);
    expect(report.providers.find((p) => p.provider === 'cpu')?.works).toBe(true);
    expect(report.providers.find((p) => p.provider === report.auto)?.works).toBe(true);
    for (const p of report.providers) if (!p.works) expect(p.reason).toBeTruthy();
    if (process.platform !== 'win32') expect(report.providers.find((p) => p.provider === 'dml')?.reason).toBe(`not available on ${process.platform}.`);
    const table = await cli('devices');
    expect(table.out.split('\n')[0]).toBe('PROVIDER  WORKS  NOTE');
    expect(table.out).toMatch(/used by --ep auto/);
  });
});
