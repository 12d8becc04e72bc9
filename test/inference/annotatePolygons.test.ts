import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import gdal from 'gdal-async';
import { areaGeometryToOgr } from '../../src/geo/areaGeometryWkb.js';
import { PolygonLayer } from '../../src/geo/polygonLayer.js';
import { annotatePolygons, PROVENANCE_FIELDS } from '../../src/inference/scene/result.js';
import { createRaster, makeTempDir, removeDir } from '../support/syntheticRaster.js';

describe('annotatePolygons', () => {
  let dir: string;
  let prob: string;

  beforeAll(() => {
    dir = makeTempDir('segearth-annotate-');
    // 400×400 px, 1 m, UTM: probability 0.8 inside the left half, 0.2 in the right half.
    prob = createRaster(join(dir, 'p.tif'), {
      width: 400,
      height: 400,
      dataType: 'Float32',
      srs: 32633,
      geoTransform: [500000, 1, 0, 4000000, 0, -1],
      value: (_b, x) => (x < 200 ? 0.8 : 0.2),
    });
  });
  afterAll(() => removeDir(dir));

  it('gives the mean probability inside a polygon with 500 000 vertices (no call-stack overflow)', async () => {
    const n = 500_000;
    const ring: [number, number][] = [];
    for (let i = 0; i < n; i++) {
      const a = (2 * Math.PI * i) / n;
      ring.push([500100 + 80 * Math.cos(a), 4000000 - 200 + 80 * Math.sin(a)]); // a disk in the 0.8 half
    }
    ring.push(ring[0]!);
    const polygons = new PolygonLayer(gdal.SpatialReference.fromEPSG(32633), PROVENANCE_FIELDS);
    polygons.add(areaGeometryToOgr({ type: 'Polygon', coordinates: [ring] }), null);
    await annotatePolygons(polygons, prob, {
      question: 'q?',
      modelId: 'm',
      bundleSha256: 'abc',
      source: 'scene.tif',
      threshold: 0.5,
      createdAt: '2026-11-27T00:00:00Z',
    });
    const out = polygons.toFeatureSet();
    polygons.close();
    expect(out.features[0]!.properties['mean_prob']).toBeCloseTo(0.8, 4);
    expect(out.features[0]!.properties['source']).toBe('scene.tif');
  });
});
