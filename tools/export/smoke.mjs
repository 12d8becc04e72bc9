// @module tools/export/smoke
// Smoke test of a bundle's graphs under onnxruntime-node: loads image/llm/head with the given execution
// provider, checks session I/O names against the manifest, runs each once (random image, the stored prefix
// cache + 8 tokens, a 5-row description) and prints timings, output shapes and whether outputs are finite.
// Usage: node tools/export/smoke.mjs <bundle-dir> [cpu|webgpu|cuda] [threads]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';

const [, , dir, ep = 'cpu', threads = '2'] = process.argv;
if (!dir) {
  process.stderr.write('usage: node tools/export/smoke.mjs <bundle-dir> [cpu|webgpu|cuda] [threads]\n');
  process.exit(2);
}
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
const a = manifest.architecture;
const opts = { executionProviders: [ep], intraOpNumThreads: Number(threads) };
const kv = (p, i) => p.replace('{i}', String(i));

function rand(n, scale = 1) {
  const out = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

function summary(name, t) {
  const d = t.data;
  let finite = true;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) { finite = false; break; }
  return `${name} [${t.dims.join(',')}]${finite ? '' : ' NOT FINITE'}`;
}

async function open(graph) {
  const spec = manifest.graphs[graph];
  const t0 = performance.now();
  const s = await ort.InferenceSession.create(join(dir, spec.file), opts);
  const want = spec.inputs.map((i) => i.name).join(',');
  if (s.inputNames.join(',') !== want) throw new Error(`${graph}: inputs ${s.inputNames} != manifest ${want}`);
  const wantOut = spec.outputs.map((o) => o.name).join(',');
  if (s.outputNames.join(',') !== wantOut) throw new Error(`${graph}: outputs ${s.outputNames} != manifest ${wantOut}`);
  console.log(`${graph}: session created in ${((performance.now() - t0) / 1000).toFixed(1)} s (${ep})`);
  return s;
}

async function timed(label, fn) {
  const t0 = performance.now();
  const r = await fn();
  console.log(`${label}: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  return r;
}

const size = manifest.image.size;
const image = await open('image');
const img = await timed('image run', () =>
  image.run({ pixel_values: new ort.Tensor('float32', rand(3 * size * size, 2), [1, 3, size, size]) }));
console.log('  ' + Object.entries(img).map(([k, v]) => summary(k, v)).join('\n  '));

const llm = await open('llm');
const P = manifest.prefixCache.length;
const T = 8;
const feeds = {
  inputs_embeds: new ort.Tensor('float32', rand(T * a.hiddenSize, 0.5), [1, T, a.hiddenSize]),
  position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: T }, (_, i) => BigInt(P + i)), [1, T]),
};
const per = a.numKeyValueHeads * P * a.headDim;
for (let i = 0; i < a.numLayers; i++) {
  feeds[kv(manifest.kvCache.pastKey, i)] = new ort.Tensor('float32', rand(per, 0.5), [1, a.numKeyValueHeads, P, a.headDim]);
  feeds[kv(manifest.kvCache.pastValue, i)] = new ort.Tensor('float32', rand(per, 0.5), [1, a.numKeyValueHeads, P, a.headDim]);
}
const out = await timed(`llm run (past ${P}, ${T} new tokens)`, () => llm.run(feeds));
console.log('  ' + summary('last_hidden_state', out.last_hidden_state) + '\n  ' + summary('present.0.key', out[kv(manifest.kvCache.presentKey, 0)]));

const head = await open('head');
const L = 5;
const h = await timed('head run', () =>
  head.run({
    refer_hidden: new ort.Tensor('float32', rand(L * a.hiddenSize), [1, L, a.hiddenSize]),
    res5: img.res5, mask_features: img.mask_features, ms0: img.ms0, ms1: img.ms1, ms2: img.ms2,
  }));
console.log('  ' + Object.entries(h).map(([k, v]) => summary(k, v)).join('\n  '));
await Promise.all([image.release(), llm.release(), head.release()]);
console.log('smoke ok');
