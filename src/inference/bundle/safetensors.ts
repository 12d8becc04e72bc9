/**
 * @module inference/bundle/safetensors
 * A small reader for the safetensors format: u64 little-endian header length, a JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {...}}`, then raw little-endian
 * C-order data; offsets are relative to the end of the header.
 *
 * `readSafetensorsHeader` reads only the header (cheap for multi-GB files); `SafetensorsFile` gives typed
 * views of tensors from an in-memory buffer.
 */
import { open, readFile } from 'node:fs/promises';
import { z } from 'zod';
import { SegEarthError } from '../../shared/errors.js';

export const SAFETENSORS_DTYPES = ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL'] as const;
export type SafetensorsDtype = (typeof SAFETENSORS_DTYPES)[number];

const BYTES_PER_ELEMENT: Record<SafetensorsDtype, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

const TensorInfoSchema = z.object({
  dtype: z.enum(SAFETENSORS_DTYPES),
  shape: z.array(z.number().int().nonnegative()),
  data_offsets: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
});

export interface SafetensorsTensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Absolute byte offset of the tensor's data in the file. */
  byteOffset: number;
  byteLength: number;
}

export interface SafetensorsHeader {
  /** Absolute offset where the data section begins (8 + header length). */
  dataStart: number;
  tensors: Map<string, SafetensorsTensorInfo>;
  metadata: Record<string, string>;
}

/** Header lengths above this are rejected as corrupt (the format's own reference limit is 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

function invalid(path: string, why: string): SegEarthError {
  return new SegEarthError('MODEL_INVALID', `Invalid safetensors file: ${why}.`, {
    path,
    hint: 'Re-export or re-download the model bundle.',
  });
}

/** Parses the header from the first bytes of a file (at least `8 + headerLength` bytes). */
export function parseSafetensorsHeader(bytes: Uint8Array, path = '<buffer>', fileSize?: number): SafetensorsHeader {
  if (bytes.byteLength < 8) throw invalid(path, 'shorter than 8 bytes');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > MAX_HEADER_BYTES) throw invalid(path, `header length ${headerLen} is implausible`);
  if (bytes.byteLength < 8 + headerLen) throw invalid(path, 'truncated header');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  } catch (cause) {
    throw invalid(path, `header is not JSON (${String(cause)})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalid(path, 'header is not an object');
  const dataStart = 8 + headerLen;
  const tensors = new Map<string, SafetensorsTensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      const meta = z.record(z.string(), z.string()).safeParse(raw);
      if (!meta.success) throw invalid(path, '__metadata__ must map strings to strings');
      metadata = meta.data;
      continue;
    }
    const info = TensorInfoSchema.safeParse(raw);
    if (!info.success) throw invalid(path, `bad entry for "${name}"`);
    const { dtype, shape, data_offsets: [begin, end] } = info.data;
    const count = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * BYTES_PER_ELEMENT[dtype]) throw invalid(path, `"${name}" size does not match its shape`);
    if (fileSize !== undefined && dataStart + end > fileSize) throw invalid(path, `"${name}" extends past the end`);
    tensors.set(name, { name, dtype, shape, byteOffset: dataStart + begin, byteLength: end - begin });
  }
  return { dataStart, tensors, metadata };
}

/** Reads only the header of a safetensors file on disk. */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const lenBuf = new Uint8Array(8);
    await fh.read(lenBuf, 0, 8, 0);
    const headerLen = Number(new DataView(lenBuf.buffer).getBigUint64(0, true));
    if (headerLen > MAX_HEADER_BYTES || 8 + headerLen > size) throw invalid(path, 'bad header length');
    const buf = new Uint8Array(8 + headerLen);
    await fh.read(buf, 0, buf.byteLength, 0);
    return parseSafetensorsHeader(buf, path, size);
  } finally {
    await fh.close();
  }
}

export type TypedTensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array;

/** A whole safetensors file in memory, with typed views of its tensors. */
export class SafetensorsFile {
  readonly header: SafetensorsHeader;
  private readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array, path = '<buffer>') {
    this.bytes = bytes;
    this.header = parseSafetensorsHeader(bytes, path, bytes.byteLength);
  }

  static async load(path: string): Promise<SafetensorsFile> {
    const buf = await readFile(path);
    return new SafetensorsFile(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path);
  }

  names(): string[] {
    return [...this.header.tensors.keys()];
  }

  info(name: string): SafetensorsTensorInfo {
    const info = this.header.tensors.get(name);
    if (!info) throw new SegEarthError('MODEL_INVALID', `Tensor "${name}" is not in the safetensors file.`);
    return info;
  }

  /** The raw bytes of a tensor (a view, no copy). */
  raw(name: string): Uint8Array {
    const { byteOffset, byteLength } = this.info(name);
    return this.bytes.subarray(byteOffset, byteOffset + byteLength);
  }

  /** A typed copy of the tensor (copied so alignment never matters). F16/BF16 come back as raw Uint16Array. */
  typed(name: string): TypedTensorData {
    const info = this.info(name);
    const copy = this.raw(name).slice();
    const b = copy.buffer;
    switch (info.dtype) {
      case 'F32': return new Float32Array(b);
      case 'F64': return new Float64Array(b);
      case 'I64': return new BigInt64Array(b);
      case 'I32': return new Int32Array(b);
      case 'I16': return new Int16Array(b);
      case 'I8': return new Int8Array(b);
      case 'F16':
      case 'BF16': return new Uint16Array(b);
      case 'U8':
      case 'BOOL': return new Uint8Array(b);
    }
  }

  /** A float32 copy; throws for non-F32 tensors. */
  float32(name: string): Float32Array {
    const info = this.info(name);
    if (info.dtype !== 'F32') throw new SegEarthError('MODEL_INVALID', `Tensor "${name}" is ${info.dtype}, not F32.`);
    return this.typed(name) as Float32Array;
  }

  /** An int64 tensor as JS numbers (values must be safe integers). */
  int64AsNumbers(name: string): number[] {
    const info = this.info(name);
    if (info.dtype !== 'I64') throw new SegEarthError('MODEL_INVALID', `Tensor "${name}" is ${info.dtype}, not I64.`);
    return Array.from(this.typed(name) as BigInt64Array, (v) => Number(v));
  }
}

/** Serialises tensors to the safetensors format (used by tests and the TS side of bundle tooling). */
export function encodeSafetensors(
  tensors: Array<{ name: string; dtype: SafetensorsDtype; shape: number[]; data: Uint8Array }>,
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = new Uint8Array(json.byteLength + ((8 - (json.byteLength % 8)) % 8)).fill(0x20);
  headerBytes.set(json, 0);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.byteLength;
  for (const t of tensors) {
    out.set(t.data, pos);
    pos += t.data.byteLength;
  }
  return out;
}
