/**
 * @module shared/api/resources
 * Binary resources the map fetches directly (not through RPC): raster tiles and probability heatmaps.
 * The paths are the same for both transports; server mode serves them under `/api/res/` (token in the query),
 * the desktop app under the `segearth-tile://app/` protocol.
 */
export const TILE_PROTOCOL = 'segearth-tile';

export type ResourceRef =
  | { kind: 'tile'; layerId: string; z: number; x: number; y: number }
  | { kind: 'probability'; resultId: string };

const ID = '[A-Za-z0-9_-]{1,64}';
const TILE_RE = new RegExp(`^tiles/(${ID})/(\\d{1,2})/(\\d{1,9})/(\\d{1,9})\\.png$`);
const PROB_RE = new RegExp(`^results/(${ID})/probability\\.png$`);

export function resourcePath(ref: ResourceRef): string {
  return ref.kind === 'tile'
    ? `tiles/${ref.layerId}/${ref.z}/${ref.x}/${ref.y}.png`
    : `results/${ref.resultId}/probability.png`;
}

/** Parses a resource path (without leading slash); null for anything else. */
export function parseResourcePath(path: string): ResourceRef | null {
  const tile = TILE_RE.exec(path);
  if (tile) return { kind: 'tile', layerId: tile[1]!, z: Number(tile[2]), x: Number(tile[3]), y: Number(tile[4]) };
  const prob = PROB_RE.exec(path);
  if (prob) return { kind: 'probability', resultId: prob[1]! };
  return null;
}
