/**
 * @module bench/memoryScene
 * The synthetic scenes of the memory benchmarks (`bench/memory.bench`, `bench/polygon-memory.bench`): a 512²
 * pattern (smooth waves + noise, 3 bands) resampled by `gdal_translate -outsize` to `size`² px, tiled + DEFLATE,
 * UTM 33N, 10 m pixels; made once and cached in `$TMPDIR/segearth-bench-memory/`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const cacheDir = path.join(os.tmpdir(), 'segearth-bench-memory');

/** A scene of `size`² px: a 512² pattern (smooth waves + noise, 3 bands, UTM 33N, 10 m) resampled by GDAL. */
export function scene(size: number): string {
  mkdirSync(cacheDir, { recursive: true });
  const file = path.join(cacheDir, `scene-${size}.tif`);
  if (existsSync(file)) return file;
  const n = 512;
  const pattern = path.join(cacheDir, 'pattern.raw');
  if (!existsSync(pattern)) {
    const data = new Uint8Array(3 * n * n);
    let seed = 1;
    const noise = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 60 - 30;
    for (let b = 0; b < 3; b++) {
      for (let y = 0; y < n; y++) {
        for (let x = 0; x < n; x++) data[b * n * n + y * n + x] = Math.max(0, Math.min(255, 128 + 60 * Math.sin(x / (7 + 3 * b)) * Math.cos(y / (11 + b)) + noise()));
      }
    }
    writeFileSync(pattern, data);
    writeFileSync(path.join(cacheDir, 'pattern.hdr'), `ENVI\nsamples = ${n}\nlines = ${n}\nbands = 3\nheader offset = 0\nfile type = ENVI Standard\ndata type = 1\ninterleave = bsq\nbyte order = 0\n`);
  }
  const tmp = `${file}.part.tif`;
  execFileSync('gdal_translate', [
    '-q', '-a_srs', 'EPSG:32633', '-a_ullr', '500000', String(4000000 + size * 10), String(500000 + size * 10), '4000000',
    '-outsize', String(size), String(size), '-r', 'bilinear',
    '-co', 'TILED=YES', '-co', 'COMPRESS=DEFLATE', '-co', 'BIGTIFF=IF_SAFER', pattern, tmp,
  ]);
  execFileSync('mv', [tmp, file]);
  return file;
}

