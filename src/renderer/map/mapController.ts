/**
 * @module renderer/map/mapController
 * The OpenLayers map, driven imperatively from React. Composes the scenes (`rasterLayers`: tile layers in their
 * own CRS, the view's CRS), the answers (`resultLayers`: polygons and probability heatmaps) and AOI drawing
 * (`aoiDrawing`), and owns what belongs to the map as a whole: the optional OSM basemap (reprojected on the
 * fly), pointer coordinates and the feature popup.
 */
import OlMap from 'ol/Map';
import View from 'ol/View';
import TileLayer from 'ol/layer/Tile';
import OSM from 'ol/source/OSM';
import Overlay from 'ol/Overlay';
import ScaleLine from 'ol/control/ScaleLine';
import Zoom from 'ol/control/Zoom';
import Attribution from 'ol/control/Attribution';
import { toLonLat } from 'ol/proj';
import type { Coordinate } from 'ol/coordinate';
import type { Aoi, RasterLayer, ResultFeatures, ResultSummary } from '../../shared/api/dto';
import { AoiDrawing } from './aoiDrawing';
import { RasterLayers } from './rasterLayers';
import { ResultLayers } from './resultLayers';

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

export class MapController {
  readonly map: OlMap;
  private readonly rasters: RasterLayers;
  private readonly results: ResultLayers;
  private readonly basemap: TileLayer<OSM>;
  private readonly popup: Overlay;
  private readonly aoi: AoiDrawing;

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
    const scaleLine = new ScaleLine({ units: 'metric', bar: true, text: true, minWidth: 100 });
    this.map = new OlMap({
      target,
      layers: [this.basemap],
      overlays: [this.popup],
      controls: [new Zoom(), new Attribution({ collapsible: true }), scaleLine],
      view: new View({ center: [0, 0], zoom: 2 }),
    });
    this.rasters = new RasterLayers(this.map, scaleLine, callbacks);
    this.results = new ResultLayers(this.map, callbacks.resourceUrl, () => this.rasters.viewProjection);
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
    const proj = this.rasters.viewProjection;
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
    return this.rasters.viewProjection?.getCode() ?? null;
  }

  addRaster(model: RasterLayer): void {
    this.rasters.add(model);
  }

  /** Removes a scene with its results and any drawn AOI. */
  removeRaster(layerId: string): void {
    if (!this.rasters.get(layerId)) return;
    for (const id of this.results.idsOfLayer(layerId)) this.removeResult(id);
    this.rasters.remove(layerId);
    this.clearAoi();
  }

  setRasterVisible(layerId: string, visible: boolean): void {
    this.rasters.setVisible(layerId, visible);
  }

  setRasterOpacity(layerId: string, opacity: number): void {
    this.rasters.setOpacity(layerId, opacity);
  }

  /** `ids` top first. */
  setRasterOrder(ids: string[]): void {
    this.rasters.setOrder(ids);
  }

  zoomToRaster(layerId: string): void {
    this.rasters.zoomTo(layerId);
  }

  setBasemap(visible: boolean): void {
    this.basemap.setVisible(visible);
  }

  /** The current view as an extent in a raster's CRS (the "current view" AOI). */
  viewExtentIn(layerId: string): [number, number, number, number] | null {
    return this.rasters.viewExtentIn(layerId);
  }

  showResult(summary: ResultSummary, features: ResultFeatures, color: string): void {
    const raster = this.rasters.get(summary.layerId);
    if (raster) this.results.show(raster, summary, features, color);
  }

  setResultVisible(resultId: string, visible: boolean): void {
    this.results.setVisible(resultId, visible);
  }

  removeResult(resultId: string): void {
    if (this.results.remove(resultId)) this.closePopup();
  }

  setHeatmap(resultId: string, visible: boolean): void {
    this.results.setHeatmap(resultId, visible);
  }

  zoomToResult(resultId: string): void {
    this.results.zoomTo(resultId);
  }

  /** Lets the analyst draw a rectangle or polygon; resolves with the AOI in the raster's CRS (`aoiDrawing`). */
  drawAoi(layerId: string, kind: 'rectangle' | 'polygon', done: (aoi: Aoi | null) => void): void {
    this.closePopup();
    this.aoi.start(kind, this.rasters.viewProjection, this.rasters.get(layerId), done);
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
    const viewProjection = this.rasters.viewProjection;
    return {
      projection: viewProjection?.getCode() ?? null,
      center: view.getCenter(),
      resolution: view.getResolution(),
      size,
      extent: viewProjection ? view.calculateExtent(size) : null,
      basemap: this.basemap.getVisible(),
      rasters: this.rasters.testState(),
      results: this.results.testState(),
      tilesLoaded: this.rasters.tilesLoaded,
      tileErrors: this.rasters.tileErrors,
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
