/**
 * @module geo/pngEncode
 * RGBA PNG bytes with GDAL's PNG driver through /vsimem — the one PNG encoder of the backend (map tiles,
 * probability heatmaps). The compression runs in GDAL's asynchronous copy, off the JavaScript thread.
 */
import gdal from 'gdal-async';

let pngCounter = 0;

/**
 * Encodes `width × height` pixels as an RGBA PNG: `rgb` interleaved (3 bytes per pixel), `alpha` one byte per
 * pixel.
 */
export async function encodePng(width: number, height: number, rgb: Uint8Array, alpha: Uint8Array): Promise<Uint8Array> {
  const n = width * height;
  if (rgb.length !== n * 3 || alpha.length !== n) throw new RangeError(`PNG: expected ${n * 3} + ${n} bytes, got ${rgb.length} + ${alpha.length}`);
  const mem = await gdal.drivers.get('MEM').createAsync('', width, height, 4, gdal.GDT_Byte);
  const name = `/vsimem/segearth-png-${process.pid}-${++pngCounter}.png`;
  try {
    const plane = new Uint8Array(n);
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < n; i++) plane[i] = rgb[i * 3 + c]!;
      await mem.bands.get(c + 1).pixels.writeAsync(0, 0, width, height, plane);
    }
    const band = mem.bands.get(4);
    band.colorInterpretation = 'Alpha';
    await band.pixels.writeAsync(0, 0, width, height, alpha);
    const png = await gdal.drivers.get('PNG').createCopyAsync(name, mem, ['ZLEVEL=6']);
    png.close();
    const buf = gdal.vsimem.release(name);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } finally {
    mem.close();
  }
}
