/**
 * @module test/support/vectorReadBack
 * Reads exported vector files back with GDAL's own command-line tools (gdal-bin) and checks them with QGIS,
 * independently of SegEarth's writers: `ogr2ogr -f GeoJSON /vsistdout/` for the features, `ogrinfo -so` for
 * the layer CRS (GDAL 3.6's ogrinfo has no -json), OGR SQL `SUM(OGR_GEOM_AREA)` for the planar total area,
 * and `qgis_process run qgis:checkvalidity` for geometry validity.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface ReadBackFeature {
  properties: Record<string, unknown>;
  geometry: { type: 'Polygon' | 'MultiPolygon'; coordinates: number[][][] | number[][][][] };
}

export interface ReadBackLayer {
  features: ReadBackFeature[];
  /** e.g. "EPSG:32618" from the layer's WKT, null when none. */
  crsCode: string | null;
  /** Sum of OGR_GEOM_AREA over the layer, in CRS units². */
  planarArea: number;
}

export function readBackLayer(path: string, layer?: string): ReadBackLayer {
  const layerArgs = layer === undefined ? [] : [layer];
  const json = JSON.parse(
    execFileSync('ogr2ogr', ['-f', 'GeoJSON', '/vsistdout/', path, ...layerArgs], {
      encoding: 'utf8',
      maxBuffer: 512 << 20,
    }),
  ) as { features: ReadBackFeature[] };
  const info = execFileSync('ogrinfo', ['-ro', '-so', ...(layer === undefined ? ['-al'] : []), path, ...layerArgs], {
    encoding: 'utf8',
  });
  const code = /^ {4}ID\["EPSG",(\d+)\]\]$/m.exec(info);
  const layerName = layer ?? /^Layer name: (.+)$/m.exec(info)?.[1] ?? '';
  const sql = execFileSync(
    'ogrinfo',
    ['-ro', '-q', '-dialect', 'OGRSQL', '-sql', `SELECT SUM(OGR_GEOM_AREA) AS total FROM "${layerName}"`, path],
    { encoding: 'utf8' },
  );
  const total = /total \(Real\) = ([-\d.e+]+)/.exec(sql);
  return {
    features: json.features,
    crsCode: code ? `EPSG:${code[1]}` : null,
    planarArea: total ? Number(total[1]) : 0,
  };
}

/** Layer names of a vector file as ogrinfo lists them. */
export function layerNames(path: string): string[] {
  const text = execFileSync('ogrinfo', ['-ro', '-q', path], { encoding: 'utf8' });
  return [...text.matchAll(/^\d+: (.+?)(?: \([^)]*\))?$/gm)].map((m) => m[1]);
}

const QGIS_PROCESS = ['/usr/bin/qgis_process.bin', '/usr/bin/qgis_process'].find((p) => existsSync(p)) ?? null;

export function qgisAvailable(): boolean {
  return QGIS_PROCESS !== null;
}

/** QGIS's verdict on every geometry of a layer (GEOS method); null when QGIS cannot run. */
export function qgisValidity(path: string, layer?: string): { valid: number; invalid: number; errors: number } | null {
  if (!QGIS_PROCESS) return null;
  const input = layer === undefined ? path : `${path}|layername=${layer}`;
  const run = spawnSync(
    QGIS_PROCESS,
    [
      'run',
      'qgis:checkvalidity',
      '--json',
      '--',
      `INPUT_LAYER=${input}`,
      'METHOD=2',
      'VALID_OUTPUT=TEMPORARY_OUTPUT',
      'INVALID_OUTPUT=TEMPORARY_OUTPUT',
      'ERROR_OUTPUT=TEMPORARY_OUTPUT',
    ],
    { encoding: 'utf8', env: { ...process.env, QT_QPA_PLATFORM: 'offscreen' }, maxBuffer: 64 << 20 },
  );
  const start = run.stdout.indexOf('{');
  if (run.status !== 0 || start < 0) throw new Error(`qgis_process failed: ${run.stderr.slice(-500)}`);
  const results = (JSON.parse(run.stdout.slice(start)) as { results: Record<string, number> }).results;
  return { valid: results.VALID_COUNT, invalid: results.INVALID_COUNT, errors: results.ERROR_COUNT };
}
