/**
 * @module geo/writers/shapefileFieldNames
 * Shapefile (dBASE) field names hold at most 10 characters. SegEarth's own attributes get fixed, documented
 * short names; any other property longer than 10 characters is cut to 10, and a clash with a name already
 * used gets a numeric suffix (`_1`, `_2`...) within the 10 characters.
 *
 * | property       | Shapefile field |
 * |----------------|-----------------|
 * | id             | id              |
 * | area_m2        | area_m2         |
 * | perimeter_m    | perim_m         |
 * | probability    | prob            |
 * | query          | query           |
 * | other > 10 ch. | first 10 ch. (`_1`... on clash) |
 */

export const SHAPEFILE_FIELD_NAMES: Readonly<Record<string, string>> = {
  id: 'id',
  area_m2: 'area_m2',
  perimeter_m: 'perim_m',
  probability: 'prob',
  query: 'query',
};

export const SHAPEFILE_FIELD_MAX = 10;

/** Returns a mapping function property → unique Shapefile field name for the given property names. */
export function shapefileFieldNamer(properties: Iterable<string>): (property: string) => string {
  const mapping = new Map<string, string>();
  const used = new Set<string>();
  for (const property of properties) {
    if (mapping.has(property)) continue;
    const base = SHAPEFILE_FIELD_NAMES[property] ?? property.slice(0, SHAPEFILE_FIELD_MAX);
    let name = base;
    for (let n = 1; used.has(name.toLowerCase()); n++) {
      const suffix = `_${n}`;
      name = base.slice(0, SHAPEFILE_FIELD_MAX - suffix.length) + suffix;
    }
    used.add(name.toLowerCase());
    mapping.set(property, name);
  }
  return (property) => mapping.get(property) ?? property.slice(0, SHAPEFILE_FIELD_MAX);
}
