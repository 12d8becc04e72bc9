/**
 * The graph templates shipped with the app (models/graph-templates/<profile>/, written by
 * `npm run make:graph-templates` = `python3 -m tools.export.template --all`): each is intact (sha256 of its
 * files), describes the released architecture with the profile's precisions, gives a plausible bundle size for
 * the downloader's free-space check, is not listed as a model bundle, and was written by the current exporter
 * sources (stamp.json). Regenerating them byte for byte takes ~12 min and ~10 GB of RAM per profile on 2 cores,
 * so it runs only with SEGEARTH_REGEN_TEMPLATES=1.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { estimateBundleBytes } from '../../src/inference/conversion/convertCheckpoint.js';
import { CONVERSION_PRECISIONS, readGraphTemplate, shippedTemplatesDir } from '../../src/inference/conversion/graphTemplate.js';
import { resolveModelLocations } from '../../src/inference/models/locations.js';
import { ModelStore } from '../../src/inference/models/ModelStore.js';
import { python } from '../support/parityFixtures.js';
import { REPO_ROOT } from '../support/tinyBundle.js';

const DIR = join(REPO_ROOT, 'models', 'graph-templates');
const GRAPH_PRECISIONS = {
  fp32: { image: 'fp32', llm: 'fp32', head: 'fp32' },
  cpu: { image: 'int8-dynamic', llm: 'int8-weight-only', head: 'fp32' },
  fp16: { image: 'fp16', llm: 'fp16', head: 'fp16' },
} as const;

describe('shipped graph templates', () => {
  it('are found where the app looks for shipped models', () => {
    expect(shippedTemplatesDir({})).toBe(DIR);
    expect(shippedTemplatesDir({ SEGEARTH_SHIPPED_MODELS_DIR: '/opt/segearth/models' })).toBe('/opt/segearth/models/graph-templates');
  });

  it.each(CONVERSION_PRECISIONS)('%s: intact, the released architecture, the profile’s precisions, a plausible size', async (profile) => {
    const t = await readGraphTemplate(join(DIR, profile), { verify: true });
    expect(t.json.profile).toBe(profile);
    const a = t.json.manifest.architecture;
    expect([a.hiddenSize, a.numLayers, a.numHeads, a.headDim, a.imageTokens, a.maskSize]).toEqual([2048, 24, 32, 64, 64, 256]);
    expect(t.json.config.phi.intermediate_size).toBe(8192);
    const g = t.json.manifest.graphs;
    expect({ image: g.image.precision, llm: g.llm.precision, head: g.head.precision }).toEqual(GRAPH_PRECISIONS[profile]);
    expect(g.llm.accuracyLevel).toBe(profile === 'cpu' ? 4 : undefined);
    expect(t.weightMap.unused).toEqual([]);
    // every weight-map key is a tensor the template asks the checkpoint for (Swin-B: 24 blocks; Phi: 24 layers)
    const keys = new Set(t.json.checkpoint.tensors.map((x) => x.key));
    expect(t.weightMap.entries.every((e) => keys.has(e.key))).toBe(true);
    expect([...keys].filter((k) => /^model\.layers\.\d+\.self_attn\.q_proj\.weight$/.test(k))).toHaveLength(24);
    expect([...keys].filter((k) => k.endsWith('.attn.relative_position_bias_table'))).toHaveLength(24);
    // docs/MODEL_BUNDLE.md "Precision": ≈ 5.9 GB (fp32), ≈ 3.0 GB (fp16); cpu = int8 llm (≈ 2.5 GB) with int8 image Linears
    const bytes = await estimateBundleBytes({ precision: profile });
    const gb = bytes / 1e9;
    console.log(`[graphTemplates] ${profile}: estimated bundle ${gb.toFixed(2)} GB`);
    expect(gb).toBeGreaterThan({ fp32: 5.6, cpu: 1.8, fp16: 2.8 }[profile]);
    expect(gb).toBeLessThan({ fp32: 6.3, cpu: 2.6, fp16: 3.3 }[profile]);
  });

  it('are not listed as model bundles', async () => {
    const store = new ModelStore({ locations: resolveModelLocations({ env: { SEGEARTH_MODELS_DIR: join(tmpdir(), 'segearth-none'), SEGEARTH_DATA_DIR: join(tmpdir(), 'segearth-none-data') }, shippedDir: join(REPO_ROOT, 'models') }) });
    const listing = await store.list();
    expect(listing.models.map((m) => m.dir).filter((d) => d.includes('graph-templates'))).toEqual([]);
    expect(listing.broken.map((b) => b.dir).filter((d) => d.includes('graph-templates'))).toEqual([]);
  });

  it('were written by the current exporter sources (else: npm run make:graph-templates)', async () => {
    const stamp = JSON.parse(await readFile(join(DIR, 'stamp.json'), 'utf8')) as { sources: Record<string, string>; ignored: string[] };
    const here = join(REPO_ROOT, 'tools', 'export');
    const py = (await readdir(here)).filter((f) => f.endsWith('.py')).sort();
    expect(py.filter((f) => !stamp.ignored.includes(f))).toEqual(Object.keys(stamp.sources).sort());
    for (const [f, sha] of Object.entries(stamp.sources)) {
      const now = createHash('sha256').update(await readFile(join(here, f))).digest('hex');
      expect(now, `tools/export/${f} changed since the templates were written: run npm run make:graph-templates`).toBe(sha);
    }
  });

  it.skipIf(process.env.SEGEARTH_REGEN_TEMPLATES !== '1')('regenerate byte for byte (SEGEARTH_REGEN_TEMPLATES=1; ~12 min per profile)', async () => {
    const out = await mkdtemp(join(tmpdir(), 'segearth-templates-'));
    try {
      await python(['-m', 'tools.export.template', '--all', '-o', out]);
      for (const profile of CONVERSION_PRECISIONS) {
        for (const f of await readdir(join(DIR, profile))) {
          const [a, b] = await Promise.all([readFile(join(DIR, profile, f)), readFile(join(out, profile, f))]);
          expect(b.equals(a), `${profile}/${f}`).toBe(true);
        }
      }
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 3_600_000);
  if (process.env.SEGEARTH_REGEN_TEMPLATES !== '1') console.warn('[graphTemplates] byte-for-byte regeneration skipped: set SEGEARTH_REGEN_TEMPLATES=1 (~12 min and ~10 GB RAM per profile)');
});
