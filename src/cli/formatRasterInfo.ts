/**
 * @module cli/formatRasterInfo
 * A concise, gdalinfo-like text description of a RasterInfo for `segearth info`.
 */
import type { RasterInfo } from '../shared/rasterInfo.js';

function num(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1e-3 && abs < 1e7) return String(Number(value.toPrecision(10)));
  return value.toExponential(6).replace(/\.?0+e/, 'e');
}

function extent([minX, minY, maxX, maxY]: [number, number, number, number]): string {
  return `${num(minX)}, ${num(minY)} — ${num(maxX)}, ${num(maxY)}  (min x, min y — max x, max y)`;
}

export function formatRasterInfo(info: RasterInfo): string {
  const rows: Array<[string, string]> = [];
  rows.push(['File', info.path]);
  rows.push(['Driver', `${info.driver} (${info.driverLongName})`]);
  rows.push(['Size', `${info.width} × ${info.height} pixels, ${info.bandCount} band${info.bandCount === 1 ? '' : 's'}`]);
  for (const band of info.bands) {
    const nodata = band.noDataIsNaN ? 'NaN' : band.noData === null ? 'none' : num(band.noData);
    const overviews = band.overviews.length === 0 ? 'none' : band.overviews.map(([w, h]) => `${w}×${h}`).join(', ');
    const description = band.description ? ` "${band.description}"` : '';
    rows.push([`Band ${band.index}`, `${band.dataType}, ${band.colorInterpretation}${description}, nodata ${nodata}, overviews ${overviews}`]);
  }
  const [x0, a, b, y0, d, e] = info.geoTransform;
  if (info.crs) {
    const kind = info.crs.isGeographic ? 'geographic' : 'projected';
    rows.push(['CRS', `${info.crs.name}${info.crs.code ? ` — ${info.crs.code}` : ''} (${kind}, ${info.crs.units})`]);
  } else {
    rows.push(['CRS', 'none (pixel coordinates)']);
  }
  const metres = (v: number) => String(Number(v.toPrecision(4)));
  const ground = info.pixelSizeMetres
    ? `  (≈ ${metres(info.pixelSizeMetres[0])} × ${metres(info.pixelSizeMetres[1])} m on the ground)`
    : '';
  rows.push(['Pixel size', `${num(Math.hypot(a, d))} × ${num(Math.hypot(b, e))}${info.crs ? ` ${info.crs.units}` : ''}${ground}`]);
  rows.push(['Origin', `${num(x0)}, ${num(y0)}${b !== 0 || d !== 0 ? `  (rotated: row/column terms ${num(b)}, ${num(d)})` : ''}`]);
  rows.push(['Bounds', extent(info.bounds)]);
  if (info.boundsLonLat) rows.push(['Lon/lat', extent(info.boundsLonLat)]);
  for (const warning of info.warnings) rows.push(['Warning', warning]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')}\n`;
}
