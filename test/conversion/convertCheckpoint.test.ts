/**
 * The TypeScript checkpoint converter (`src/inference/conversion`) against the Python exporter: a checkpoint
 * folder made from the official-key fixtures (test/support/checkpointFolder.ts: two shards + index, config.json,
 * vocab/merges/added tokens) is exported by Python (the reference) and converted by TypeScript from a graph
 * template written by Python at the fixtures' sizes — once as `--graphs-only` of the checkpoint (fp32), once
 * by `tools.export.template` without a checkpoint (cpu: int8 image + int8 llm). Graphs, weights.json and weight
 * files must be byte-identical, the tokenizer must encode alike, the prefix cache must agree with PyTorch's
 * within float32 rounding, and the converted bundle must give the official fixture's mask logits through its
 * graphs and the Python bundle's answer through the runtime. Skips with a printed reason without ../shared or
 * Debian's python3 with torch.
 */
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManifestSchema, type Manifest } from '../../src/inference/bundle/manifest.js';
import { SafetensorsFile, encodeSafetensors } from '../../src/inference/bundle/safetensors.js';
import { convertCheckpoint, estimateBundleBytes } from '../../src/inference/conversion/convertCheckpoint.js';
import { resolveModelLocations } from '../../src/inference/models/locations.js';
import { ModelStore } from '../../src/inference/models/ModelStore.js';
import { SegEarthModel } from '../../src/inference/sessions/model.js';
import { maskIou, maxAbsDiff, runBundle, type Fixtures } from '../export/precisionCost.js';
import { writeFixtureCheckpoint } from '../support/checkpointFolder.js';
import { OFFICIAL, PHI, paritySkipReason, python } from '../support/parityFixtures.js';
import { REPO_ROOT, ensureTinyBundle } from '../support/tinyBundle.js';

const reason = paritySkipReason('convertCheckpoint', 'weights.safetensors');
const CPU = ['--image-weights', 'int8', '--llm-weights', 'int8'];
const SAME_BYTES = ['image.onnx', 'image.onnx.data', 'llm.onnx', 'llm.onnx.data', 'head.onnx', 'head.onnx.data', 'embed_tokens.bin', 'weights.json'];

async function manifestOf(dir: string): Promise<Manifest> {
  return ManifestSchema.parse(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
}

/** max |diff| over every tensor of two prefix caches (same names and shapes required). */
async function prefixDiff(a: string, b: string): Promise<number> {
  const [x, y] = await Promise.all([SafetensorsFile.load(join(a, 'prefix_kv.safetensors')), SafetensorsFile.load(join(b, 'prefix_kv.safetensors'))]);
  expect(y.names()).toEqual(x.names());
  let d = 0;
  for (const n of x.names()) {
    expect(y.info(n).shape).toEqual(x.info(n).shape);
    d = Math.max(d, maxAbsDiff(x.float32(n), y.float32(n)));
  }
  return d;
}

describe.skipIf(reason !== undefined)('converting a checkpoint folder in TypeScript (segearth models convert)', () => {
  let work: string;
  let ckpt: string;
  let tiny: string;
  const py = { fp32: '', cpu: '' };
  const tpl = { fp32: '', cpu: '' };
  let original: Tokenizer;
  let fx: Fixtures;

  beforeAll(async () => {
    tiny = await ensureTinyBundle(); // its config.json has the fixtures' sizes
    work = await mkdtemp(join(tmpdir(), 'segearth-convert-'));
    ckpt = join(work, 'SegEarth-R1-EarthReason');
    ({ tokenizer: original } = await writeFixtureCheckpoint(ckpt, tiny));
    for (const k of ['fp32', 'cpu'] as const) [py[k], tpl[k]] = [join(work, `py-${k}`), join(work, `tpl-${k}`)];
    const cfg = ['--model-config', join(tiny, 'config.json'), '--threads', '1'];
    // two lanes of Python: the reference bundles, and the templates (graphs-only of the checkpoint / no checkpoint)
    await Promise.all([
      (async () => {
        await python(['-m', 'tools.export', ckpt, '-o', py.fp32, ...cfg]);
        await python(['-m', 'tools.export', ckpt, '-o', py.cpu, ...CPU, ...cfg]);
      })(),
      (async () => {
        await python(['-m', 'tools.export', ckpt, '-o', tpl.fp32, '--graphs-only', ...cfg]);
        await python(['-m', 'tools.export.template', '-o', tpl.cpu, '--profile', 'cpu', ...cfg]);
      })(),
    ]);
    fx = { official: await SafetensorsFile.load(join(OFFICIAL, 'io.safetensors')), phi: await SafetensorsFile.load(join(PHI, 'io.safetensors')) };
  }, 900_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('fp32: graphs, weights.json and weight files byte-identical to the Python export; tokenizer, prefix cache and masks agree', async () => {
    const out = join(work, 'ts-fp32');
    const stages = new Set<string>();
    const { bundleDir, manifest } = await convertCheckpoint({ checkpointDir: ckpt, templateDir: tpl.fp32, out, onProgress: (p) => stages.add(p.stage) });
    expect(bundleDir).toBe(out);
    expect([...stages]).toEqual(['checking', 'weights', 'tokenizer', 'prefix-cache', 'hashing', 'installing']);
    for (const f of SAME_BYTES) {
      const [a, b] = await Promise.all([readFile(join(py.fp32, f)), readFile(join(out, f))]);
      expect(b.equals(a), f).toBe(true);
    }
    const ref = await manifestOf(py.fp32);
    expect(await manifestOf(out)).toEqual(manifest);
    expect(manifest.id).toBe('ts-fp32');
    expect(manifest.variant).toBe('earthreason');
    expect(manifest.source.checkpoint).toBe('earth-insights/SegEarth-R1-EarthReason');
    expect(manifest.source.files).toEqual(ref.source.files);
    for (const k of ['prompt', 'tokenizer', 'image', 'architecture', 'graphs', 'embeddings', 'kvCache', 'prefixCache'] as const) expect(manifest[k], k).toEqual(ref[k]);
    // the manifest's hashes are the files' (the sample that differs from Python's bundle: tokenizer, cache)
    const bytesOf = new Map(ref.files.map((f) => [f.path, f]));
    for (const f of manifest.files.filter((x) => SAME_BYTES.includes(x.path))) expect(f, f.path).toEqual(bytesOf.get(f.path));

    const rebuilt = new Tokenizer(JSON.parse(await readFile(join(out, 'tokenizer.json'), 'utf8')), {});
    for (const text of [' Where could the planes park?', 'This is an image ', '[SEG]', ' Ünïcödé roofs, 12 m²']) {
      expect(rebuilt.encode(text, { add_special_tokens: false }).ids, text).toEqual(original.encode(text, { add_special_tokens: false }).ids);
    }
    const d = await prefixDiff(py.fp32, out);
    console.log(`[convertCheckpoint] fp32 prefix cache max|diff| vs PyTorch ${d.toExponential(1)}`);
    expect(d).toBeLessThan(1e-4);

    // masks: the converted bundle's image features + the official refer_hidden through its head vs the
    // official mask logits (parity tolerance of test/export/onnxParity.test.ts), and the runtime's answer
    // vs the Python bundle's
    const run = await runBundle(out, fx);
    const official = fx.official.float32('mask_logits_256');
    // fp32 bundles: 1.2e-4 (docs/MODEL_BUNDLE.md "Precision"; the official fixture ran in PyTorch)
    expect(maxAbsDiff(run.officialMask, official)).toBeLessThan(5e-4);
    expect(maskIou(run.officialMask, official)).toBeGreaterThanOrEqual(0.999);
    const answer = async (dir: string): Promise<Float32Array> => {
      const model = await SegEarthModel.load(dir, { ep: 'cpu', threads: { intraOp: 2 } });
      try {
        return await model.ask(await model.encodeView(fx.official.float32('pixel_values')), 'where could flood water spread?');
      } finally {
        await model.dispose();
      }
    };
    const [mine, theirs] = [await answer(out), await answer(py.fp32)];
    expect(maxAbsDiff(mine, theirs)).toBeLessThan(1e-3);
  });

  it('cpu profile (template written without a checkpoint): installed into the model store, weight files byte-identical, prefix cache within int8 tolerance', async () => {
    const models = join(work, 'store');
    const store = new ModelStore({ locations: resolveModelLocations({ env: { SEGEARTH_MODELS_DIR: models, SEGEARTH_DATA_DIR: join(work, 'data') }, shippedDir: null }) });
    const need = await estimateBundleBytes({ templateDir: tpl.cpu });
    const { bundleDir, manifest } = await convertCheckpoint({ checkpointDir: ckpt, templateDir: tpl.cpu, store, variant: 'rrsis-d' });
    expect(manifest.id).toBe('segearth-r1-rrsis-d-cpu');
    expect(bundleDir).toBe(join(models, manifest.id));
    for (const f of SAME_BYTES) {
      const [a, b] = await Promise.all([readFile(join(py.cpu, f)), readFile(join(bundleDir, f))]);
      expect(b.equals(a), f).toBe(true);
    }
    expect(manifest.graphs).toEqual((await manifestOf(py.cpu)).graphs);
    expect(manifest.graphs.llm.precision).toBe('int8-weight-only');
    expect(manifest.graphs.image.precision).toBe('int8-dynamic');
    const listed = (await store.list({ verify: true })).models;
    expect(listed.map((m) => [m.id, m.variant, m.verify.state])).toEqual([[manifest.id, 'rrsis-d', 'verified']]);
    expect(listed[0]!.sizeBytes).toBeLessThan(need);
    // the Python cache emulates MatMulNBits' int8 activations in PyTorch: a float32 rounding can tip an
    // activation to the next int8 step (docs/MODEL_BUNDLE.md: 2.3e-3 between PyTorch's cache and the graph's)
    const rrsisPrompt = manifest.prompt.chunks[2];
    expect(rrsisPrompt?.kind === 'text' && rrsisPrompt.text).toContain('Referring Segmentation');
    const d = await prefixDiff(py.cpu, bundleDir);
    console.log(`[convertCheckpoint] cpu prefix cache max|diff| vs PyTorch ${d.toExponential(1)}`);
    expect(d).toBeLessThan(2e-2); // measured 7.7e-3
    const run = await runBundle(bundleDir, fx);
    expect(maskIou(run.officialMask, fx.official.float32('mask_logits_256'))).toBeGreaterThan(0.97);
    expect(await readdir(join(models, '.staging'))).toEqual([]);
  });

  it('faults: a missing tensor, a wrong shape, a pickle checkpoint, an unknown architecture are clear errors and write nothing', async () => {
    const variant = async (name: string, edit: (dir: string) => Promise<void>): Promise<string> => {
      const dir = join(work, name);
      await cp(ckpt, dir, { recursive: true });
      await edit(dir);
      return dir;
    };
    const convert = (dir: string): Promise<unknown> => convertCheckpoint({ checkpointDir: dir, templateDir: tpl.fp32, out: join(work, `out-${dir.split('/').pop()}`) });
    type Entry = { name: string; dtype: 'F32'; shape: number[]; data: Uint8Array };
    const rewrite = async (dir: string, edit: (tensors: Entry[]) => Entry[]): Promise<void> => {
      const f = join(dir, 'model-00002-of-00002.safetensors');
      const file = await SafetensorsFile.load(f);
      const tensors = file.names().map((name) => ({ name, dtype: 'F32' as const, shape: file.info(name).shape, data: file.raw(name) }));
      await writeFile(f, encodeSafetensors(edit(tensors)));
    };
    const missing = await variant('missing', (d) => rewrite(d, (ts) => ts.filter((t) => t.name !== 'model.layers.1.mlp.fc1.weight')));
    await expect(convert(missing)).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringContaining('model.layers.1.mlp.fc1.weight') });
    const shape = await variant('shape', (d) =>
      rewrite(d, (ts) => ts.map((t) => (t.name === 'model.layers.0.self_attn.dense.weight' ? { ...t, shape: [128, 32] } : t))),
    );
    await expect(convert(shape)).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringMatching(/model\.layers\.0\.self_attn\.dense\.weight has shape \[128, 32\]; the graph template expects \[64, 64\]/) });
    const pickle = await variant('pickle', async (d) => {
      for (const f of await readdir(d)) if (f.endsWith('.safetensors')) await rm(join(d, f));
      await writeFile(join(d, 'pytorch_model.bin'), 'not really a pickle');
    });
    await expect(convert(pickle)).rejects.toMatchObject({ code: 'MODEL_INVALID', hint: expect.stringContaining('python3 -m tools.export') });
    const arch = await variant('arch', async (d) => {
      const cfg = JSON.parse(await readFile(join(d, 'config.json'), 'utf8')) as Record<string, unknown>;
      await writeFile(join(d, 'config.json'), JSON.stringify({ ...cfg, model_type: 'llama', architectures: ['LlamaForCausalLM'] }));
    });
    await expect(convert(arch)).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringContaining('model_type "llama" (LlamaForCausalLM)') });
    const layers = await variant('layers', async (d) => {
      const cfg = JSON.parse(await readFile(join(d, 'config.json'), 'utf8')) as Record<string, unknown>;
      await writeFile(join(d, 'config.json'), JSON.stringify({ ...cfg, num_hidden_layers: 24 }));
    });
    await expect(convert(layers)).rejects.toMatchObject({ message: expect.stringContaining('num_hidden_layers 24'), hint: expect.stringContaining('--graphs-only') });
    expect((await readdir(work)).filter((f) => f.startsWith('out-') || f.startsWith('.out-'))).toEqual([]);
  });

  it('an interrupted conversion installs nothing: SIGKILL of `segearth models convert --install`, an abort; reruns succeed', async () => {
    const models = join(work, 'killed-store');
    const env = { SEGEARTH_MODELS_DIR: models, SEGEARTH_DATA_DIR: join(work, 'killed-data') };
    const store = new ModelStore({ locations: resolveModelLocations({ env, shippedDir: null }) });
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/segearth.js'), 'models', 'convert', ckpt, '--graphs', tpl.fp32, '--install'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    const killed = new Promise<NodeJS.Signals | null>((res) => child.on('exit', (_code, signal) => res(signal)));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('weights:')) child.kill('SIGKILL'); // midway: weights being written, nothing installed yet
    });
    expect(await killed, err).toBe('SIGKILL');
    const staged = await readdir(join(models, '.staging'));
    expect(staged.length).toBe(1); // the killed run's work folder, hidden in .staging …
    const after = await store.list();
    expect(after.models).toEqual([]); // … so nothing is listed, not even as broken
    expect(after.broken).toEqual([]);
    // a dead process's folder is removed by a later run once it is a minute old (geo/tempFolders): age it
    const old = new Date(Date.now() - 120_000);
    await utimes(join(models, '.staging', staged[0]!), old, old);
    const { manifest } = await convertCheckpoint({ checkpointDir: ckpt, templateDir: tpl.fp32, store });
    expect((await store.list()).models.map((m) => m.id)).toEqual([manifest.id]);
    expect(await readdir(join(models, '.staging'))).toEqual([]); // the rerun removed the dead run's folder

    // an abort while the weights are written: CANCELLED, nothing replaced or left behind
    const controller = new AbortController();
    await expect(
      convertCheckpoint({
        checkpointDir: ckpt, templateDir: tpl.fp32, store, replace: true, signal: controller.signal,
        onProgress: (p) => p.stage === 'weights' && controller.abort(),
      }),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
    expect((await store.list({ verify: true })).models.map((m) => [m.id, m.verify.state])).toEqual([[manifest.id, 'verified']]);
    expect(await readdir(join(models, '.staging'))).toEqual([]);
    const out = join(work, 'aborted-out');
    const again = new AbortController();
    await expect(
      convertCheckpoint({ checkpointDir: ckpt, templateDir: tpl.fp32, out, signal: again.signal, onProgress: (p) => p.stage === 'prefix-cache' && again.abort() }),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
    expect((await readdir(work)).filter((f) => f.includes('aborted-out'))).toEqual([]);
  });
});
