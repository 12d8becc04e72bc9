/**
 * Polygon AOI masking: pixel centres inside the polygon keep their value, all others are cleared — checked
 * against a triangle and a square with a notch, on a north-up UTM-like grid.
 */
import { describe, expect, it } from 'vitest';
import { maskOutsideRings } from '../../src/geo/aoiMask.js';
import type { GeoTransform } from '../../src/shared/rasterInfo.js';

const GT: GeoTransform = [1000, 10, 0, 2000, 0, -10]; // 10 m pixels, top-left at (1000, 2000)
const at = (col: number, row: number): [number, number] => [GT[0] + col * 10, GT[3] - row * 10];

function kept(values: Float32Array, width: number): Set<string> {
  const out = new Set<string>();
  values.forEach((v, i) => v === 1 && out.add(`${i % width},${Math.floor(i / width)}`));
  return out;
}

describe('maskOutsideRings', () => {
  it('keeps the pixels of a rectangle exactly', () => {
    const values = new Float32Array(10 * 8).fill(1);
    maskOutsideRings(values, 10, 8, GT, [[at(2, 1), at(6, 1), at(6, 4), at(2, 4), at(2, 1)]]);
    const expected = new Set<string>();
    for (let r = 1; r < 4; r++) for (let c = 2; c < 6; c++) expected.add(`${c},${r}`);
    expect(kept(values, 10)).toEqual(expected);
  });

  it('follows a triangle (pixel centres on the inside only) and a notch', () => {
    const values = new Float32Array(10 * 10).fill(1);
    maskOutsideRings(values, 10, 10, GT, [[at(0, 0), at(10, 10), at(0, 10)]]); // lower-left triangle
    for (let r = 0; r < 10; r++) {
      for (let c = 0; c < 10; c++) {
        const inside = c + 0.5 < r + 0.5; // centre strictly left of the diagonal
        expect(values[r * 10 + c]).toBe(inside ? 1 : 0);
      }
    }
    const notch = new Float32Array(6 * 6).fill(1);
    // A 6×6 square without its middle column in rows 0–2 (a U shape).
    maskOutsideRings(notch, 6, 6, GT, [[at(0, 0), at(2, 0), at(2, 3), at(4, 3), at(4, 0), at(6, 0), at(6, 6), at(0, 6)]]);
    expect(notch[0 * 6 + 2]).toBe(0);
    expect(notch[2 * 6 + 3]).toBe(0);
    expect(notch[3 * 6 + 3]).toBe(1);
    expect(notch[0 * 6 + 1]).toBe(1);
    expect(notch[0 * 6 + 4]).toBe(1);
  });

  it('treats several rings even-odd: a polygon with a hole and a second polygon', () => {
    const values = new Float32Array(12 * 6).fill(1);
    const square = [at(0, 0), at(6, 0), at(6, 6), at(0, 6)] as const;
    const hole = [at(2, 2), at(4, 2), at(4, 4), at(2, 4)] as const;
    const other = [at(8, 1), at(11, 1), at(11, 3), at(8, 3)] as const;
    maskOutsideRings(values, 12, 6, GT, [square, hole, other]);
    const expected = new Set<string>();
    for (let r = 0; r < 6; r++) for (let c = 0; c < 6; c++) if (!(r >= 2 && r < 4 && c >= 2 && c < 4)) expected.add(`${c},${r}`);
    for (let r = 1; r < 3; r++) for (let c = 8; c < 11; c++) expected.add(`${c},${r}`);
    expect(kept(values, 12)).toEqual(expected);
  });
});
