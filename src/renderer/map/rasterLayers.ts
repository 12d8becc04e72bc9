/**
 * @module renderer/map/rasterLayers
 * The scenes on the map: one tile layer per raster, in its own CRS. The view takes the CRS of the first raster
 * (others are reprojected on the fly); a raster without georeferencing, or one opened while the view is in
 * pixel space, gets a view of its own. Owns the view's CRS and the scale bar that only makes sense outside
 * pixel space.
 */
import type OlMap from 'ol/Map';
import View from 'ol/View';
import TileLayer from 'ol/layer/Tile';
import TileImage from 'ol/source/TileImage';
import TileGrid from 'ol/tilegrid/TileGrid';
import type ScaleLine from 'ol/control/ScaleLine';
import { transformExtent, type ProjectionLike } from 'ol/proj';
import type Projection from 'ol/proj/Projection';
import type { Extent as OlExtent } from 'ol/extent';
import { resourcePath } from '../../shared/api/resources';
import type { RasterLayer } from '../../shared/api/dto';
import { projectionFor } from './proj';
import { flipExtent as flip } from './aoiDrawing';

export interface RasterEntry {
  model: RasterLayer;
  projection: Projection;
  layer: TileLayer<TileImage>;
  /**
   * Not georeferenced: the map shows (column, −row) so the image is upright (tile grid `pixel` mode), while
   * results and AOIs use GDAL's (column, row). Their y is negated on the way in and out.
   */
  flipY: boolean;
}

export interface RasterCallbacks {
  resourceUrl(path: string): string;
  onTileError(layerId: string): void;
}

function extentInView(extent: OlExtent, from: ProjectionLike, to: ProjectionLike): OlExtent {
  return from === to ? extent : transformExtent(extent, from, to, 16);
}

export class RasterLayers {
  private readonly rasters = new Map<string, RasterEntry>();
  private viewCrs: Projection | null = null;
  tilesLoaded = 0;
  tileErrors = 0;

  constructor(
    private readonly map: OlMap,
    private readonly scaleLine: ScaleLine,
    private readonly callbacks: RasterCallbacks,
  ) {}

  /** The view's CRS (the first raster's); null while no raster is open. */
  get viewProjection(): Projection | null {
    return this.viewCrs;
  }

  get(layerId: string): RasterEntry | undefined {
    return this.rasters.get(layerId);
  }

  private setViewProjection(projection: Projection, extent: OlExtent): void {
    this.viewCrs = projection;
    // No ground distances in pixel space: no scale bar.
    const controls = this.map.getControls();
    const shown = controls.getArray().includes(this.scaleLine);
    if (projection.getUnits() === 'pixels' && shown) controls.remove(this.scaleLine);
    else if (projection.getUnits() !== 'pixels' && !shown) controls.push(this.scaleLine);
    const view = new View({ projection, maxZoom: 28, constrainResolution: false });
    this.map.setView(view);
    view.fit(extent, { size: this.map.getSize(), padding: [20, 20, 20, 20] });
  }

  add(model: RasterLayer): void {
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
    const pixelView = this.viewCrs?.getUnits() === 'pixels';
    if (!this.viewCrs || this.rasters.size === 1 || model.tileGrid.mode === 'pixel' || pixelView) {
      this.setViewProjection(projection, model.tileGrid.extent);
    } else this.zoomTo(model.id);
  }

  remove(layerId: string): void {
    const entry = this.rasters.get(layerId);
    if (!entry) return;
    this.map.removeLayer(entry.layer);
    this.rasters.delete(layerId);
    if (this.rasters.size === 0) this.viewCrs = null;
    else if (![...this.rasters.values()].some((r) => r.projection.getCode() === this.viewCrs?.getCode())) {
      // The view's CRS came from the removed raster: take the CRS of the top raster left.
      const top = [...this.rasters.values()].sort((a, b) => (b.layer.getZIndex() ?? 0) - (a.layer.getZIndex() ?? 0))[0]!;
      this.setViewProjection(top.projection, top.model.tileGrid.extent);
    }
  }

  setVisible(layerId: string, visible: boolean): void {
    this.rasters.get(layerId)?.layer.setVisible(visible);
  }

  setOpacity(layerId: string, opacity: number): void {
    this.rasters.get(layerId)?.layer.setOpacity(opacity);
  }

  /** `ids` top first. */
  setOrder(ids: string[]): void {
    ids.forEach((id, i) => this.rasters.get(id)?.layer.setZIndex(ids.length - i));
  }

  zoomTo(layerId: string): void {
    const entry = this.rasters.get(layerId);
    const view = this.map.getView();
    if (!entry || !this.viewCrs) return;
    view.fit(extentInView(entry.model.tileGrid.extent, entry.projection, this.viewCrs), { size: this.map.getSize(), padding: [20, 20, 20, 20] });
  }

  /** The current view as an extent in a raster's CRS (the "current view" AOI). */
  viewExtentIn(layerId: string): [number, number, number, number] | null {
    const entry = this.rasters.get(layerId);
    if (!entry || !this.viewCrs) return null;
    const viewExtent = this.map.getView().calculateExtent(this.map.getSize());
    const e = extentInView(viewExtent, this.viewCrs, entry.projection);
    const extent: [number, number, number, number] = [e[0]!, e[1]!, e[2]!, e[3]!];
    return entry.flipY ? flip(extent) : extent;
  }

  /** Snapshot for the end-to-end test hook. */
  testState(): Record<string, unknown>[] {
    return [...this.rasters.values()].map((r) => ({ id: r.model.id, name: r.model.name, visible: r.layer.getVisible(), opacity: r.layer.getOpacity(), zIndex: r.layer.getZIndex(), projection: r.projection.getCode() }));
  }
}
