/**
 * Raw-band VRTs (`VRTRawRasterBand`) in server mode: refused even when the raw file lies inside the root (a
 * confined server serves rasters, not arbitrary bytes of files read as pixels), with an error that says what
 * and what to do; GDAL's own switch (`GDAL_VRT_ENABLE_RAWRASTERBAND=NO`, honoured by GDAL ≥ 3.12) is set for
 * the process and its children. The CLI and the desktop app (no roots) still open them: there the analyst
 * already reads any file they like.
 *
 * The raw VRT is checked against `gdalinfo` (the GDAL CLI reads its pixels), so a refusal is the server's policy,
 * not a broken fixture.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gdal from 'gdal-async';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend, type Backend } from '../../src/main/services/createApi.js';
import { createGeoAdapter } from '../../src/main/services/geoAdapter.js';
import { isSegEarthError, type SegEarthError } from '../../src/shared/errors.js';
import { createRaster } from '../support/syntheticRaster.js';
import { noRuntime } from './fakes.js';

const root = mkdtempSync(join(tmpdir(), 'segearth-rawvrt-'));
let backend: Backend;

function rawVrt(file: string): string {
  return (
    '<VRTDataset rasterXSize="16" rasterYSize="16">\n' +
    '  <VRTRasterBand dataType="Byte" band="1" subClass="VRTRawRasterBand">\n' +
    `    <SourceFilename relativeToVRT="1">${file}</SourceFilename><ImageOffset>0</ImageOffset><PixelOffset>1</PixelOffset><LineOffset>16</LineOffset>\n` +
    '  </VRTRasterBand>\n</VRTDataset>\n'
  );
}

beforeAll(async () => {
  // 256 bytes inside the root, read as a 16×16 Byte band: value = x + 16·y.
  writeFileSync(join(root, 'inside.raw'), Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
  writeFileSync(join(root, 'raw-inside.vrt'), rawVrt('inside.raw'));
  // The same raw band one VRT further down: refused at any depth.
  writeFileSync(
    join(root, 'wraps-raw.vrt'),
    '<VRTDataset rasterXSize="16" rasterYSize="16">\n  <VRTRasterBand dataType="Byte" band="1">\n' +
      '    <SimpleSource><SourceFilename relativeToVRT="1">raw-inside.vrt</SourceFilename><SourceBand>1</SourceBand></SimpleSource>\n' +
      '  </VRTRasterBand>\n</VRTDataset>\n',
  );
  createRaster(join(root, 'plain.tif'), { width: 16, height: 16, srs: 32633, geoTransform: [500000, 10, 0, 5000000, 0, -10], value: (_b, x) => x });
  writeFileSync(
    join(root, 'simple.vrt'),
    '<VRTDataset rasterXSize="16" rasterYSize="16">\n  <VRTRasterBand dataType="Byte" band="1">\n' +
      '    <SimpleSource><SourceFilename relativeToVRT="1">plain.tif</SourceFilename><SourceBand>1</SourceBand></SimpleSource>\n' +
      '  </VRTRasterBand>\n</VRTDataset>\n',
  );
  backend = await createBackend({
    mode: 'server', appVersion: 'test', roots: [root], dataDir: join(root, 'data'), logsDir: null, testHooks: false,
    geo: createGeoAdapter(), runtime: noRuntime(),
  });
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

const open = (path: string) => backend.api.workspace.openRaster({ path }, { transport: 'direct' });

describe('raw-band VRTs in server mode', () => {
  it('the fixture is a working raw-band VRT (GDAL CLI reads its bytes as pixels)', () => {
    const stats = execFileSync('gdalinfo', ['-stats', '-noct', join(root, 'raw-inside.vrt')], { encoding: 'utf8' });
    expect(stats).toMatch(/Minimum=0\.000, Maximum=255\.000/);
    rmSync(join(root, 'raw-inside.vrt.aux.xml'), { force: true });
  });

  it.each(['raw-inside.vrt', 'wraps-raw.vrt'])('%s (its raw file inside the root) is refused: FORBIDDEN_PATH naming the raw band and the fix', async (name) => {
    const err = (await open(name).catch((e: unknown) => e)) as SegEarthError;
    expect(isSegEarthError(err, 'FORBIDDEN_PATH'), String(err)).toBe(true);
    expect(err.message).toMatch(/raw-inside\.vrt.* is a raw-band VRT \(VRTRawRasterBand\)/);
    expect(err.hint).toMatch(/gdal_translate .* out\.tif/);
    expect(err.hint).toMatch(/segearth CLI/);
  });

  it('a VRT of a GeoTIFF inside the root still opens', async () => {
    const layer = await open('simple.vrt');
    expect(layer.info.width).toBe(16);
  });

  it("GDAL's own switch is off for this process and the children it starts", () => {
    expect(gdal.config.get('GDAL_VRT_ENABLE_RAWRASTERBAND')).toBe('NO');
    expect(process.env.GDAL_VRT_ENABLE_RAWRASTERBAND).toBe('NO');
  });

  it('the CLI (no roots) opens the raw-band VRT: the policy is the server\'s only', () => {
    const env = { ...process.env };
    delete env.GDAL_VRT_ENABLE_RAWRASTERBAND;
    const out = execFileSync(process.execPath, ['bin/segearth.js', 'info', '--json', join(root, 'raw-inside.vrt')], { encoding: 'utf8', env });
    const info = JSON.parse(out) as { width: number; height: number; driver: string };
    expect([info.width, info.height, info.driver]).toEqual([16, 16, 'VRT']);
  });
});
