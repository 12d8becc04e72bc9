/**
 * @module inference/conversion/checkpointTensors
 * Where each tensor of a safetensors checkpoint lives (shard file, byte range, dtype, shape), from the shards'
 * headers only, and positional reads of a tensor's bytes: the converter never holds a whole shard in memory.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { SegEarthError } from '../../shared/errors.js';
import { readSafetensorsHeader, type SafetensorsTensorInfo } from '../bundle/safetensors.js';

export interface CheckpointTensor extends SafetensorsTensorInfo {
  /** The shard holding the tensor. */
  readonly file: string;
}

export type CheckpointTensors = ReadonlyMap<string, CheckpointTensor>;

/** Indexes every tensor of the given safetensors files; a key found in two files is an error. */
export async function indexSafetensors(files: readonly string[]): Promise<Map<string, CheckpointTensor>> {
  const out = new Map<string, CheckpointTensor>();
  for (const file of files) {
    const header = await readSafetensorsHeader(file);
    for (const info of header.tensors.values()) {
      const earlier = out.get(info.name);
      if (earlier) {
        throw new SegEarthError('MODEL_INVALID', `Tensor ${info.name} is in both ${basename(earlier.file)} and ${basename(file)}.`, {
          hint: 'The checkpoint folder mixes two checkpoints: download it again into an empty folder.',
          path: file,
        });
      }
      out.set(info.name, { ...info, file });
    }
  }
  return out;
}

/** Open shard files, reading byte ranges of tensors at their positions. */
export class TensorReader {
  private readonly handles = new Map<string, Promise<FileHandle>>();

  /** `length` bytes of `tensor` starting `start` bytes into its data. */
  async read(tensor: CheckpointTensor, start = 0, length = tensor.byteLength - start): Promise<Uint8Array> {
    let fh = this.handles.get(tensor.file);
    if (!fh) {
      fh = open(tensor.file, 'r');
      this.handles.set(tensor.file, fh);
    }
    const handle = await fh;
    const buf = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(buf, done, length - done, tensor.byteOffset + start + done);
      if (bytesRead === 0) {
        throw new SegEarthError('MODEL_INVALID', `${basename(tensor.file)} ends inside tensor ${tensor.name}: the file is truncated.`, {
          hint: 'Download the checkpoint file again.',
          path: tensor.file,
        });
      }
      done += bytesRead;
    }
    return buf;
  }

  async close(): Promise<void> {
    const all = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(all.map(async (h) => (await h.catch(() => undefined))?.close()));
  }
}
