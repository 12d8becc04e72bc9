/**
 * @module geo/maskDataset
 * Where a thresholded 0/1 mask is kept while GDAL polygonizes it: in memory (a MEM dataset, one byte per
 * pixel) when it is small, else in a temporary 1-bit, DEFLATE-compressed GeoTIFF in the OS temporary folder,
 * which GDAL Polygonize reads back through its block cache (capped: `geo/env`). So vectorizing a 20000² scene
 * does not hold a 400 MB copy of it: a binary mask compresses to a few MB on disk, and the memory it takes is
 * a few strips. `close()` closes the dataset and removes the temporary file.
 */
import { rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gdal from 'gdal-async';
import type { Dataset, SpatialReference } from 'gdal-async';
import { SegEarthError } from '../shared/errors.js';
import type { GeoTransform } from '../shared/rasterInfo.js';
import { makeTempFolder } from './tempFolders.js';

/** Masks of at most this many pixels stay in memory (16 MiB, e.g. a 4096² view answer). */
export const MEMORY_MASK_PIXELS = 4096 * 4096;

export interface MaskDataset {
  dataset: Dataset;
  /** true when the mask is a temporary file, not in memory. */
  onDisk: boolean;
  /** Writes rows `y … y + h` (row-major 0/1 bytes, full width). */
  writeRows(y: number, h: number, rows: Uint8Array): Promise<void>;
  /** Closes the dataset and removes its temporary file, if any. */
  close(): Promise<void>;
}

const TEMP_PREFIX = 'segearth-mask-';

/** A write to the temporary mask failed: a full disk is an output problem (exit 4), anything else a bug. */
async function writeFailed(folder: string, cause: unknown): Promise<SegEarthError> {
  const free = await statfs(folder).then((s) => Number(s.bavail) * Number(s.bsize), () => Infinity);
  if (free < 1024 * 1024) {
    return new SegEarthError('DISK_FULL', `Not enough space for temporary files in ${folder} (the thresholded mask).`, {
      hint: 'Free some disk space there, or point TMPDIR (TEMP on Windows) to a disk with room.',
      path: folder,
      cause,
    });
  }
  return new SegEarthError('INTERNAL', `Writing the temporary mask in ${folder} failed: ${cause instanceof Error ? cause.message : String(cause)}`, {
    hint: 'This is probably a bug in SegEarth Desktop; please report it with the log file.',
    cause,
  });
}

/** A georeferenced Byte mask dataset of `width × height` (see the module comment for where it lives). */
export async function createMaskDataset(
  width: number,
  height: number,
  geoTransform: GeoTransform,
  srs: SpatialReference | null,
  options: { memoryPixels?: number } = {},
): Promise<MaskDataset> {
  const georeference = (ds: Dataset): Dataset => {
    ds.geoTransform = geoTransform;
    if (srs) ds.srs = srs;
    return ds;
  };
  if (width * height <= (options.memoryPixels ?? MEMORY_MASK_PIXELS)) {
    const dataset = georeference(await gdal.drivers.get('MEM').createAsync('', width, height, 1, gdal.GDT_Byte));
    const band = dataset.bands.get(1);
    return {
      dataset,
      onDisk: false,
      writeRows: async (y, h, rows) => void (await band.pixels.writeAsync(0, y, width, h, rows)),
      close: async () => dataset.close(),
    };
  }
  const folder = await makeTempFolder(tmpdir(), TEMP_PREFIX);
  try {
    const dataset = georeference(
      await gdal.drivers.get('GTiff').createAsync(join(folder, 'mask.tif'), width, height, 1, gdal.GDT_Byte, [
        'NBITS=1',
        'COMPRESS=DEFLATE',
        'ZLEVEL=1',
        'BIGTIFF=IF_SAFER',
      ]),
    );
    const band = dataset.bands.get(1);
    return {
      dataset,
      onDisk: true,
      async writeRows(y, h, rows) {
        try {
          await band.pixels.writeAsync(0, y, width, h, rows);
          if (y + h >= height) await dataset.flushAsync();
        } catch (err) {
          throw await writeFailed(folder, err);
        }
      },
      async close() {
        dataset.close();
        await rm(folder, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(folder, { recursive: true, force: true });
    throw err instanceof SegEarthError ? err : await writeFailed(folder, err);
  }
}
