/**
 * Reads a vector file back with GDAL's own command-line tools (gdal-bin), independently of our writers:
 * `ogrinfo` for the layer list, `ogr2ogr -f GeoJSON /vsistdout/` per layer for features (GDAL 3.6's ogrinfo has no -json).
 */
import { execFileSync } from 'node:child_process';

export interface OgrLayer {
  name: string;
  featureCount: number;
  features: { properties: Record<string, unknown>; geometry: { type: string; coordinates: unknown } | null }[];
}

export function ogrLayerNames(path: string): string[] {
  const text = execFileSync('ogrinfo', ['-ro', '-q', path], { encoding: 'utf8' });
  return [...text.matchAll(/^\d+: (.+?)(?: \([^)]*\))?$/gm)].map((m) => m[1]!);
}

export function ogrReadLayers(path: string): OgrLayer[] {
  return ogrLayerNames(path).map((name) => {
    const json = JSON.parse(
      execFileSync('ogr2ogr', ['-f', 'GeoJSON', '/vsistdout/', path, name], { encoding: 'utf8', maxBuffer: 256 << 20 }),
    ) as { features: OgrLayer['features'] };
    return { name, featureCount: json.features.length, features: json.features };
  });
}

/**
 * Every layer of a vector file as GDAL reads it, in an order-free form for comparing two files feature by feature:
 * layers by name, each with its features (attributes + geometry) sorted.
 */
export function ogrCanonicalLayers(path: string): { name: string; features: { p: Record<string, unknown>; g: unknown }[] }[] {
  return ogrReadLayers(path)
    .map((l) => ({
      name: l.name,
      features: l.features.map((f) => ({ p: f.properties, g: f.geometry })).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}
