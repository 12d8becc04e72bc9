/**
 * @module inference/sessions/embeddings
 * The LLM's token-embedding table (`embed_tokens.bin`, raw little-endian [vocab, hidden], float32 or float16),
 * read row by row from disk: a question needs ~20 rows, so the 400 MB table of the real model never has to be
 * in memory.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { SegEarthError } from '../../shared/errors.js';
import type { Manifest } from '../bundle/manifest.js';

/** IEEE 754 half → float. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

export class EmbeddingTable {
  private constructor(
    private readonly fh: FileHandle,
    readonly vocab: number,
    readonly hidden: number,
    private readonly dtype: 'float32' | 'float16',
  ) {}

  static async open(bundleDir: string, manifest: Manifest): Promise<EmbeddingTable> {
    const { file, dtype, shape } = manifest.embeddings;
    const fh = await open(join(bundleDir, file), 'r');
    return new EmbeddingTable(fh, shape[0], shape[1], dtype);
  }

  /** Decoded rows kept in memory (the prompt's fixed text and frequent question words); bounded. */
  private readonly cache = new Map<number, Float32Array>();
  private static readonly CACHE_ROWS = 8192;

  /** Rows for `ids`, concatenated: float32[ids.length * hidden]. Uncached rows are read in parallel. */
  async rows(ids: readonly number[]): Promise<Float32Array> {
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocab) {
        throw new SegEarthError('INFERENCE_FAILED', `Token id ${id} is outside the embedding table (vocab ${this.vocab}).`);
      }
    }
    const missing = [...new Set(ids)].filter((id) => !this.cache.has(id));
    const loaded = await Promise.all(missing.map((id) => this.readRow(id)));
    missing.forEach((id, i) => {
      if (this.cache.size >= EmbeddingTable.CACHE_ROWS) this.cache.delete(this.cache.keys().next().value as number);
      this.cache.set(id, loaded[i]!);
    });
    const out = new Float32Array(ids.length * this.hidden);
    ids.forEach((id, i) => out.set(this.cache.get(id)!, i * this.hidden));
    return out;
  }

  private async readRow(id: number): Promise<Float32Array> {
    const bytesPer = this.dtype === 'float32' ? 4 : 2;
    const rowBytes = this.hidden * bytesPer;
    const buf = Buffer.alloc(rowBytes);
    const { bytesRead } = await this.fh.read(buf, 0, rowBytes, id * rowBytes);
    if (bytesRead !== rowBytes) throw new SegEarthError('MODEL_INVALID', 'The embedding table is truncated.');
    const row = new Float32Array(this.hidden);
    for (let j = 0; j < this.hidden; j++) row[j] = bytesPer === 4 ? buf.readFloatLE(j * 4) : halfToFloat(buf.readUInt16LE(j * 2));
    return row;
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}
