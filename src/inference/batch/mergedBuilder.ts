/**
 * @module inference/batch/mergedBuilder
 * Writes `merged.gpkg` one finished item at a time: each item's features (with `id` numbered on through the
 * layer, `source` = the scene, `question`) are appended to a GeoPackage in a hidden temporary folder of the output
 * folder, one OGR transaction per item, and the file is renamed into place by `finish` — so only one item's
 * features are ever in memory, whatever the number of scenes, and nobody sees a half-built merged.gpkg.
 *
 * Layers are in the first item's CRS; `add` answers false for an item in another CRS (the caller then merges
 * in EPSG:4326 instead, see `mergeResults`), unless the builder reprojects everything to a fixed CRS.
 * Items whose scene has no CRS (polygons in pixel or unreferenced coordinates) can be neither kept with nor
 * reprojected to the others: they go to a layer of their own per question, `<question layer>_no_crs`, without
 * a CRS, so one such scene never stops the merge of the rest.
 */
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import gdal from 'gdal-async';
import { SegEarthError } from '../../shared/errors.js';
import type { FeatureSet, VectorFeature } from '../../shared/featureSet.js';
import { reprojectFeatureSet } from '../../geo/reproject.js';
import { buildMemoryDataset } from '../../geo/writers/memoryDataset.js';
import { MERGED_FILE, questionLayerName } from './outputLayout.js';

/** Prefix of the builder's temporary folder in the output folder (left behind only by a killed process). */
export const MERGED_TEMP_PREFIX = `.segearth-tmp-${MERGED_FILE}-`;

/** Layer of merged.gpkg for question k's items whose scene has no CRS. */
export function noCrsLayerName(q: number, question: string): string {
  return `${questionLayerName(q, question)}_no_crs`;
}

/** How items are told apart by CRS (as the merge decides "one CRS or several"). */
export function crsKey(features: FeatureSet): string {
  return features.crsCode ?? features.crsWkt ?? 'none';
}

export class MergedBuilder {
  /** Features written per question (the next `id` is one more). */
  private readonly counts: number[];
  /** Features written per question into its `_no_crs` layer. */
  private readonly noCrsCounts: number[];
  private crs: { key: string; crsWkt: string | null; crsCode: string | null } | null = null;
  private fileCreated = false;

  private constructor(
    private readonly outputFolder: string,
    private readonly tempDir: string,
    private readonly questions: readonly string[],
    /** Reproject every item to this CRS (several CRSs merged); null: keep the items' own CRS. */
    private readonly reprojectTo: string | null,
  ) {
    this.counts = questions.map(() => 0);
    this.noCrsCounts = questions.map(() => 0);
  }

  static async create(outputFolder: string, questions: readonly string[], reprojectTo: string | null = null): Promise<MergedBuilder> {
    let tempDir: string;
    try {
      tempDir = await mkdtemp(join(outputFolder, MERGED_TEMP_PREFIX));
    } catch (cause) {
      throw new SegEarthError('OUTPUT_NOT_WRITABLE', `Cannot write ${MERGED_FILE} into ${outputFolder}.`, {
        hint: 'Check free disk space and permissions, then resume the batch.',
        path: join(outputFolder, MERGED_FILE),
        cause,
      });
    }
    return new MergedBuilder(outputFolder, tempDir, questions, reprojectTo);
  }

  private get tempPath(): string {
    return join(this.tempDir, MERGED_FILE);
  }

  get featureCount(): number {
    return [...this.counts, ...this.noCrsCounts].reduce((a, b) => a + b, 0);
  }

  /** Appends one item's features; false (nothing written) when the item is in another CRS than the first. */
  async add(scene: string, q: number, itemFeatures: FeatureSet): Promise<boolean> {
    const question = this.questions[q] ?? '';
    if (itemFeatures.crsWkt === null) {
      this.noCrsCounts[q] = await this.append(noCrsLayerName(q, question), scene, q, itemFeatures, this.noCrsCounts[q]!);
      return true;
    }
    const features = this.reprojectTo === null ? itemFeatures : reprojectFeatureSet(itemFeatures, this.reprojectTo);
    const key = crsKey(features);
    if (this.crs === null) this.crs = { key, crsWkt: features.crsWkt, crsCode: features.crsCode };
    else if (this.crs.key !== key) return false;
    this.counts[q] = await this.append(questionLayerName(q, question), scene, q, features, this.counts[q]!);
    return true;
  }

  /** Appends features numbered on from `lastId` (with `source`, `question`) to a layer; returns the last id. */
  private async append(layer: string, scene: string, q: number, features: FeatureSet, lastId: number): Promise<number> {
    if (features.features.length === 0) return lastId;
    const question = this.questions[q] ?? '';
    let id = lastId;
    const numbered: VectorFeature[] = features.features.map((f) => {
      id += 1;
      return { id, geometry: f.geometry, properties: { ...f.properties, id, source: scene, question } };
    });
    await this.write(layer, { crsWkt: features.crsWkt, crsCode: features.crsCode, features: numbered });
    return id;
  }

  /** ogr2ogr of one layer into the temporary GeoPackage: created by the first call, appended to after. */
  private async write(name: string, features: FeatureSet): Promise<void> {
    const memory = buildMemoryDataset([{ name, features }], { multi: true });
    try {
      // -gt unlimited: the item's features in one transaction.
      const args = ['-f', 'GPKG', '-nlt', 'MULTIPOLYGON', '-gt', 'unlimited'];
      if (this.fileCreated) args.push('-update', '-append', '-addfields');
      const out = await gdal.vectorTranslateAsync(this.tempPath, memory, args);
      out.close();
      this.fileCreated = true;
    } finally {
      memory.close();
    }
  }

  /** Adds the layers of questions without any feature, then renames the GeoPackage to `merged.gpkg`. */
  async finish(): Promise<{ path: string; featureCount: number }> {
    try {
      const present = new Set<string>();
      if (this.fileCreated) {
        const ds = await gdal.openAsync(this.tempPath);
        for (const layer of ds.layers) present.add(layer.name.toLowerCase());
        ds.close();
      }
      const crs = this.crs ?? { crsWkt: null, crsCode: null };
      for (const [q, question] of this.questions.entries()) {
        if (present.has(questionLayerName(q, question).toLowerCase())) continue;
        await this.write(questionLayerName(q, question), { crsWkt: crs.crsWkt, crsCode: crs.crsCode, features: [] });
      }
      const path = join(this.outputFolder, MERGED_FILE);
      await rename(this.tempPath, path);
      return { path, featureCount: this.featureCount };
    } finally {
      await this.discard();
    }
  }

  /** Removes the temporary folder (and the unfinished GeoPackage in it). */
  async discard(): Promise<void> {
    await rm(this.tempDir, { recursive: true, force: true });
  }
}
