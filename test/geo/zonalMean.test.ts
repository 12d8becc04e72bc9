import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zonalMeans } from '../../src/geo/zonalMean.js';
import type { AreaGeometry, Position } from '../../src/shared/featureSet.js';
import { createRaster, makeTempDir, removeDir } from '../support/syntheticRaster.js';

// 300 × 200 px, 0.5 m pixels; every pixel a different known value (deterministic pseudo-random Float32).
const W = 300;
const H = 200;
const GT: [number, number, number, number, number, number] = [500000, 0.5, 0, 4000000, 0, -0.5];
const value = (x: number, y: number): number => Math.fround(((Math.imul(x + 1, 2654435761) ^ Math.imul(y + 7, 40503)) >>> 0) / 2 ** 32);

/** Pixel coordinates → world (exact with these power-of-two pixel sizes). */
const world = (ring: Position[]): Position[] => ring.map(([x, y]) => [GT[0] + x! * GT[1], GT[3] + y! * GT[5]]);

/** Brute force: every pixel centre tested against every ring (even-odd ray casting), summed row by row. */
function bruteForceMean(ringsPx: Position[][]): number | null {
  let sum = 0;
  let count = 0;
  for (let row = 0; row < H; row++) {
    for (let col = 0; col < W; col++) {
      const cx = col + 0.5;
      const cy = row + 0.5;
      let inside = false;
      for (const ring of ringsPx) {
        for (let i = 0; i + 1 < ring.length; i++) {
          const [ax, ay] = ring[i] as [number, number];
          const [bx, by] = ring[i + 1] as [number, number];
          if ((ay <= cy && by > cy) || (by <= cy && ay > cy)) {
            if (cx > ax + ((cy - ay) / (by - ay)) * (bx - ax)) inside = !inside;
          }
        }
      }
      if (inside) {
        sum += value(col, row);
        count++;
      }
    }
  }
  return count > 0 ? sum / count : null;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A closed star-shaped ring of `n` vertices at non-integer pixel positions. */
function star(cx: number, cy: number, r: number, n: number, rand: () => number, clockwise = false): Position[] {
  const ring: Position[] = [];
  for (let i = 0; i < n; i++) {
    const a = ((clockwise ? -1 : 1) * 2 * Math.PI * (i + rand() * 0.5)) / n;
    const radius = r * (0.4 + 0.6 * rand());
    ring.push([cx + radius * Math.cos(a) + 0.013, cy + radius * Math.sin(a) + 0.029]);
  }
  ring.push(ring[0]!);
  return ring;
}

const rect = (x0: number, y0: number, x1: number, y1: number): Position[] => [
  [x0, y0],
  [x1, y0],
  [x1, y1],
  [x0, y1],
  [x0, y0],
];

describe('zonalMeans', () => {
  let dir: string;
  let raster: string;
  /** Each case: the geometry in world coordinates and its rings in pixel coordinates. */
  const cases: { geometry: AreaGeometry; ringsPx: Position[][] }[] = [];

  beforeAll(() => {
    dir = makeTempDir('segearth-zonal-');
    raster = createRaster(join(dir, 'p.tif'), { width: W, height: H, dataType: 'Float32', srs: 32633, geoTransform: GT, value: (_b, x, y) => value(x, y) });
    const rand = rng(42);
    const polygon = (...rings: Position[][]) => cases.push({ geometry: { type: 'Polygon', coordinates: rings.map(world) }, ringsPx: rings });
    // Random star polygons, some with a hole, some overlapping each other, some across the raster edge.
    for (let i = 0; i < 40; i++) {
      const cx = -20 + rand() * (W + 40);
      const cy = -20 + rand() * (H + 40);
      const r = 3 + rand() * 60;
      const outer = star(cx, cy, r, 5 + Math.floor(rand() * 40), rand);
      if (i % 3 === 0) polygon(outer, star(cx, cy, r * 0.3, 7, rand, true));
      else polygon(outer);
    }
    // Pixel-aligned outlines like GDAL Polygonize gives: a block with two holes, one touching the shell at a corner.
    polygon(rect(10, 10, 60, 50), rect(20, 20, 30, 30), rect(50, 40, 60, 50));
    // The same block again (full overlap), and a polygon inside its hole.
    polygon(rect(10, 10, 60, 50));
    polygon(rect(22, 22, 28, 28));
    // A multipolygon with two parts.
    cases.push({
      geometry: { type: 'MultiPolygon', coordinates: [[world(rect(100, 100, 110, 120))], [world(rect(200.25, 3.75, 240.5, 9.1))]] },
      ringsPx: [rect(100, 100, 110, 120), rect(200.25, 3.75, 240.5, 9.1)],
    });
    // Too thin to hold a pixel centre, and entirely outside the raster.
    polygon(rect(5.6, 5, 6.4, 30));
    polygon(rect(-50, -50, -10, -10));
    // The whole raster.
    polygon(rect(0, 0, W, H));
  });
  afterAll(() => removeDir(dir));

  it('equals a brute-force pixel-centre computation for every polygon, bit for bit', async () => {
    const expected = cases.map((c) => bruteForceMean(c.ringsPx));
    expect(expected.filter((m) => m !== null).length).toBeGreaterThan(cases.length - 6);
    for (const stripPixels of [undefined, W * 7, 1]) {
      const means = await zonalMeans(raster, cases.map((c) => c.geometry), stripPixels ? { stripPixels } : {});
      expect(means).toEqual(expected);
      means.forEach((m, i) => expect(m).toBe(expected[i]));
      // The same polygons as interleaved x, y rings (what the answer's OGR geometries are read as).
      const rings = cases.map((c) => (c.geometry.type === 'Polygon' ? [c.geometry.coordinates] : c.geometry.coordinates).flat().map((ring) => Float64Array.from(ring.flat())));
      const vertexCount = rings.reduce((n, polygon) => n + polygon.reduce((k, ring) => k + ring.length / 2, 0), 0);
      const fromRings = await zonalMeans(raster, rings, { vertexCount, ...(stripPixels ? { stripPixels } : {}) });
      fromRings.forEach((m, i) => expect(m).toBe(expected[i]));
    }
  });

  it('gives the known mean of a constant region and null for no polygon', async () => {
    const dir2 = makeTempDir('segearth-zonal-const-');
    try {
      const half = createRaster(join(dir2, 'h.tif'), { width: 40, height: 40, dataType: 'Float32', geoTransform: [0, 1, 0, 40, 0, -1], value: (_b, x) => (x < 20 ? 0.75 : 0.25) });
      const left: AreaGeometry = { type: 'Polygon', coordinates: [[[0, 40], [20, 40], [20, 0], [0, 0], [0, 40]]] };
      const both: AreaGeometry = { type: 'Polygon', coordinates: [[[10, 30], [30, 30], [30, 10], [10, 10], [10, 30]]] };
      expect(await zonalMeans(half, [left, both])).toEqual([0.75, 0.5]);
      expect(await zonalMeans(half, [])).toEqual([]);
    } finally {
      removeDir(dir2);
    }
  });
});
