/**
 * @module bench/convert.bench
 * `npm run bench:convert [-- --preset full|tiny] [--profile fp32|cpu|fp16] [--dtype BF16|F32] [--skip-python] [--keep]`
 * — not a test.
 * Converts one checkpoint folder into a bundle twice, with the TypeScript converter (`segearth models
 * convert`) and with the Python exporter (`python3 -m tools.export`), each in its own process under
 * `/usr/bin/time -v`, and prints wall time and peak RSS side by side (plus whether their weight files agree).
 *
 * The checkpoint is made once and cached in `.cache/bench-convert/<preset>-<dtype>/`: random weights in the
 * released layout — every tensor the shipped fp32 graph template expects (Swin-B, Phi-1.5 with 24 layers, the
 * head), the Swin relative position indices and an `lm_head`, as sharded safetensors (≤ 2 GB per shard) with
 * `model.safetensors.index.json`, a llava_phi config.json and a tokenizer.json with [SEG]. BF16 by default
 * (what training in bf16 saves; F32 doubles the shards). `--preset tiny` uses the fixture sizes and a
 * template written by the Python exporter (seconds; to check the benchmark itself).
 *
 * The Python side needs ~16 GB of RAM at full size: it is skipped, with a message, when less is available.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { ManifestSchema } from '../src/inference/bundle/manifest.js';
import { readGraphTemplate, shippedTemplatesDir } from '../src/inference/conversion/graphTemplate.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1]! : fallback;
};
const preset = opt('--preset', 'full');
const dtype = opt('--dtype', 'BF16') as 'BF16' | 'F32';
const profile = opt('--profile', 'fp32') as 'fp32' | 'cpu' | 'fp16';
/** The Python exporter's options of each profile (tools/export/template.py PROFILES). */
const PY_PROFILE = { fp32: [], cpu: ['--image-weights', 'int8', '--llm-weights', 'int8'], fp16: ['--precision', 'fp16'] }[profile];
const skipPython = args.includes('--skip-python');
const python = process.env.SEGEARTH_PYTHON ?? '/usr/bin/python3';
const root = resolve('.cache/bench-convert');
const ckpt = join(root, `${preset}-${dtype}`, 'SegEarth-R1-EarthReason');
const SHARD_BYTES = 2 * 1024 ** 3;
const gb = (n: number): string => (n / 1024 ** 3).toFixed(2);

/** A template for the preset: the shipped fp32 one, or (tiny) one written by the Python exporter. */
async function templateDir(): Promise<string> {
  if (preset === 'full') return join(shippedTemplatesDir(), profile);
  const dir = join(root, `tiny-template-${profile}`);
  if (!existsSync(join(dir, 'template.json'))) {
    run(python, ['-m', 'tools.export.template', '-o', dir, '--profile', profile, '--model-config', 'models/tiny-test/config.json', '--threads', '1']);
  }
  return dir;
}

function run(cmd: string, argv: string[]): void {
  const r = spawnSync(cmd, argv, { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status})`);
}

/** Deterministic pseudo-random floats in [-1, 1) (xorshift32). */
function randomFloats(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = (x >>> 0) / 2 ** 31 - 1;
  }
  return out;
}

function tensorBytes(key: string, shape: number[], seed: number): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const r = randomFloats(n, seed);
  const norm = /norm/.test(key) && key.endsWith('.weight');
  const scale = key.endsWith('.bias') ? 0.02 : norm ? 0.05 : 1 / Math.sqrt(shape[shape.length - 1] ?? 1);
  for (let i = 0; i < n; i++) r[i] = (norm ? 1 : 0) + scale * r[i]!;
  if (dtype === 'F32') return new Uint8Array(r.buffer);
  const bits = new Uint32Array(r.buffer);
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) out[i] = bits[i]! >>> 16;
  return new Uint8Array(out.buffer);
}

/** The Swin relative position index of a window (tools/export/swin.py WindowAttention._index), int64. */
function relativePositionIndex(w: number): Uint8Array {
  const n = w * w;
  const out = new BigInt64Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      const dy = Math.floor(a / w) - Math.floor(b / w) + w - 1;
      const dx = (a % w) - (b % w) + w - 1;
      out[a * n + b] = BigInt(dy * (2 * w - 1) + dx);
    }
  }
  return new Uint8Array(out.buffer);
}

async function makeCheckpoint(): Promise<void> {
  if (existsSync(join(ckpt, 'config.json'))) return;
  const t = (await readGraphTemplate(await templateDir())).json;
  const tmp = `${ckpt}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  const phi = t.config.phi;
  const tensors: { key: string; dtype: string; shape: number[]; bytes: () => Uint8Array }[] = t.checkpoint.tensors.map((x, i) => ({
    key: x.key, dtype, shape: x.shape, bytes: () => tensorBytes(x.key, x.shape, i + 1),
  }));
  const window = (t.config as { swin?: { window_size?: number } }).swin?.window_size ?? 12;
  const index = relativePositionIndex(window);
  if (createHash('sha256').update(index).digest('hex') !== t.checkpoint.relativePositionIndex.sha256) throw new Error('relative position index differs from the template');
  for (const x of t.checkpoint.tensors.filter((x) => x.key.endsWith('.attn.relative_position_bias_table'))) {
    tensors.push({ key: x.key.replace(/relative_position_bias_table$/, 'relative_position_index'), dtype: 'I64', shape: [window * window, window * window], bytes: () => index });
  }
  tensors.push({ key: 'lm_head.weight', dtype, shape: [phi.vocab_size, phi.hidden_size], bytes: () => tensorBytes('lm_head.weight', [phi.vocab_size, phi.hidden_size], 99) });
  // shards of at most SHARD_BYTES, in this order
  const elem = (d: string): number => (d === 'F32' ? 4 : d === 'I64' ? 8 : 2);
  const size = (x: (typeof tensors)[number]): number => x.shape.reduce((a, b) => a * b, 1) * elem(x.dtype);
  const shards: (typeof tensors)[] = [[]];
  let used = 0;
  for (const x of tensors) {
    if (used + size(x) > SHARD_BYTES && shards[shards.length - 1]!.length > 0) {
      shards.push([]);
      used = 0;
    }
    shards[shards.length - 1]!.push(x);
    used += size(x);
  }
  const weightMap: Record<string, string> = {};
  for (const [i, list] of shards.entries()) {
    const name = `model-${String(i + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`;
    const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
    let off = 0;
    for (const x of list) {
      header[x.key] = { dtype: x.dtype, shape: x.shape, data_offsets: [off, off + size(x)] };
      off += size(x);
      weightMap[x.key] = name;
    }
    const json = Buffer.from(JSON.stringify(header));
    const padded = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 0x20)]);
    const fh = await open(join(tmp, name), 'w');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(padded.length));
    await fh.write(len);
    await fh.write(padded);
    for (const x of list) await fh.write(x.bytes());
    await fh.close();
    console.error(`wrote ${name} (${gb(8 + padded.length + off)} GB)`);
  }
  await writeFile(join(tmp, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }, null, 2));
  await writeFile(join(tmp, 'config.json'), JSON.stringify({
    model_type: 'llava_phi', architectures: ['LlavaPhiForCausalLM'], torch_dtype: dtype === 'BF16' ? 'bfloat16' : 'float32',
    hidden_size: phi.hidden_size, num_hidden_layers: phi.num_layers, num_attention_heads: phi.num_heads,
    num_key_value_heads: phi.num_kv_heads, intermediate_size: phi.intermediate_size, vocab_size: phi.vocab_size,
    partial_rotary_factor: phi.partial_rotary_factor, rope_theta: phi.rope_theta, layer_norm_eps: phi.layer_norm_eps,
    max_position_embeddings: phi.max_positions,
  }, null, 2));
  // the tiny test tokenizer (with [SEG]); its ids are valid rows of any larger table
  await writeFile(join(tmp, 'tokenizer.json'), await readFile('models/tiny-test/tokenizer.json'));
  await rm(ckpt, { recursive: true, force: true });
  await rename(tmp, ckpt);
}

interface Measured { wallS: number; peakRssGb: number; ok: boolean; note: string; stages: Map<string, number> }

/**
 * Runs `argv` under /usr/bin/time -v: wall time and peak RSS (the process's maximum resident set); while it
 * runs, VmRSS is sampled every 100 ms from /proc and attributed to the stage last printed on stderr
 * (`weights: …`, `prefix-cache…`), giving the peak of each stage.
 */
async function timed(label: string, argv: string[]): Promise<Measured> {
  console.error(`\n== ${label}: ${argv.join(' ')}`);
  const child = spawn('/usr/bin/time', ['-v', ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  let stage = 'start';
  const stages = new Map<string, number>();
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    const m = /(?:^|\n)([a-z-]+)(?::|…)[^\n]*\n$/.exec(err);
    if (m) stage = m[1]!;
  });
  const timer = setInterval(() => {
    void (async () => {
      // the measured process is /usr/bin/time's child
      const kids = await readFile(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').catch(() => '');
      const pid = kids.trim().split(/\s+/)[0];
      const status = pid ? await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '') : '';
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      stages.set(stage, Math.max(stages.get(stage) ?? 0, kb * 1024));
    })();
  }, 100);
  const code = await new Promise<number | null>((res) => child.on('exit', res));
  clearInterval(timer);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)/.exec(err)?.[1] ?? '0';
  const wallS = wall.split(':').map(Number).reduce((a, b) => a * 60 + b, 0);
  const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(err)?.[1] ?? 0) * 1024;
  if (code !== 0) console.error(err.slice(-3000));
  return { wallS, peakRssGb: rss / 1024 ** 3, ok: code === 0, note: code === 0 ? '' : `exit ${code}`, stages };
}

async function sameWeights(a: string, b: string): Promise<string> {
  const [ma, mb] = await Promise.all([a, b].map(async (d) => ManifestSchema.parse(JSON.parse(await readFile(join(d, 'manifest.json'), 'utf8')))));
  const files = ['image.onnx', 'image.onnx.data', 'llm.onnx', 'llm.onnx.data', 'head.onnx', 'head.onnx.data', 'embed_tokens.bin', 'weights.json'];
  const sha = (m: typeof ma, f: string): string | undefined => m!.files.find((x) => x.path === f)?.sha256;
  const differ = files.filter((f) => sha(ma, f) !== sha(mb, f));
  return differ.length === 0 ? 'graphs and weight files identical (sha256)' : `differ: ${differ.join(', ')}`;
}

await makeCheckpoint();
const ckptBytes = (await Promise.all((await readdir(ckpt)).map((f) => stat(join(ckpt, f))))).reduce((n, s) => n + s.size, 0);
const outTs = join(root, `out-ts-${preset}-${profile}`);
const outPy = join(root, `out-py-${preset}-${profile}`);
await rm(outTs, { recursive: true, force: true });
await rm(outPy, { recursive: true, force: true });
const tpl = await templateDir();
const ts = await timed('TypeScript converter', [process.execPath, 'bin/segearth.js', 'models', 'convert', ckpt, '-o', outTs, '--graphs', tpl]);
const availGb = os.freemem() / 1024 ** 3;
let py: Measured | undefined;
let pyNote = '';
if (skipPython) pyNote = 'skipped (--skip-python)';
else if (preset === 'full' && availGb < 18) pyNote = `skipped: ${availGb.toFixed(1)} GB of RAM free, the Python exporter needs ~16 GB`;
else {
  const cfg = preset === 'tiny' ? ['--model-config', 'models/tiny-test/config.json'] : [];
  py = await timed('Python exporter', [python, '-m', 'tools.export', ckpt, '-o', outPy, '--threads', String(Math.min(2, os.availableParallelism())), ...PY_PROFILE, ...cfg]);
}
const rows = [
  ['converter', 'wall s', 'peak RSS GB', 'note'],
  ['TypeScript (segearth models convert)', ts.wallS.toFixed(0), ts.peakRssGb.toFixed(2), ts.note],
  ['Python (python3 -m tools.export)', py ? py.wallS.toFixed(0) : '—', py ? py.peakRssGb.toFixed(2) : '—', py ? py.note : pyNote],
];
console.log(`\ncheckpoint: ${preset}, ${dtype}, profile ${profile}, ${gb(ckptBytes)} GB in ${ckpt}; ${os.availableParallelism()} cores, load ${os.loadavg()[0]!.toFixed(1)}`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
const perStage = (m: Measured): string => [...m.stages].filter(([k]) => k !== 'start').map(([k, v]) => `${k} ${gb(v)}`).join(', ');
console.log(`TypeScript peak RSS by stage (GB, sampled): ${perStage(ts)}`);
if (ts.ok && py?.ok) console.log(`outputs: ${await sameWeights(outTs, outPy)}`);
if (!args.includes('--keep')) {
  await rm(outTs, { recursive: true, force: true });
  await rm(outPy, { recursive: true, force: true });
}
