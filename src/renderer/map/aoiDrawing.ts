/**
 * @module renderer/map/aoiDrawing
 * Drawing an area of interest on the map: a rectangle or a polygon, drawn in the view's projection and handed
 * back in the raster's CRS (pixel rasters are shown with y flipped, so their AOIs are flipped back). While a
 * tool is selected, clicks draw and do not open the feature popup (`active`).
 */
import type OlMap from 'ol/Map';
import VectorLayer from 'ol/layer/Vector';
import VectorSource from 'ol/source/Vector';
import Draw, { createBox } from 'ol/interaction/Draw';
import { Fill, Stroke, Style } from 'ol/style';
import type Projection from 'ol/proj/Projection';
import type Feature from 'ol/Feature';
import type { Geometry, Polygon } from 'ol/geom';
import type { Aoi } from '../../shared/api/dto';

export type Extent4 = [number, number, number, number];

/** An extent of a raster shown with y flipped (pixel rasters), or back. */
export const flipExtent = (extent: Extent4): Extent4 => [extent[0], -extent[3], extent[2], -extent[1]];

export class AoiDrawing {
  private readonly source = new VectorSource<Feature<Geometry>>();
  /** The layer showing the drawn AOI (added to the map by its owner). */
  readonly layer: VectorLayer<VectorSource<Feature<Geometry>>>;
  private draw: Draw | null = null;
  private tool = false;

  constructor(private readonly map: OlMap) {
    this.layer = new VectorLayer({
      source: this.source,
      zIndex: 5000,
      style: new Style({ stroke: new Stroke({ color: '#ffd400', width: 2, lineDash: [8, 6] }), fill: new Fill({ color: 'rgba(255, 212, 0, 0.06)' }) }),
    });
  }

  /** A tool is selected or a drawing is under way: map clicks belong to it. */
  get active(): boolean {
    return this.tool || this.draw !== null;
  }

  /** Selects the tool and lets the analyst draw; `done` gets the AOI in the raster's CRS (null without a raster or view). */
  start(
    kind: 'rectangle' | 'polygon',
    viewProjection: Projection | null,
    raster: { projection: Projection; flipY: boolean } | undefined,
    done: (aoi: Aoi | null) => void,
  ): void {
    this.cancel();
    this.source.clear();
    this.tool = true;
    if (!raster || !viewProjection) return done(null);
    const draw = new Draw({ source: this.source, type: kind === 'rectangle' ? 'Circle' : 'Polygon', geometryFunction: kind === 'rectangle' ? createBox() : undefined });
    draw.on('drawend', (evt) => {
      const geom = (evt.feature.getGeometry() as Polygon).clone().transform(viewProjection, raster.projection) as Polygon;
      this.cancel();
      if (kind === 'rectangle') {
        const e = geom.getExtent();
        const extent: Extent4 = [e[0]!, e[1]!, e[2]!, e[3]!];
        done({ kind: 'rectangle', extent: raster.flipY ? flipExtent(extent) : extent });
      } else {
        const ring = geom.getCoordinates()[0]!.map((c) => [c[0]!, raster.flipY ? -c[1]! : c[1]!] as [number, number]);
        done({ kind: 'polygon', ring });
      }
    });
    this.draw = draw;
    this.map.addInteraction(draw);
  }

  /** Stops the drawing under way (the tool stays selected). */
  cancel(): void {
    if (this.draw) this.map.removeInteraction(this.draw);
    this.draw = null;
  }

  /** Deselects the tool and removes the drawn AOI. */
  clear(): void {
    this.tool = false;
    this.cancel();
    this.source.clear();
  }
}
