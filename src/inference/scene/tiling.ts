/**
 * @module inference/scene/tiling
 * Pure maths of full-resolution tiling: which tiles cover a window (tile size, overlap), and the smooth
 * blending weights that make stitching seam-free. Tiles are spread evenly so that neighbours overlap by at
 * least `overlap` and the last tile ends exactly at the window's edge: no tile is ever padded unless the
 * window itself is smaller than a tile. Each tile's weight ramps up with a raised cosine over the overlap on sides
 * shared with a neighbour, and stays 1 on the window's outer edges; blended logits are `Σ w·l / Σ w`, so a
 * model whose output does not depend on the tile position gives exactly the single-pass result.
 */

export interface PixelRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Tile extends PixelRect {
  /** 0-based index in row-major order, and its row/column. */
  index: number;
  row: number;
  col: number;
}

export interface TilePlan {
  tiles: Tile[];
  rows: number;
  cols: number;
  tileSize: number;
  overlap: number;
}

/**
 * Start offsets along one axis: the fewest tiles of `size` whose neighbours overlap by at least `overlap`,
 * spread evenly from 0 to `length − size` (so every overlap is between `overlap` and `size / 2`-ish).
 */
export function axisStarts(length: number, size: number, overlap: number): number[] {
  if (length <= size) return [0];
  const stride = size - overlap;
  const n = Math.ceil((length - overlap) / stride);
  const span = length - size;
  return Array.from({ length: n }, (_, i) => Math.round((i * span) / (n - 1)));
}

/** Tiles covering a `width × height` window (coordinates relative to the window). */
export function planTiles(width: number, height: number, tileSize = 1024, overlap = 128): TilePlan {
  if (!(Number.isInteger(tileSize) && tileSize > 0)) throw new RangeError(`tile size must be a positive integer, got ${tileSize}`);
  if (!(Number.isInteger(overlap) && overlap >= 0 && overlap < tileSize / 2)) {
    throw new RangeError(`overlap must be an integer in [0, ${Math.floor(tileSize / 2) - 1}], got ${overlap}`);
  }
  const xs = axisStarts(width, tileSize, overlap);
  const ys = axisStarts(height, tileSize, overlap);
  const tiles: Tile[] = [];
  ys.forEach((y, row) =>
    xs.forEach((x, col) =>
      tiles.push({
        index: tiles.length,
        row,
        col,
        x,
        y,
        width: Math.min(tileSize, width - x),
        height: Math.min(tileSize, height - y),
      }),
    ),
  );
  return { tiles, rows: ys.length, cols: xs.length, tileSize, overlap };
}

/** 1-D weights of one tile along an axis: raised-cosine ramps of `ramp` px on the sides that have a neighbour. */
function axisWeights(length: number, ramp: number, rampStart: boolean, rampEnd: boolean): Float32Array {
  const w = new Float32Array(length).fill(1);
  if (ramp <= 0) return w;
  for (let d = 0; d < Math.min(ramp, length); d++) {
    const v = Math.sin((Math.PI / 2) * ((d + 0.5) / ramp)) ** 2;
    if (rampStart) w[d] = Math.min(w[d]!, v);
    if (rampEnd) w[length - 1 - d] = Math.min(w[length - 1 - d]!, v);
  }
  return w;
}

/**
 * Blending weights of a tile (row-major, `tile.width × tile.height`, all > 0). The ramp length on a side is
 * the overlap actually shared with the neighbour there (the last tile may overlap more than `overlap`), capped
 * at `plan.overlap`.
 */
export function tileWeights(tile: Tile, plan: TilePlan, windowWidth: number, windowHeight: number): Float32Array {
  const ramp = plan.overlap;
  const wx = axisWeights(tile.width, ramp, tile.x > 0, tile.x + tile.width < windowWidth);
  const wy = axisWeights(tile.height, ramp, tile.y > 0, tile.y + tile.height < windowHeight);
  const out = new Float32Array(tile.width * tile.height);
  for (let y = 0; y < tile.height; y++) {
    const r = wy[y]!;
    for (let x = 0; x < tile.width; x++) out[y * tile.width + x] = r * wx[x]!;
  }
  return out;
}
