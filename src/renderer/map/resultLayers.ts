/**
 * @module renderer/map/resultLayers
 * The answers on the map: a result's polygons as a styled vector layer over its scene, and its probability
 * heatmap as an image layer, both in the scene's CRS (reprojected into the view's). What is shown follows
 * the workspace state; this module only applies it.
 */
import type OlMap from 'ol/Map';
import ImageLayer from 'ol/layer/Image';
import VectorLayer from 'ol/layer/Vector';
import VectorSource from 'ol/source/Vector';
import ImageStatic from 'ol/source/ImageStatic';
import GeoJSON from 'ol/format/GeoJSON';
import { Fill, Stroke, Style } from 'ol/style';
import type Projection from 'ol/proj/Projection';
import type Feature from 'ol/Feature';
import { MultiPolygon, Polygon as PolygonGeom, type Geometry } from 'ol/geom';
import { resourcePath } from '../../shared/api/resources';
import type { ResultFeatures, ResultSummary } from '../../shared/api/dto';
import { flipExtent as flip } from './aoiDrawing';
import type { RasterEntry } from './rasterLayers';

/** A point inside a polygon (for tests that click on a feature). */
function interiorPoint(geometry: Geometry | undefined): number[] | null {
  if (geometry instanceof PolygonGeom) return geometry.getInteriorPoint().getCoordinates().slice(0, 2);
  if (geometry instanceof MultiPolygon) return geometry.getInteriorPoints().getCoordinates()[0]?.slice(0, 2) ?? null;
  return null;
}

function flipGeometryY<T>(coords: T): T {
  if (Array.isArray(coords) && typeof coords[0] === 'number') return [coords[0], -(coords[1] as number), ...coords.slice(2)] as T;
  return (coords as unknown[]).map((c) => flipGeometryY(c)) as T;
}

interface ResultEntry {
  resultId: string;
  projection: Projection;
  flipY: boolean;
  layer: VectorLayer<VectorSource<Feature<Geometry>>>;
  heatmap: ImageLayer<ImageStatic> | null;
  summary: ResultSummary;
}

const PALETTE = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#46f0f0', '#f032e6', '#bcf60c'];

export function resultColor(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}

function hexToRgba(hex: string, alpha: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

function styleFor(color: string): Style {
  return new Style({ stroke: new Stroke({ color, width: 2 }), fill: new Fill({ color: hexToRgba(color, 0.28) }) });
}

export class ResultLayers {
  private readonly results = new Map<string, ResultEntry>();

  constructor(
    private readonly map: OlMap,
    private readonly resourceUrl: (path: string) => string,
    /** The view's CRS, features are read into it. */
    private readonly viewProjection: () => Projection | null,
  ) {}

  private readFeatures(features: ResultFeatures, projection: Projection, flipY: boolean): Feature<Geometry>[] {
    const format = new GeoJSON();
    return format.readFeatures(
      {
        type: 'FeatureCollection',
        features: features.features.map((f) => ({
          type: 'Feature',
          id: f.id,
          geometry: flipY ? { ...f.geometry, coordinates: flipGeometryY(f.geometry.coordinates) } : f.geometry,
          properties: f.properties,
        })),
      },
      { dataProjection: projection, featureProjection: this.viewProjection() ?? projection },
    ) as Feature<Geometry>[];
  }

  /** Shows (or replaces the polygons of) a result over its scene `raster`. */
  show(raster: RasterEntry, summary: ResultSummary, features: ResultFeatures, color: string): void {
    const existing = this.results.get(summary.id);
    if (existing) {
      existing.summary = summary;
      existing.layer.getSource()!.clear();
      existing.layer.getSource()!.addFeatures(this.readFeatures(features, existing.projection, raster.flipY));
      return;
    }
    const source = new VectorSource<Feature<Geometry>>({ features: this.readFeatures(features, raster.projection, raster.flipY) });
    const layer = new VectorLayer({ source, style: styleFor(color), zIndex: 1000 + this.results.size, properties: { resultId: summary.id } });
    this.results.set(summary.id, { resultId: summary.id, projection: raster.projection, flipY: raster.flipY, layer, heatmap: null, summary });
    this.map.addLayer(layer);
  }

  setVisible(resultId: string, visible: boolean): void {
    this.results.get(resultId)?.layer.setVisible(visible);
  }

  /** Removes a result's layers; false when it was not on the map. */
  remove(resultId: string): boolean {
    const entry = this.results.get(resultId);
    if (!entry) return false;
    this.map.removeLayer(entry.layer);
    if (entry.heatmap) this.map.removeLayer(entry.heatmap);
    this.results.delete(resultId);
    return true;
  }

  /** The results over a scene. */
  idsOfLayer(layerId: string): string[] {
    return [...this.results.values()].filter((r) => r.summary.layerId === layerId).map((r) => r.resultId);
  }

  setHeatmap(resultId: string, visible: boolean): void {
    const entry = this.results.get(resultId);
    if (!entry) return;
    if (visible && !entry.heatmap && entry.summary.probability) {
      entry.heatmap = new ImageLayer({
        source: new ImageStatic({
          url: this.resourceUrl(resourcePath({ kind: 'probability', resultId })),
          imageExtent: entry.flipY ? flip(entry.summary.probability.extent) : entry.summary.probability.extent,
          projection: entry.projection,
          interpolate: false,
        }),
        opacity: 0.7,
        zIndex: 900,
        properties: { heatmapOf: resultId },
      });
      this.map.addLayer(entry.heatmap);
    }
    entry.heatmap?.setVisible(visible);
  }

  zoomTo(resultId: string): void {
    const entry = this.results.get(resultId);
    const extent = entry?.layer.getSource()?.getExtent();
    if (extent && Number.isFinite(extent[0])) this.map.getView().fit(extent, { size: this.map.getSize(), padding: [40, 40, 40, 40], maxZoom: 22 });
  }

  /** Snapshot for the end-to-end test hook. */
  testState(): Record<string, unknown> {
    const results: Record<string, unknown> = {};
    for (const [id, entry] of this.results) {
      results[id] = {
        visible: entry.layer.getVisible(),
        heatmap: entry.heatmap?.getVisible() ?? false,
        features: entry.layer
          .getSource()!
          .getFeatures()
          .map((f) => ({
            properties: Object.fromEntries(Object.entries(f.getProperties()).filter(([k]) => k !== 'geometry')),
            extent: f.getGeometry()?.getExtent(),
            anchor: interiorPoint(f.getGeometry()),
          })),
      };
    }
    return results;
  }
}
