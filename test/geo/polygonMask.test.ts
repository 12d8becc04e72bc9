/**
 * Polygon AOI masking (GDAL's rasterizer): pixel centres inside the polygons are 1, all others 0 — checked
 * against a rectangle, a triangle, a square with a notch and two polygons (one with a hole), on a north-up
 * UTM-like grid.
 */
import { describe, expect, it } from 'vitest';
import { insidePolygons } from '../../src/geo/polygonMask.js';
import type { GeoTransform } from '../../src/shared/rasterInfo.js';

const GT: GeoTransform = [1000, 10, 0, 2000, 0, -10]; // 10 m pixels, top-left at (1000, 2000)
const at = (col: number, row: number): [number, number] => [GT[0] + col * 10, GT[3] - row * 10];

function kept(values: Uint8Array, width: number): Set<string> {
  const out = new Set<string>();
  values.forEach((v, i) => v === 1 && out.add(`${i % width},${Math.floor(i / width)}`));
  return out;
}

describe('insidePolygons', () => {
  it('keeps the pixels of a rectangle exactly', async () => {
    const values = await insidePolygons([[[at(2, 1), at(6, 1), at(6, 4), at(2, 4), at(2, 1)]]], GT, 10, 8);
    const expected = new Set<string>();
    for (let r = 1; r < 4; r++) for (let c = 2; c < 6; c++) expected.add(`${c},${r}`);
    expect(kept(values, 10)).toEqual(expected);
  });

  it('follows a triangle (pixel centres on the inside only) and a notch', async () => {
    // Lower-left triangle whose diagonal passes a quarter pixel below the centres' diagonal (no centre on an edge).
    const values = await insidePolygons([[[at(0, 0.25), at(10, 10.25), at(0, 10.25)]]], GT, 10, 10);
    for (let r = 0; r < 10; r++) {
      for (let c = 0; c < 10; c++) {
        const inside = r + 0.5 > c + 0.5 + 0.25; // centre below the diagonal
        expect(values[r * 10 + c]).toBe(inside ? 1 : 0);
      }
    }
    // A 6×6 square without its middle column in rows 0–2 (a U shape).
    const notch = await insidePolygons([[[at(0, 0), at(2, 0), at(2, 3), at(4, 3), at(4, 0), at(6, 0), at(6, 6), at(0, 6)]]], GT, 6, 6);
    expect(notch[0 * 6 + 2]).toBe(0);
    expect(notch[2 * 6 + 3]).toBe(0);
    expect(notch[3 * 6 + 3]).toBe(1);
    expect(notch[0 * 6 + 1]).toBe(1);
    expect(notch[0 * 6 + 4]).toBe(1);
  });

  it('takes several polygons, with holes (the polygons of an --aoi file)', async () => {
    const square = [at(0, 0), at(6, 0), at(6, 6), at(0, 6)] as const;
    const hole = [at(2, 2), at(4, 2), at(4, 4), at(2, 4)] as const;
    const other = [at(8, 1), at(11, 1), at(11, 3), at(8, 3)] as const;
    const values = await insidePolygons([[square, hole], [other]], GT, 12, 6);
    const expected = new Set<string>();
    for (let r = 0; r < 6; r++) for (let c = 0; c < 6; c++) if (!(r >= 2 && r < 4 && c >= 2 && c < 4)) expected.add(`${c},${r}`);
    for (let r = 1; r < 3; r++) for (let c = 8; c < 11; c++) expected.add(`${c},${r}`);
    expect(kept(values, 12)).toEqual(expected);
  });
});
