/**
 * @module bench/batch
 * Batch throughput and memory (issue 6): scenes per minute and peak RSS for a folder of synthetic 4096² RGB
 * scenes processed tiled at full resolution with the tiny test bundle — the model is nearly free there, so the
 * numbers are our overhead (reading, letterboxing, stitching the probability GeoTIFF, vectorizing, writing,
 * journaling). The peer in the same run is the sum of the graph times the runtime reports: overhead =
 * wall time − graph time. `--model <dir>` runs the same on another bundle (e.g. the full-size random-weight bundle
 * made by `python3 -m tools.export.tiny_bundle --preset full`), usually with `--scenes 1`.
 *
 * Run: `node --import tsx bench/batch.bench.ts [--scenes 8] [--size 4096] [--model models/tiny-test] [--threads N]`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import gdal from 'gdal-async';
import { configureGdalEnvironment } from '../src/geo/env.js';
import { runBatch, type BatchEvent } from '../src/inference/batch/runBatch.js';
import { workerSceneProcessor } from '../src/inference/batch/workerProcessor.js';
import { InferenceRuntime } from '../src/inference/runtime/runtime.js';
import { planTiles } from '../src/inference/scene/tiling.js';

export interface BatchBenchRow {
  model: string;
  scenes: number;
  size: number;
  seconds: number;
  scenesPerMinute: number;
  graphSeconds: number;
  /** The graph time split by graph (image, LLM, head), seconds. */
  graphs: { image: number; llm: number; head: number };
  /**
   * Wall seconds per scene stage, all scenes together, from the progress events: `tiles` (reading, the graphs,
   * blending), `stitching` (the last strip of the probability GeoTIFF), `vectorizing+` (polygons, mean
   * probability, per-scene outputs, the merged GeoPackage append: everything from "vectorizing" to the item's end).
   */
  stages: Record<string, number>;
  tilesPerScene: number;
  overheadSeconds: number;
  peakRssMiB: number;
  done: number;
  failed: number;
  polygons: number;
}

function makeScene(file: string, size: number, seed: number): void {
  if (fs.existsSync(file)) return;
  const ds = gdal.open(file, 'w', 'GTiff', size, size, 3, gdal.GDT_Byte, ['TILED=YES', 'COMPRESS=DEFLATE']);
  ds.srs = gdal.SpatialReference.fromEPSG(32633);
  ds.geoTransform = [400000 + seed * size, 0.5, 0, 5000000, 0, -0.5];
  const row = new Uint8Array(size * 256);
  for (let b = 1; b <= 3; b++) {
    const band = ds.bands.get(b);
    for (let y0 = 0; y0 < size; y0 += 256) {
      for (let y = 0; y < 256; y++) {
        for (let x = 0; x < size; x++) {
          const gy = y0 + y;
          row[y * size + x] = (((x >> 5) ^ (gy >> 5)) * 37 + b * 61 + seed * 13 + ((x * gy) >> 9)) & 255;
        }
      }
      band.pixels.write(0, y0, size, 256, row);
    }
  }
  ds.close();
}

export async function run(opts: { scenes?: number; size?: number; model?: string; threads?: number } = {}): Promise<BatchBenchRow> {
  configureGdalEnvironment();
  const scenes = opts.scenes ?? 8;
  const size = opts.size ?? 4096;
  const modelDir = path.resolve(opts.model ?? 'models/tiny-test');
  const cache = path.join(os.tmpdir(), `segearth-bench-batch-${size}`);
  fs.mkdirSync(cache, { recursive: true });
  const input = fs.mkdtempSync(path.join(os.tmpdir(), 'segearth-bench-batch-in-'));
  for (let i = 0; i < scenes; i++) {
    const cached = path.join(cache, `scene_${i}.tif`);
    makeScene(cached, size, i);
    fs.symlinkSync(cached, path.join(input, `scene_${i}.tif`));
  }
  const output = fs.mkdtempSync(path.join(os.tmpdir(), 'segearth-bench-batch-out-'));
  fs.rmSync(output, { recursive: true });
  const runtime = await InferenceRuntime.open(modelDir, opts.threads ? { threads: { intraOp: opts.threads } } : {});
  const stages: Record<string, number> = {};
  const tilesPerScene = planTiles(size, size, runtime.model.inputSize).tiles.length;
  let current: { stage: string; at: number } | null = null;
  const close = (now: number): void => {
    if (current) stages[current.stage] = (stages[current.stage] ?? 0) + (now - current.at) / 1000;
  };
  const onEvent = (event: BatchEvent): void => {
    const now = performance.now();
    if (event.type === 'item-start') {
      current = { stage: 'start', at: now };
    } else if (event.type === 'item-progress') {
      const stage = event.stage === 'vectorizing' ? 'vectorizing+' : event.stage;
      if (current?.stage !== stage) {
        close(now);
        current = { stage, at: now };
      }
    } else if (event.type === 'item-end') {
      close(now);
      current = null;
    }
  };
  try {
    const t0 = performance.now();
    const summary = await runBatch({
      inputFolder: input,
      outputFolder: output,
      options: {
        questions: ['where could flood water spread?'],
        model: runtime.model.id,
        strategy: 'tiled',
        formats: ['gpkg'],
        merged: true,
        threshold: 0.5,
        minAreaM2: 0,
        include: [],
        exclude: [],
      },
      processor: workerSceneProcessor(runtime, 'tiled'),
      onEvent,
    });
    const seconds = (performance.now() - t0) / 1000;
    const stats = await runtime.stats();
    const graphSeconds = (stats.image.ms + stats.llm.ms + stats.head.ms) / 1000;
    return {
      model: runtime.model.id,
      scenes,
      size,
      seconds,
      scenesPerMinute: (scenes / seconds) * 60,
      graphSeconds,
      graphs: { image: stats.image.ms / 1000, llm: stats.llm.ms / 1000, head: stats.head.ms / 1000 },
      stages,
      tilesPerScene,
      overheadSeconds: seconds - graphSeconds,
      // maxRSS covers the whole process, the inference worker thread included (KiB on Linux).
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      done: summary.totals.done,
      failed: summary.totals.failed,
      polygons: summary.totals.polygons,
    };
  } finally {
    await runtime.dispose();
    fs.rmSync(input, { recursive: true, force: true });
    fs.rmSync(output, { recursive: true, force: true });
  }
}

export function formatTable(rows: BatchBenchRow[]): string {
  const head = '| model | scenes | size | done / failed | polygons | seconds | scenes/min | graph s | overhead s | peak RSS MiB |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
  return `${head}\n${rows
    .map((r) => `| ${r.model} | ${r.scenes} | ${r.size}² | ${r.done} / ${r.failed} | ${r.polygons} | ${r.seconds.toFixed(1)} | ${r.scenesPerMinute.toFixed(2)} | ${r.graphSeconds.toFixed(1)} | ${r.overheadSeconds.toFixed(1)} | ${r.peakRssMiB.toFixed(0)} |`)
    .join('\n')}`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const num = (name: string): number | undefined => (arg(name) === undefined ? undefined : Number(arg(name)));
  const row = await run({
    ...(num('--scenes') !== undefined ? { scenes: num('--scenes')! } : {}),
    ...(num('--size') !== undefined ? { size: num('--size')! } : {}),
    ...(num('--threads') !== undefined ? { threads: num('--threads')! } : {}),
    ...(arg('--model') !== undefined ? { model: arg('--model')! } : {}),
  });
  console.log(`batch benchmark; ${os.cpus().length} CPU(s), node ${process.version}`);
  console.log(formatTable([row]));
  const stageText = Object.entries(row.stages).map(([stage, s]) => `${stage} ${s.toFixed(1)} s`).join(', ');
  console.log(`tiles per scene ${row.tilesPerScene}; graphs: image ${row.graphs.image.toFixed(1)} s, LLM ${row.graphs.llm.toFixed(1)} s, head ${row.graphs.head.toFixed(1)} s; stages (all scenes): ${stageText}`);
  console.log(JSON.stringify(row));
}
