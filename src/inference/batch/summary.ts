/**
 * @module inference/batch/summary
 * `summary.json` and `summary.csv` at the end of a batch: one row per (scene, question) with its status, time,
 * polygon count, total area and error, so an analyst can sort a season of scenes in a spreadsheet and see at
 * once which files need attention.
 *
 * Text cells of summary.csv that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab or
 * a carriage return: a scene named `=HYPERLINK(…).tif`, a question typed as `-2+3`) are written with a leading
 * `'`, as OWASP advises against CSV injection; summary.json keeps the exact text.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomically } from '../../geo/atomicWrite.js';
import type { JournalRecord } from './journal.js';

export interface SummaryRow {
  scene: string;
  question: string;
  status: 'done' | 'failed' | 'pending';
  seconds: number | null;
  polygons: number | null;
  totalAreaM2: number | null;
  error: string | null;
  /** e.g. "no coordinate reference system: …" for a finished item that needs the analyst's attention. */
  note: string | null;
}

export interface BatchSummary {
  inputFolder: string;
  questions: string[];
  shard: string | null;
  totals: { items: number; done: number; failed: number; pending: number; polygons: number; totalAreaM2: number };
  rows: SummaryRow[];
}

export function summarize(
  inputFolder: string,
  questions: readonly string[],
  scenes: readonly string[],
  records: ReadonlyMap<string, JournalRecord>,
  key: (scene: string, question: number) => string,
  shard: string | null,
): BatchSummary {
  const rows: SummaryRow[] = [];
  for (let q = 0; q < questions.length; q++) {
    for (const scene of scenes) {
      const rec = records.get(key(scene, q));
      const status = rec?.state === 'done' || rec?.state === 'failed' ? rec.state : 'pending';
      rows.push({
        scene,
        question: questions[q] ?? '',
        status,
        seconds: rec?.seconds ?? null,
        polygons: status === 'done' ? (rec?.polygons ?? 0) : null,
        totalAreaM2: status === 'done' ? (rec?.totalAreaM2 ?? 0) : null,
        error: status === 'failed' && rec?.error ? (rec.error.hint ? `${rec.error.message} ${rec.error.hint}` : rec.error.message) : null,
        note: status === 'done' ? (rec?.note ?? null) : null,
      });
    }
  }
  const done = rows.filter((r) => r.status === 'done');
  return {
    inputFolder,
    questions: [...questions],
    shard,
    totals: {
      items: rows.length,
      done: done.length,
      failed: rows.filter((r) => r.status === 'failed').length,
      pending: rows.filter((r) => r.status === 'pending').length,
      polygons: done.reduce((s, r) => s + (r.polygons ?? 0), 0),
      totalAreaM2: done.reduce((s, r) => s + (r.totalAreaM2 ?? 0), 0),
    },
    rows,
  };
}

/** A CSV cell; text that a spreadsheet would evaluate as a formula gets a leading `'`. */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = typeof value === 'string' && /^[=+\-@\t\r]/.test(value) ? `'${value}` : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function summaryCsv(summary: BatchSummary): string {
  const header = ['scene', 'question', 'status', 'seconds', 'polygons', 'total_area_m2', 'error', 'note'];
  const lines = summary.rows.map((r) =>
    [r.scene, r.question, r.status, r.seconds === null ? null : r.seconds.toFixed(3), r.polygons,
      r.totalAreaM2 === null ? null : r.totalAreaM2.toFixed(2), r.error, r.note].map(csvField).join(','),
  );
  return [header.join(','), ...lines].join('\n') + '\n';
}

/** `summary` for a whole batch; `summary.shard-<i>-of-<n>` for one shard (shards may share an output folder). */
export function summaryBaseName(shard: { index: number; count: number } | null): string {
  return shard ? `summary.shard-${shard.index}-of-${shard.count}` : 'summary';
}

export async function writeSummary(
  outputFolder: string,
  summary: BatchSummary,
  shard: { index: number; count: number } | null = null,
): Promise<string[]> {
  const json = join(outputFolder, `${summaryBaseName(shard)}.json`);
  const csv = join(outputFolder, `${summaryBaseName(shard)}.csv`);
  await writeAtomically(json, { overwrite: true }, (tmp) => writeFile(tmp, JSON.stringify(summary, null, 2) + '\n'));
  await writeAtomically(csv, { overwrite: true }, (tmp) => writeFile(tmp, summaryCsv(summary)));
  return [json, csv];
}
