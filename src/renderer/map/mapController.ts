/**
 * @module renderer/map/mapController
 * The OpenLayers map, driven imperatively from React: raster layers in their own CRS (the view takes the CRS
 * of the first raster; others and the optional OSM basemap are reprojected on the fly), result polygons as
 * styled vector layers, probability heatmaps, pointer coordinates and the feature popup; AOI drawing is
 * `aoiDrawing`.
 */
import OlMap from 'ol/Map';
import View from 'ol/View';
import TileLayer from 'ol/layer/Tile';
import ImageLayer from 'ol/layer/Image';
import VectorLayer from 'ol/layer/Vector';
import VectorSource from 'ol/source/Vector';
import TileImage from 'ol/source/TileImage';
import ImageStatic from 'ol/source/ImageStatic';
import OSM from 'ol/source/OSM';
import TileGrid from 'ol/tilegrid/TileGrid';
import GeoJSON from 'ol/format/GeoJSON';
import Overlay from 'ol/Overlay';
import ScaleLine from 'ol/control/ScaleLine';
import Zoom from 'ol/control/Zoom';
import Attribution from 'ol/control/Attribution';
import { Fill, Stroke, Style } from 'ol/style';
import { transformExtent, toLonLat, type ProjectionLike } from 'ol/proj';
import type Projection from 'ol/proj/Projection';
import type Feature from 'ol/Feature';
import { MultiPolygon, Polygon as PolygonGeom, type Geometry } from 'ol/geom';
import type { Coordinate } from 'ol/coordinate';
import type { Extent as OlExtent } from 'ol/extent';
import { resourcePath } from '../../shared/api/resources';
import type { Aoi, RasterLayer, ResultFeatures, ResultSummary } from '../../shared/api/dto';
import { projectionFor } from './proj';
import { AoiDrawing, flipExtent as flip } from './aoiDrawing';

export interface PointerInfo {
  /** In the view's CRS (the first raster's). */
  x: number;
  y: number;
  crsCode: string;
  lonLat: [number, number] | null;
}

export interface MapCallbacks {
  resourceUrl(path: string): string;
  onPointer(info: PointerInfo | null): void;
  onFeatureClick(properties: Record<string, unknown> | null, coordinate: Coordinate | null): void;
  onTileError(layerId: string): void;
}

interface RasterEntry {
  model: RasterLayer;
  projection: Projection;
  layer: TileLayer<TileImage>;
  /**
   * Not georeferenced: the map shows (column, −row) so the image is upright (tile grid `pixel` mode), while
   * results and AOIs use GDAL's (column, row). Their y is negated on the way in and out.
   */
  flipY: boolean;
}

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

export class MapController {
  readonly map: OlMap;
  private readonly rasters = new Map<string, RasterEntry>();
  private readonly results = new Map<string, ResultEntry>();
  private readonly basemap: TileLayer<OSM>;
  private readonly popup: Overlay;
  private readonly aoi: AoiDrawing;
  private viewProjection: Projection | null = null;
  private readonly scaleLine = new ScaleLine({ units: 'metric', bar: true, text: true, minWidth: 100 });
  tilesLoaded = 0;
  tileErrors = 0;

  /** Element the feature popup is rendered into (React portal); OpenLayers positions it. */
  readonly popupElement: HTMLDivElement;

  constructor(target: HTMLElement, private readonly callbacks: MapCallbacks) {
    this.popupElement = document.createElement('div');
    this.popupElement.className = 'popup-host';
    const popupElement = this.popupElement;
    this.basemap = new TileLayer({
      source: new OSM({ attributions: '© OpenStreetMap contributors' }),
      visible: false,
      zIndex: -1,
      properties: { name: 'OpenStreetMap' },
    });
    this.popup = new Overlay({ element: popupElement, autoPan: { animation: { duration: 0 } }, positioning: 'bottom-center', offset: [0, -8] });
    this.map = new OlMap({
      target,
      layers: [this.basemap],
      overlays: [this.popup],
      controls: [new Zoom(), new Attribution({ collapsible: true }), this.scaleLine],
      view: new View({ center: [0, 0], zoom: 2 }),
    });
    this.aoi = new AoiDrawing(this.map);
    this.map.addLayer(this.aoi.layer);
    this.map.on('pointermove', (evt) => {
      if (evt.dragging) return;
      this.callbacks.onPointer(this.pointerInfo(evt.coordinate));
    });
    this.map.getViewport()?.addEventListener('mouseleave', () => this.callbacks.onPointer(null));
    this.map.on('singleclick', (evt) => {
      if (this.aoi.active) return;
      const hit = this.map.forEachFeatureAtPixel(evt.pixel, (f, layer) => (layer && layer.get('resultId') ? f : undefined));
      if (hit) {
        const props = { ...hit.getProperties() };
        delete props.geometry;
        this.popup.setPosition(evt.coordinate);
        this.callbacks.onFeatureClick(props, evt.coordinate);
      } else {
        this.popup.setPosition(undefined);
        this.callbacks.onFeatureClick(null, null);
      }
    });
  }

  private pointerInfo(coord: Coordinate): PointerInfo | null {
    const proj = this.viewProjection;
    if (!proj) return null;
    let lonLat: [number, number] | null = null;
    if (proj.getUnits() !== 'pixels') {
      const ll = toLonLat(coord, proj);
      lonLat = [ll[0]!, ll[1]!];
    }
    return { x: coord[0]!, y: coord[1]!, crsCode: proj.getCode(), lonLat };
  }

  closePopup(): void {
    this.popup.setPosition(undefined);
  }

  get projectionCode(): string | null {
    return this.viewProjection?.getCode() ?? null;
  }

  private setViewProjection(projection: Projection, extent: OlExtent): void {
    this.viewProjection = projection;
    // No ground distances in pixel space: no scale bar.
    const controls = this.map.getControls();
    const shown = controls.getArray().includes(this.scaleLine);
    if (projection.getUnits() === 'pixels' && shown) controls.remove(this.scaleLine);
    else if (projection.getUnits() !== 'pixels' && !shown) controls.push(this.scaleLine);
    const view = new View({ projection, maxZoom: 28, constrainResolution: false });
    this.map.setView(view);
    view.fit(extent, { size: this.map.getSize(), padding: [20, 20, 20, 20] });
  }

  addRaster(model: RasterLayer): void {
    const projection = projectionFor(model.info, model.id, model.tileGrid);
    const grid = new TileGrid({
      extent: model.tileGrid.extent,
      origin: model.tileGrid.origin,
      resolutions: model.tileGrid.resolutions,
      tileSize: model.tileGrid.tileSize,
    });
    const source = new TileImage({
      projection,
      tileGrid: grid,
      crossOrigin: null,
      interpolate: true,
      transition: 0, // tiles appear at once: no fade-in over the data
      tileUrlFunction: (tileCoord) => {
        const [z, x, y] = tileCoord;
        return this.callbacks.resourceUrl(resourcePath({ kind: 'tile', layerId: model.id, z: z!, x: x!, y: y! }));
      },
    });
    source.on('tileloadend', () => this.tilesLoaded++);
    source.on('tileloaderror', () => {
      this.tileErrors++;
      this.callbacks.onTileError(model.id);
    });
    const layer = new TileLayer({ source, zIndex: this.rasters.size, properties: { layerId: model.id, name: model.name } });
    this.rasters.set(model.id, { model, projection, layer, flipY: model.tileGrid.mode === 'pixel' });
    this.map.addLayer(layer);
    // Pixel space cannot be reprojected: a raster without georeferencing gets a view of its own, and so does
    // a georeferenced one opened while the view is in pixel space.
    const pixelView = this.viewProjection?.getUnits() === 'pixels';
    if (!this.viewProjection || this.rasters.size === 1 || model.tileGrid.mode === 'pixel' || pixelView) {
      this.setViewProjection(projection, model.tileGrid.extent);
    } else this.zoomToRaster(model.id);
  }

  private extentInView(extent: OlExtent, from: ProjectionLike, to: ProjectionLike): OlExtent {
    return from === to ? extent : transformExtent(extent, from, to, 16);
  }

  removeRaster(layerId: string): void {
    const entry = this.rasters.get(layerId);
    if (!entry) return;
    this.map.removeLayer(entry.layer);
    this.rasters.delete(layerId);
    for (const [id, result] of this.results) if (result.summary.layerId === layerId) this.removeResult(id);
    if (this.rasters.size === 0) this.viewProjection = null;
    else if (![...this.rasters.values()].some((r) => r.projection.getCode() === this.viewProjection?.getCode())) {
      // The view's CRS came from the removed raster: take the CRS of the top raster left.
      const top = [...this.rasters.values()].sort((a, b) => (b.layer.getZIndex() ?? 0) - (a.layer.getZIndex() ?? 0))[0]!;
      this.setViewProjection(top.projection, top.model.tileGrid.extent);
    }
    this.clearAoi();
  }

  setRasterVisible(layerId: string, visible: boolean): void {
    this.rasters.get(layerId)?.layer.setVisible(visible);
  }

  setRasterOpacity(layerId: string, opacity: number): void {
    this.rasters.get(layerId)?.layer.setOpacity(opacity);
  }

  /** `ids` top first. */
  setRasterOrder(ids: string[]): void {
    ids.forEach((id, i) => this.rasters.get(id)?.layer.setZIndex(ids.length - i));
  }

  zoomToRaster(layerId: string): void {
    const entry = this.rasters.get(layerId);
    const view = this.map.getView();
    if (!entry || !this.viewProjection) return;
    view.fit(this.extentInView(entry.model.tileGrid.extent, entry.projection, this.viewProjection), { size: this.map.getSize(), padding: [20, 20, 20, 20] });
  }

  setBasemap(visible: boolean): void {
    this.basemap.setVisible(visible);
  }

  /** The current view as an extent in a raster's CRS (the "current view" AOI). */
  viewExtentIn(layerId: string): [number, number, number, number] | null {
    const entry = this.rasters.get(layerId);
    if (!entry || !this.viewProjection) return null;
    const viewExtent = this.map.getView().calculateExtent(this.map.getSize());
    const e = this.extentInView(viewExtent, this.viewProjection, entry.projection);
    const extent: [number, number, number, number] = [e[0]!, e[1]!, e[2]!, e[3]!];
    return entry.flipY ? flip(extent) : extent;
  }

  private styleFor(color: string): Style {
    return new Style({ stroke: new Stroke({ color, width: 2 }), fill: new Fill({ color: hexToRgba(color, 0.28) }) });
  }

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
      { dataProjection: projection, featureProjection: this.viewProjection ?? projection },
    ) as Feature<Geometry>[];
  }

  showResult(summary: ResultSummary, features: ResultFeatures, color: string): void {
    const raster = this.rasters.get(summary.layerId);
    if (!raster) return;
    const existing = this.results.get(summary.id);
    if (existing) {
      existing.summary = summary;
      existing.layer.getSource()!.clear();
      existing.layer.getSource()!.addFeatures(this.readFeatures(features, existing.projection, raster.flipY));
      return;
    }
    const source = new VectorSource<Feature<Geometry>>({ features: this.readFeatures(features, raster.projection, raster.flipY) });
    const layer = new VectorLayer({ source, style: this.styleFor(color), zIndex: 1000 + this.results.size, properties: { resultId: summary.id } });
    this.results.set(summary.id, { resultId: summary.id, projection: raster.projection, flipY: raster.flipY, layer, heatmap: null, summary });
    this.map.addLayer(layer);
  }

  setResultVisible(resultId: string, visible: boolean): void {
    this.results.get(resultId)?.layer.setVisible(visible);
  }

  removeResult(resultId: string): void {
    const entry = this.results.get(resultId);
    if (!entry) return;
    this.map.removeLayer(entry.layer);
    if (entry.heatmap) this.map.removeLayer(entry.heatmap);
    this.results.delete(resultId);
    this.closePopup();
  }

  setHeatmap(resultId: string, visible: boolean): void {
    const entry = this.results.get(resultId);
    if (!entry) return;
    if (visible && !entry.heatmap && entry.summary.probability) {
      entry.heatmap = new ImageLayer({
        source: new ImageStatic({
          url: this.callbacks.resourceUrl(resourcePath({ kind: 'probability', resultId })),
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

  zoomToResult(resultId: string): void {
    const entry = this.results.get(resultId);
    const extent = entry?.layer.getSource()?.getExtent();
    if (extent && Number.isFinite(extent[0])) this.map.getView().fit(extent, { size: this.map.getSize(), padding: [40, 40, 40, 40], maxZoom: 22 });
  }

  /** Lets the analyst draw a rectangle or polygon; resolves with the AOI in the raster's CRS (`aoiDrawing`). */
  drawAoi(layerId: string, kind: 'rectangle' | 'polygon', done: (aoi: Aoi | null) => void): void {
    this.closePopup();
    this.aoi.start(kind, this.viewProjection, this.rasters.get(layerId), done);
  }

  cancelDraw(): void {
    this.aoi.cancel();
  }

  clearAoi(): void {
    this.aoi.clear();
  }

  /** Snapshot for the end-to-end test hook. */
  testState(): Record<string, unknown> {
    const view = this.map.getView();
    const size = this.map.getSize() ?? [0, 0];
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
    return {
      projection: this.viewProjection?.getCode() ?? null,
      center: view.getCenter(),
      resolution: view.getResolution(),
      size,
      extent: this.viewProjection ? view.calculateExtent(size) : null,
      basemap: this.basemap.getVisible(),
      rasters: [...this.rasters.values()].map((r) => ({ id: r.model.id, name: r.model.name, visible: r.layer.getVisible(), opacity: r.layer.getOpacity(), zIndex: r.layer.getZIndex(), projection: r.projection.getCode() })),
      results,
      tilesLoaded: this.tilesLoaded,
      tileErrors: this.tileErrors,
    };
  }

  /** Map coordinate (view CRS) under a pixel of the map element, for tests. */
  coordinateAt(pixel: [number, number]): number[] | null {
    return this.map.getCoordinateFromPixel(pixel) ?? null;
  }

  pixelAt(coordinate: [number, number]): number[] | null {
    return this.map.getPixelFromCoordinate(coordinate) ?? null;
  }

  dispose(): void {
    this.map.setTarget(undefined);
  }
}
