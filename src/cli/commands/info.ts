/**
 * @module cli/commands/info
 * `segearth info <raster> [--json]`: what SegEarth reads from a raster (driver, size, bands, CRS with EPSG
 * code, pixel size in metres, bounds native and lon/lat, warnings). `--json` prints the RasterInfo DTO.
 */
import type { Command } from 'commander';
import { openRaster } from '../../geo/openRaster.js';
import type { CliContext } from '../context.js';
import { formatRasterInfo } from '../formatRasterInfo.js';

export function register(program: Command, context: CliContext): void {
  program
    .command('info')
    .description('describe a raster: driver, size, bands, CRS, pixel size, bounds')
    .argument('<raster>', 'raster file (GeoTIFF, COG, JPEG2000, VRT, PNG/JPEG with world file...)')
    .option('--json', 'print the full description as JSON')
    .action(async (raster: string, options: { json?: boolean }) => {
      const info = await openRaster(raster);
      context.out(options.json ? `${JSON.stringify(info, null, 2)}\n` : formatRasterInfo(info));
    });
}
