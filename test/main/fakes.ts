/**
 * Fakes of the geo engine and inference runtime for the backend's unit tests (transports, dispatcher,
 * path confinement): they record calls and answer fixed, known values.
 */
import type { GeoBackend, InferenceAnswer, InferenceBackend } from '../../src/main/services/backends.js';
import type { ResultFeatures } from '../../src/shared/api/dto.js';
import type { RasterInfo } from '../../src/shared/rasterInfo.js';
import { SegEarthError } from '../../src/shared/errors.js';
import { stat } from 'node:fs/promises';

export function fakeRasterInfo(path: string): RasterInfo {
  return {
    path,
    driver: 'GTiff',
    driverLongName: 'GeoTIFF',
    width: 512,
    height: 256,
    bandCount: 3,
    bands: [1, 2, 3].map((index) => ({ index, dataType: 'Byte', colorInterpretation: ['Red', 'Green', 'Blue'][index - 1]!, description: '', noData: null, overviews: [] })),
    crs: { wkt: 'PROJCRS["WGS 84 / UTM zone 33N"]', code: 'EPSG:32633', proj4: '+proj=utm +zone=33 +datum=WGS84 +units=m +no_defs', name: 'WGS 84 / UTM zone 33N', isGeographic: false, units: 'metre' },
    geoTransform: [500000, 10, 0, 5000000, 0, -10],
    georeferenced: true,
    bounds: [500000, 4997440, 505120, 5000000],
    boundsLonLat: [15, 45.1, 15.06, 45.13],
    pixelSizeMetres: [10, 10],
    warnings: [],
  };
}

export function fakeGeo(calls: string[] = []): GeoBackend {
  return {
    async openRaster(path) {
      calls.push(`openRaster ${path}`);
      const info = await stat(path);
      if (info.isDirectory()) throw new SegEarthError('IS_DIRECTORY', `${path} is a folder.`);
      return fakeRasterInfo(path);
    },
    getTileGrid: (info) => ({
      extent: info.bounds,
      origin: [info.bounds[0], info.bounds[3]],
      resolutions: [20, 10],
      tileSize: 256,
      minZoom: 0,
      maxZoom: 1,
      mode: 'geotransform',
      displayGeoTransform: info.geoTransform,
    }),
    async renderTile(path, z, x, y) {
      calls.push(`renderTile ${z}/${x}/${y}`);
      return Uint8Array.from([0x89, 0x50, 0x4e, 0x47, z, x, y]);
    },
    async heatmapPng() {
      return Uint8Array.from([0x89, 0x50]);
    },
    async writeFeatures() {
      return [];
    },
    async writeMaskGeoTiff() {
      return [];
    },
    gdalVersion: () => 'fake',
  };
}

export function noRuntime(): InferenceBackend {
  return {
    async modelStatus() {
      return { state: 'missing', dir: null, id: null, name: null, variant: null, examples: [], problem: 'No model bundle found.' };
    },
    async executionProvider() {
      return { active: null, fallbackReason: null, notes: [] };
    },
    async ask() {
      throw new SegEarthError('MODEL_NOT_FOUND', 'No model bundle found.');
    },
    async polygons() {
      throw new SegEarthError('MODEL_NOT_FOUND', 'No model bundle found.');
    },
    version: () => null,
  };
}

/** `count` unit squares with the attributes the app shows, for scripted inference backends. */
export function fakePolygons(count: number, question: string, threshold: number): ResultFeatures {
  return {
    crsWkt: null,
    crsCode: 'EPSG:32633',
    features: Array.from({ length: count }, (_, i) => ({
      id: i + 1,
      geometry: { type: 'Polygon' as const, coordinates: [[[i, 0], [i + 1, 0], [i + 1, 1], [i, 0]]] as [number, number][][] },
      properties: { id: i + 1, area_m2: 100, perimeter_m: 40, question, threshold },
    })),
  };
}

/** A scripted answer of the inference backend (highest probability 0.7) with these polygons. */
export function fakeAnswer(features: ResultFeatures): InferenceAnswer {
  return {
    features,
    maxProbability: 0.7,
    probability: { extent: [500000, 4997440, 505120, 5000000], width: 512, height: 256 },
    preview: { width: 1, height: 1, data: Float32Array.of(0.7) },
    modelId: 'fake',
    bundleSha256: 'f'.repeat(64),
    executionProvider: 'CPU',
    createdAt: '2026-01-01T00:00:00.000Z',
  };
}
